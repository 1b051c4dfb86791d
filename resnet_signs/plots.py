"""Figures for the notebook. Plots consume data (histories, labels, images) and never train.

Every function returns its ``matplotlib.figure.Figure`` and gives it a title, so each figure
says what it shows in words; curves differ by line style and marker as well as colour, and
the confusion matrix writes its counts in the cells, so nothing is read from colour alone.

Labels may be given as class indices of shape (m,) or (1, m) (the course's ``Y`` layout), or
as one-hot vectors / predicted probabilities of shape (m, classes), which are ``argmax``-ed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.ticker import MaxNLocator

from resnet_signs import i18n
from resnet_signs.errors import UsageError
from resnet_signs.i18n import gettext as _

#: The SIGNS classes are the number of raised fingers.
CLASSES = 6


#: Fonts with the glyphs of each language, as Debian's fonts-noto-cjk names them (first found wins).
CJK_FONTS = {"zh_CN": ("Noto Sans CJK SC", "Noto Sans SC"), "zh_TW": ("Noto Sans CJK TC", "Noto Sans TC")}


def configure_fonts(language: str | None = None) -> str | None:
    """Let matplotlib draw ``language``'s labels (default: the current one, :mod:`resnet_signs.i18n`).

    Latin text keeps the default font; Chinese glyphs fall back to a Noto CJK font (no empty
    boxes). Fonts installed after matplotlib built its font cache are found too.

    Returns:
        The CJK family now in use, or ``None`` (English, or no CJK font installed).
    """
    from matplotlib import font_manager, rcParams

    language = i18n.normalise(language or i18n.current())
    wanted = CJK_FONTS.get(language)
    if not wanted:
        return None
    names = {f.name for f in font_manager.fontManager.ttflist}
    if not names.intersection(wanted):  # installed after the cache was built: look once more
        for path in font_manager.findSystemFonts():
            if "cjk" in path.lower() or "notosanssc" in path.lower() or "notosanstc" in path.lower():
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        names = {f.name for f in font_manager.fontManager.ttflist}
    family = next((name for name in wanted if name in names), None)
    if family is None:
        return None
    # A list of families: matplotlib takes each glyph from the first that has it, so Latin text
    # keeps DejaVu Sans and Chinese comes from the CJK font.
    rcParams["font.family"] = ["DejaVu Sans", family]
    return family


def class_indices(y, name: str = "labels") -> np.ndarray:
    """Class indices of shape (m,) from indices, the course's (1, m) row, or one-hot/probabilities.

    Raises:
        UsageError: ``y`` has another shape.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[0] == 1:
        y = y[0]
    elif y.ndim == 2:
        y = y.argmax(axis=1)
    if y.ndim != 1:
        raise UsageError(
            f"{name} must be class indices (m,) or (1, m), or one-hot/probabilities (m, classes). "
            f"Received: shape={y.shape}"
        )
    return y.astype(int)


def plot_history(history, ax=None):
    """Loss and accuracy per epoch, for training and (when present) validation data.

    Args:
        history: a ``keras.callbacks.History``-like object with a ``.history`` dict, or the dict
            itself, holding per-epoch lists ``loss``, ``accuracy`` and optionally ``val_loss``,
            ``val_accuracy``.
        ax: ``None`` (draw loss and accuracy side by side), one ``Axes`` (accuracy only) or a
            pair of ``Axes`` (loss, accuracy).

    Returns:
        The figure.

    Raises:
        UsageError: the history holds no per-epoch ``loss`` or ``accuracy``.
    """
    curves = getattr(history, "history", history)
    if not isinstance(curves, Mapping) or not any(len(curves.get(k) or ()) for k in ("loss", "accuracy")):
        raise UsageError("history has no per-epoch 'loss' or 'accuracy': pass what train() or model.fit() returned")
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    elif isinstance(ax, (Sequence, np.ndarray)):
        axes = list(ax)
        fig = axes[0].figure
    else:
        axes = [ax]
        fig = ax.figure
    metrics = ("loss", "accuracy") if len(axes) == 2 else ("accuracy",)
    for axis, metric in zip(axes, metrics, strict=False):
        for key, label, style in ((metric, "training {metric}", "-o"), (f"val_{metric}", "validation {metric}", "--s")):
            values = curves.get(key)
            if values:
                axis.plot(np.arange(1, len(values) + 1), values, style, label=i18n.format(label, metric=_(metric)),
                          markersize=4)
        axis.set_xlabel(_("epoch"))
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel(_(metric))
        axis.set_title(_(f"{metric.capitalize()} per epoch"))
        if metric == "accuracy":
            axis.set_ylim(0, 1.02)
        axis.grid(alpha=0.3)
        axis.legend()
    return fig


def confusion_matrix(y_true, y_pred, classes: int = CLASSES) -> np.ndarray:
    """Counts ``[true class, predicted class]`` as an integer array of shape (classes, classes).

    Raises:
        UsageError: the label arrays differ in length or hold a class outside ``0..classes-1``.
    """
    t, p = class_indices(y_true, "y_true"), class_indices(y_pred, "y_pred")
    if len(t) != len(p):
        raise UsageError(f"y_true and y_pred must have the same length. Received: {len(t)} and {len(p)}")
    for name, y in (("y_true", t), ("y_pred", p)):
        if len(y) and (y.min() < 0 or y.max() >= classes):
            raise UsageError(f"{name} holds classes outside 0..{classes - 1}. Received: {sorted(set(y.tolist()))}")
    matrix = np.zeros((classes, classes), dtype=int)
    np.add.at(matrix, (t, p), 1)
    return matrix


def plot_confusion_matrix(y_true, y_pred, ax=None, classes: int = CLASSES):
    """The confusion matrix with its counts written in the cells.

    Args:
        y_true: true labels (see the module docstring for the accepted layouts).
        y_pred: predicted labels or probabilities.
        ax: the ``Axes`` to draw on; a new figure when ``None``.
        classes: number of classes.

    Returns:
        The figure.
    """
    matrix = confusion_matrix(y_true, y_pred, classes)
    total = int(matrix.sum())
    accuracy = np.trace(matrix) / total if total else 0.0
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.6, 4.2), layout="constrained")
    else:
        fig = ax.figure
    ax.imshow(matrix, cmap="Blues")
    threshold = matrix.max() / 2 if total else 0
    for i in range(classes):
        for j in range(classes):
            colour = "white" if matrix[i, j] > threshold else "black"
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=colour)
    ax.set_xticks(range(classes))
    ax.set_yticks(range(classes))
    ax.set_xlabel(_("predicted number of fingers"))
    ax.set_ylabel(_("true number of fingers"))
    ax.set_title(i18n.format("Confusion matrix: {total} images, accuracy {accuracy}", total=total,
                             accuracy=f"{accuracy:.1%}"))
    return fig


def _as_images(x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise UsageError(f"x must be a batch of images of shape (m, height, width, 3). Received: shape={x.shape}")
    return x if x.dtype == np.uint8 else np.clip(x, 0.0, 1.0)


def show_examples(x, y, n: int = 6):
    """The first ``n`` images, each titled with its label.

    Args:
        x: images of shape (m, height, width, 3), ``uint8`` or floats in [0, 1].
        y: their labels (indices, the course's (1, m) row, or one-hot).
        n: at most this many images are shown.

    Returns:
        The figure.

    Raises:
        UsageError: the images and labels disagree in number, or ``n`` is not positive.
    """
    images = _as_images(x)
    labels = class_indices(y, "y")
    if len(images) != len(labels):
        raise UsageError(f"x and y must hold the same number of images. Received: {len(images)} and {len(labels)}")
    _check_n(n)
    shown = min(n, len(images))
    fig, axes = plt.subplots(1, shown, figsize=(1.9 * shown, 2.2), layout="constrained", squeeze=False)
    for index, axis in enumerate(axes[0]):
        axis.imshow(images[index].squeeze())
        finger = "#{index}: {label} finger" if labels[index] == 1 else "#{index}: {label} fingers"
        axis.set_title(i18n.format(finger, index=index, label=labels[index]), fontsize=9)
        axis.axis("off")
    fig.suptitle(i18n.format("The first {shown} of {total} images, with their labels", shown=shown, total=len(images)))
    return fig


def _check_n(n) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise UsageError(f"n must be a positive integer. Received: n={n!r}")


def show_misclassified(x, y_true, y_pred, n: int = 6):
    """The first ``n`` images whose prediction is wrong, each titled with its true and predicted class.

    Args:
        x: images of shape (m, height, width, 3), ``uint8`` or floats in [0, 1].
        y_true: true labels.
        y_pred: predicted labels or probabilities.
        n: at most this many images are shown.

    Returns:
        The figure (one line of text when every prediction is right).

    Raises:
        UsageError: the images and labels disagree in number, or ``n`` is not positive.
    """
    images = _as_images(x)
    t, p = class_indices(y_true, "y_true"), class_indices(y_pred, "y_pred")
    if not len(images) == len(t) == len(p):
        raise UsageError(
            f"x, y_true and y_pred must hold the same number of images. Received: {len(images)}, {len(t)}, {len(p)}"
        )
    _check_n(n)
    wrong = np.flatnonzero(t != p)
    shown = wrong[:n]
    if len(shown) == 0:
        fig, ax = plt.subplots(figsize=(6, 1), layout="constrained")
        ax.axis("off")
        ax.set_title(i18n.format("No misclassified images: all {total} predictions are correct", total=len(t)))
        return fig
    fig, axes = plt.subplots(1, len(shown), figsize=(1.9 * len(shown), 2.4), layout="constrained", squeeze=False)
    for axis, index in zip(axes[0], shown, strict=True):
        axis.imshow(images[index].squeeze())
        axis.set_title(i18n.format("#{index}: true {true}\npredicted {predicted}", index=index, true=t[index],
                                   predicted=p[index]), fontsize=9)
        axis.axis("off")
    fig.suptitle(i18n.format("{wrong} of {total} images misclassified (first {shown} shown)", wrong=len(wrong),
                             total=len(t), shown=len(shown)))
    return fig


def show_prediction(image, probabilities, title: str = "Your image"):
    """An image next to the model's probability for each class.

    Args:
        image: one image (height, width, 3), ``uint8`` or floats in [0, 1].
        probabilities: the model's output for it, shape (classes,) or (1, classes).
        title: what the image is.

    Returns:
        The figure, titled with the predicted class and its probability.
    """
    probs = np.asarray(probabilities, dtype=float).reshape(-1)
    image = _as_images(np.asarray(image)[None])[0]
    predicted = int(probs.argmax())
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(7, 2.8), layout="constrained", gridspec_kw={"width_ratios": [1, 1.6]}
    )
    left.imshow(image)
    left.set_title(_(title))
    left.axis("off")
    bars = right.barh(range(len(probs)), probs, color="lightgray", edgecolor="black")
    bars[predicted].set_hatch("//")
    for k, value in enumerate(probs):
        right.text(min(value + 0.02, 0.85), k, f"{value:.2f}", va="center")
    right.set_yticks(range(len(probs)))
    right.set_ylabel(_("number of fingers"))
    right.set_xlabel(_("probability"))
    right.set_xlim(0, 1)
    right.set_title(i18n.format("Predicted: {predicted} fingers (probability {probability})", predicted=predicted,
                                probability=f"{probs[predicted]:.2f}"))
    return fig


# --- Block diagrams ---------------------------------------------------------------------------

_COLOURS = {"conv": "#cfe2f3", "bn": "#fff2cc", "relu": "#f4cccc"}


def _conv(label: str) -> tuple[str, str]:
    return f"Conv2D\n{label}", "conv"


_BN = ("BatchNorm\naxis=3", "bn")
_RELU = ("ReLU", "relu")


def _main_path(first_conv: str) -> list[tuple[str, str]]:
    return [
        _conv(first_conv), _BN, _RELU,
        _conv("f×f, 'same'\nF2"), _BN, _RELU,
        _conv("1×1, F3"), _BN,
    ]  # fmt: skip


def draw_identity_block(ax=None):
    """Diagram of the identity block: three convolutions on the main path, the input as shortcut.

    Returns:
        The figure.
    """
    return _draw_block(
        ax,
        _main_path("1×1, F1"),
        [],
        "Identity block: the input skips the main path and is added before the last ReLU",
    )


def draw_convolutional_block(ax=None):
    """Diagram of the convolutional block: a strided 1x1 convolution + BatchNorm on the shortcut.

    Returns:
        The figure.
    """
    strided = _("1×1, stride s")
    return _draw_block(
        ax,
        _main_path(f"{strided}\nF1"),
        [_conv(f"{strided}\nF3"), _BN],
        "Convolutional block: a 1×1 convolution on the shortcut matches the shapes before the Add",
    )


def _box(ax, x, y, text, kind, width=0.86, height=0.62):
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.03",
            facecolor=_COLOURS.get(kind, "white"), edgecolor="black", linewidth=1,
        )
    )  # fmt: skip
    ax.text(x, y, text, ha="center", va="center", fontsize=7.5)


def _arrow(ax, start, end):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, linewidth=1, shrinkA=0, shrinkB=0))


def _draw_block(ax, main, shortcut, title):
    """Lay the main path on y=0 and the shortcut on y=1, joining at the Add before the final ReLU."""
    n = len(main)
    add_x, relu_x, out_x = n + 1.1, n + 2.1, n + 3.1
    if ax is None:
        fig, ax = plt.subplots(figsize=(13, 2.9), layout="constrained")
    else:
        fig = ax.figure
    half = 0.43
    ax.text(0, 0, "X\n= a[l]", ha="center", va="center", fontsize=9)
    _arrow(ax, (0.3, 0), (1 - half, 0))
    for i, (text, kind) in enumerate(main, start=1):
        _box(ax, i, 0, text, kind)
        _arrow(ax, (i + half, 0), ((i + 1 - half) if i < n else add_x - 0.25, 0))
    ax.add_patch(Circle((add_x, 0), 0.25, facecolor="white", edgecolor="black"))
    ax.text(add_x, 0, "+", ha="center", va="center", fontsize=13)
    ax.text(add_x, -0.45, "Add", ha="center", va="top", fontsize=7.5)
    _arrow(ax, (add_x + 0.25, 0), (relu_x - half, 0))
    _box(ax, relu_x, 0, "ReLU", "relu")
    _arrow(ax, (relu_x + half, 0), (out_x - 0.3, 0))
    ax.text(out_x, 0, "a[l+2]", ha="center", va="center", fontsize=9)

    # Shortcut: up from the input, along the top, through its own layers, down into the Add.
    top = 1.15
    ax.plot([0, 0], [0.3, top], color="black", linewidth=1)
    xs = [n / 2 + k * 1.2 - (len(shortcut) - 1) * 0.6 for k in range(len(shortcut))]  # centred
    x = 0.0
    for bx, (text, kind) in zip(xs, shortcut, strict=True):
        _arrow(ax, (x, top), (bx - half, top))
        _box(ax, bx, top, text, kind)
        x = bx + half
    ax.plot([x, add_x], [top, top], color="black", linewidth=1)
    _arrow(ax, (add_x, top), (add_x, 0.25))
    ax.text(n / 2 if not shortcut else 1.2, top + 0.12, _("shortcut (skip connection)"), ha="center", va="bottom",
            fontsize=8, style="italic")  # fmt: skip
    ax.text((1 + n) / 2, -0.5, _("main path"), ha="center", va="top", fontsize=8, style="italic")
    ax.set_xlim(-0.5, out_x + 0.5)
    ax.set_ylim(-0.8, top + 0.55)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(_(title), fontsize=10)
    return fig

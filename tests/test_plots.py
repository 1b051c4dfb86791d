"""resnet_signs.plots: every figure has the right axes, titles and data, and bad input is refused."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from resnet_signs import plots
from resnet_signs.errors import UsageError

HISTORY = {
    "loss": [1.8, 1.2, 0.7],
    "accuracy": [0.3, 0.6, 0.9],
    "val_loss": [1.9, 1.4, 0.9],
    "val_accuracy": [0.2, 0.5, 0.8],
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


class _History:  # what keras.callbacks.History and train() return
    def __init__(self, history):
        self.history = history


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_plot_history_draws_loss_and_accuracy_for_train_and_test():
    fig = plots.plot_history(_History(HISTORY))
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "Loss per epoch"
    assert acc_ax.get_title() == "Accuracy per epoch"
    assert [line.get_label() for line in loss_ax.lines] == ["training loss", "validation loss"]
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), HISTORY["val_accuracy"])
    np.testing.assert_array_equal(acc_ax.lines[0].get_xdata(), [1, 2, 3])
    # Training and test differ by line style, not only by colour.
    assert acc_ax.lines[0].get_linestyle() != acc_ax.lines[1].get_linestyle()


def test_plot_history_without_test_data_and_on_one_given_axes():
    _, ax = plt.subplots()
    fig = plots.plot_history({"loss": [1.0, 0.5], "accuracy": [0.4, 0.7]}, ax=ax)
    assert fig is ax.figure
    assert [line.get_label() for line in ax.lines] == ["training accuracy"]
    assert ax.get_title() == "Accuracy per epoch"


@pytest.mark.parametrize("history", [{}, {"loss": []}, [1, 2], None])
def test_plot_history_refuses_what_is_not_a_history(history):
    with pytest.raises(UsageError) as info:
        plots.plot_history(history)
    assert str(info.value) == (
        "history has no per-epoch 'loss' or 'accuracy': pass what train() or model.fit() returned"
    )


@pytest.mark.parametrize(
    "layout",
    [
        lambda y: y,  # indices (m,)
        lambda y: y[None, :],  # the course's (1, m)
        lambda y: np.eye(6)[y],  # one-hot (m, 6)
    ],
)
def test_confusion_matrix_counts_pairs_in_any_label_layout(layout):
    y_true = np.array([0, 1, 2, 2, 5, 5])
    y_pred = np.array([0, 2, 2, 2, 5, 1])
    matrix = plots.confusion_matrix(layout(y_true), layout(y_pred))
    expected = np.zeros((6, 6), int)
    for t, p in zip(y_true, y_pred, strict=True):
        expected[t, p] += 1
    np.testing.assert_array_equal(matrix, expected)


def test_plot_confusion_matrix_writes_the_counts_and_the_accuracy():
    y_true = np.repeat(np.arange(6), 2)
    probabilities = np.eye(6)[y_true] * 0.9 + 0.01
    probabilities[0] = np.eye(6)[3]  # one mistake: a 0 predicted as 3
    fig = plots.plot_confusion_matrix(y_true, probabilities)
    ax = fig.axes[0]
    assert ax.get_title() == "Confusion matrix: 12 images, accuracy 91.7%"
    assert ax.get_xlabel() == "predicted number of fingers"
    assert ax.get_ylabel() == "true number of fingers"
    texts = _texts(fig)
    assert len(texts) == 36
    assert texts[0 * 6 + 3] == "1" and texts[0] == "1" and texts[1 * 6 + 1] == "2"


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([0, 1], [0], "y_true and y_pred must have the same length. Received: 2 and 1"),
        ([0, 7], [0, 1], "y_true holds classes outside 0..5. Received: [0, 7]"),
        (np.zeros((2, 2, 2)), [0, 1], "y_true must be class indices (m,) or (1, m), or one-hot/probabilities "
         "(m, classes). Received: shape=(2, 2, 2)"),
    ],
)  # fmt: skip
def test_confusion_matrix_refuses_bad_labels(y_true, y_pred, message):
    with pytest.raises(UsageError) as info:
        plots.confusion_matrix(y_true, y_pred)
    assert str(info.value) == message


def test_show_misclassified_shows_only_the_wrong_ones_with_both_labels():
    x = np.random.default_rng(0).random((10, 8, 8, 3))
    y_true = np.arange(10) % 6
    y_pred = y_true.copy()
    y_pred[[2, 5, 7]] = [0, 1, 2]
    fig = plots.show_misclassified(x, y_true, y_pred, n=2)
    assert [ax.get_title() for ax in fig.axes] == ["#2: true 2\npredicted 0", "#5: true 5\npredicted 1"]
    assert fig._suptitle.get_text() == "3 of 10 images misclassified (first 2 shown)"


def test_show_misclassified_when_everything_is_right():
    x = np.zeros((4, 8, 8, 3), np.uint8)
    fig = plots.show_misclassified(x, [1, 2, 3, 4], [1, 2, 3, 4])
    assert fig.axes[0].get_title() == "No misclassified images: all 4 predictions are correct"


@pytest.mark.parametrize(
    ("x", "n", "message"),
    [
        (np.zeros((3, 8, 8, 3)), 6, "x, y_true and y_pred must hold the same number of images. Received: 3, 4, 4"),
        (np.zeros((4, 8, 8)), 6,
         "x must be a batch of images of shape (m, height, width, 3). Received: shape=(4, 8, 8)"),
        (np.zeros((4, 8, 8, 3)), 0, "n must be a positive integer. Received: n=0"),
    ],
)
def test_show_misclassified_refuses_bad_input(x, n, message):
    with pytest.raises(UsageError) as info:
        plots.show_misclassified(x, [0, 1, 2, 3], [1, 1, 2, 3], n=n)
    assert str(info.value) == message


def test_show_prediction_titles_the_predicted_class():
    image = np.full((64, 64, 3), 128, np.uint8)
    fig = plots.show_prediction(image, np.array([[0.1, 0.05, 0.05, 0.7, 0.05, 0.05]]), title="Sample hand")
    image_ax, bars_ax = fig.axes
    assert image_ax.get_title() == "Sample hand"
    assert bars_ax.get_title() == "Predicted: 3 fingers (probability 0.70)"
    assert len(bars_ax.patches) == 6
    assert bars_ax.patches[3].get_hatch() == "//"  # the prediction is marked by a pattern too
    assert "0.70" in [t.get_text() for t in bars_ax.texts]


@pytest.mark.parametrize(
    ("draw", "title_start", "boxes", "words"),
    [
        (plots.draw_identity_block, "Identity block", 9, {"Conv2D\n1×1, F1", "Conv2D\nf×f, 'same'\nF2", "+"}),
        (plots.draw_convolutional_block, "Convolutional block", 11, {"Conv2D\n1×1, stride s\nF3", "+"}),
    ],
)
def test_block_diagrams_show_main_path_shortcut_and_add(draw, title_start, boxes, words):
    fig = draw()
    ax = fig.axes[0]
    assert ax.get_title().startswith(title_start)
    labels = [t.get_text() for t in ax.texts]
    assert words <= set(labels)
    assert {"main path", "shortcut (skip connection)", "Add", "a[l+2]"} <= set(labels)
    # Boxes: the main path's 8 layers, the final ReLU and the shortcut's layers.
    assert sum(type(p).__name__ == "FancyBboxPatch" for p in ax.patches) == boxes
    # The final ReLU comes after the Add (the shortcut joins before the activation).
    x_of = {t.get_text(): t.get_position()[0] for t in ax.texts}
    relu_xs = [t.get_position()[0] for t in ax.texts if t.get_text() == "ReLU"]
    assert max(relu_xs) > x_of["+"] > sorted(relu_xs)[-2]


def test_show_examples_titles_each_image_with_its_label():
    x = np.zeros((5, 8, 8, 3), np.uint8)
    fig = plots.show_examples(x, np.array([[3, 1, 4, 1, 5]]), n=3)
    assert [ax.get_title() for ax in fig.axes] == ["#0: 3 fingers", "#1: 1 finger", "#2: 4 fingers"]
    assert fig._suptitle.get_text() == "The first 3 of 5 images, with their labels"


def test_show_examples_refuses_mismatched_labels():
    with pytest.raises(UsageError) as info:
        plots.show_examples(np.zeros((5, 8, 8, 3)), [0, 1])
    assert str(info.value) == "x and y must hold the same number of images. Received: 5 and 2"

"""Compare an observation of student code with the reference's and name the first mistake.

Pure functions of typed observations (:mod:`resnet_signs.checks.observations`; no Keras, no student
code): the public checks and the grader's judge both use them. Each returns ``None`` when all is
well, else ONE hint: a first line that starts with "✗" and names the mistake, then indented lines
with what was expected and what was observed (shapes, op chains, a few numbers). Order: does it
run, output shape, structure (most specific first), values; a run failure or a wrong shape is
reported through the structural mistake that explains it when there is one, since "the stride
belongs on the shortcut" helps more than a Keras error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from resnet_signs.checks.cases import BlockCase, ModelCase
from resnet_signs.checks.observations import BlockObservation, BlockSummary, ModelObservation, Op

#: Relative tolerance on outputs, against their scale. Every value is computed on the CPU in full float32
#: (:mod:`resnet_signs.checks.numerics`: no TensorFloat-32 rounding, whatever the kernel's device), so it only
#: absorbs summation order across CPUs and backends (measured: at most 1.1e-7 under JAX, README "GPU").
RTOL = 1e-4
MODES = (False, True)
_ORDINAL = ("first", "second", "third", "fourth")


def _shape(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _kinds(ops) -> list[str]:
    return [o.op for o in ops or ()]


def _arrow(ops) -> str:
    return " → ".join(_kinds(ops)) or "nothing"


def values_error(got, expected) -> float | None:
    """Max abs error scaled by the expected output's magnitude, or ``None`` if within tolerance."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    err = float(np.max(np.abs(got - expected))) if got.size else 0.0
    if not np.isfinite(err):
        return float("inf")
    scale = max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
    return None if err <= RTOL * scale else err


def test_hint(function: str, kind: str, cases: list, obs, expected) -> str | None:
    """The first problem a test of ``kind`` finds in ``obs`` (one function's observation of ``cases``).

    Kinds (``hidden_tests.py``): ``public`` and ``values`` judge running, shapes and values (``values``
    reports the structural hint only once values fail), ``structure`` judges structure alone,
    ``public``/``model`` for ``ResNet50`` judge its own stem, stages and head.
    """
    if not isinstance(cases[0], BlockCase):
        for case in cases:
            hint = model_hint(obs, expected, case)
            if hint and kind != "public" and not hint.startswith("✗ ResNet50("):
                hint = hint.replace("✗ ", f"✗ with input_shape={case.input_shape}, classes={case.classes}: ", 1)
            if hint:
                return hint
        return None
    if kind == "structure":
        return structure_hint_for(function, obs, expected, cases)
    if kind == "values" and block_hint(function, obs, expected, cases, check_structure=False) is None:
        return None
    return block_hint(function, obs, expected, cases)


# --------------------------------------------------------------------------- blocks
def block_hint(
    block: str, obs: BlockObservation, expected: BlockObservation, cases: list[BlockCase], *,
    check_structure: bool = True,
) -> str | None:
    """The first problem of ``obs`` (see :func:`observe.observe_blocks`) against ``expected``.

    With ``check_structure=False`` only running, output shapes and values count (the hidden
    values tests pass on that, and then report the structural hint when there is one).
    """
    hint = signature_hint(block, obs.parameters, expected.parameters)
    if hint:
        return hint
    for case in cases:
        for training in MODES:
            hint = _case_hint(block, obs, expected, case, training, check_structure)
            if hint:
                return hint
    return None


#: Errors students meet with code from older notebook revisions or Keras 2 habits -> the fix.
KNOWN_ERRORS = (
    ("missing 1 required positional argument: 'pool_size'",
     "✗ AveragePooling2D needs its pool size in Keras 3: write AveragePooling2D(pool_size=2) (older revisions of this "
     "notebook wrote AveragePooling2D(), which Keras 2 accepted)"),
    ("unexpected keyword argument 'training'",
     "✗ your function has no `training` parameter: it comes from an older revision of this notebook; use this "
     "notebook's signature and pass training=training to every BatchNormalization"),
    ("'KerasTensor' object is not callable",
     "✗ a layer's output is called like a layer: create the layer and call it once, e.g. "
     "X = BatchNormalization(axis=3)(X, training=training)"),
    ("Lambda layer", "✗ the grader does not run Lambda layers: build the block from standard Keras layers"),
)


def known_error_hint(error: str) -> str | None:
    """A specific hint for an error message students commonly meet, else ``None``."""
    for fragment, hint in KNOWN_ERRORS:
        if fragment in error:
            return hint
    return None


def signature_hint(function: str, got, want) -> str | None:
    """Parameters of this notebook's signature that the student's function lacks (older revisions)."""
    if not got or not want or any(p.startswith("**") for p in got):
        return None
    missing = [p for p in want if p not in got]
    if not missing:
        return None
    names = ", ".join(f"`{p}`" for p in missing) + (" parameter" if len(missing) == 1 else " parameters")
    return (f"✗ your {function} has no {names}: it looks like code from an "
            f"older revision of this notebook. Use this notebook's signature: {function}({', '.join(want)})"
            f"\n  expected parameters: {', '.join(want)}\n  your parameters:     {', '.join(got)}")


def structure_hint_for(block: str, obs: BlockObservation, expected: BlockObservation,
                       cases: list[BlockCase]) -> str | None:
    """Structure only (the hidden structure tests)."""
    for case in cases:
        hint = structure_hint(block, _structures(obs, case), _structures(expected, case), case)
        if hint:
            return hint
    return None


@dataclass(frozen=True)
class _Unreadable:
    """A run whose structure could not be summarised: why, and the Conv2D filters it made before failing."""

    error: str
    convs: tuple[int, ...] = ()
    over_budget: bool = False


def _structures(obs: BlockObservation, case: BlockCase) -> dict[bool, BlockSummary | _Unreadable]:
    structures = {}
    for training in MODES:
        run = obs.run(case.name, training)
        if run is not None and run.structure is not None:
            structures[training] = run.structure
        else:
            error = (run.structure_error if run is not None else None) or "no structure recorded"
            structures[training] = (_Unreadable(error, run.convs, run.over_budget) if run is not None
                                    else _Unreadable(error))
    return structures


def _case_hint(block, obs, expected, case, training, check_structure) -> str | None:
    run = obs.run(case.name, training)
    got = run.output if run is not None else None
    want = np.asarray(expected.run(case.name, training).output)
    structural = None
    if check_structure:
        got_structures = _structures(obs, case)
        if got is None and isinstance(got_structures[True], _Unreadable):
            # Failed both ways: the run's own error says more than the keras.Input one.
            structural = _partial_hint(got_structures[True], _structures(expected, case)[True])
        else:
            structural = structure_hint(block, got_structures, _structures(expected, case), case)
    call = f"{block}(X{_call_args(case, training)})"
    if got is None:
        error = (run.error if run is not None else None) or "returned nothing"
        if run is not None and run.over_budget:
            return _budget_hint(call, error)
        return structural or known_error_hint(error) or f"✗ {call} {_as_clause(error)}"
    got = np.asarray(got)
    if got.shape != want.shape:
        return structural or (f"✗ output shape: expected {_shape(want.shape)}, got {_shape(got.shape)} for {call}"
                              f"\n  input shape: {_shape(case.shape)}")
    if structural:
        return structural
    err = values_error(got, want)
    if err is not None:
        return (f"✗ values differ from the expected output (max abs error {err:.3g}) for {call}"
                f"\n  expected (first values): {_numbers(want)}\n  observed (first values): {_numbers(got)}")
    return None


def _numbers(array, n: int = 6) -> str:
    flat = np.asarray(array, np.float64).ravel()[:n]
    return "[" + ", ".join(f"{v:.5g}" for v in flat) + (", ...]" if np.asarray(array).size > n else "]")


def _call_args(case: BlockCase, training: bool) -> str:
    s = f", s={case.s}" if case.s is not None else ""
    return f", f={case.f}, filters={list(case.filters)}{s}, training={training}"


def structure_hint(block: str, got: dict, want: dict, case: BlockCase) -> str | None:
    """Structural mistakes, most specific first; ``got``/``want`` map training mode -> summary."""
    g, w = got[True], want[True]
    if isinstance(g, _Unreadable):
        if g.over_budget:
            return _budget_hint(block, g.error)
        return (_partial_hint(g, w) or known_error_hint(g.error)
                or f"✗ {block} fails on a keras.Input (as inside ResNet50): {g.error}")
    for check in (_join_hint, _shortcut_hint, _main_path_hint, _conv_hint, _bn_axis_hint):
        hint = check(block, g, w, case)
        if hint:
            return hint + _paths_detail(g, w)
    return _training_hint(got, want) or _initializer_hint(g, w)


def _op_text(op: Op) -> str:
    if op.op == "conv":
        k = "x".join(map(str, op.kernel_size))
        s = op.strides[0]
        return (f"Conv2D({op.filters}, {k}" + (f", s={s}" if s != 1 else "")
                + (", same" if op.padding == "same" else "") + ")")
    if op.op == "bn":
        return "BN" if op.axis == 3 else f"BN(axis={op.axis})"
    if op.op in ("maxpool", "avgpool"):
        name = "MaxPooling2D" if op.op == "maxpool" else "AveragePooling2D"
        return f"{name}({op.pool_size[0]}, s={op.strides[0]})"
    if op.op == "dense":
        return f"Dense({op.units}, {op.activation})"
    if op.op == "activation":
        return f"Activation({op.fn})"
    names = {"relu": "ReLU", "add": "Add", "zeropad": "ZeroPadding2D", "flatten": "Flatten"}
    return names.get(op.op, str(op.op))


def _path_text(ops) -> str:
    return " → ".join(_op_text(o) for o in ops or []) or "(nothing)"


def _paths_detail(g: BlockSummary, w: BlockSummary) -> str:
    """Expected and observed main path and shortcut, one line each."""
    lines = []
    for name, key in (("main path", "main"), ("shortcut", "shortcut")):
        want, got = _path_text(getattr(w, key)), _path_text(getattr(g, key))
        if want != got:
            lines += [f"  expected {name}: {want}", f"  your {name}:     {got}"]
    if _kinds(w.tail) != _kinds(g.tail):
        lines += [f"  expected after the Add: {_path_text(w.tail)}", f"  yours after the Add:    {_path_text(g.tail)}"]
    return "".join("\n" + line for line in lines)


def _partial_hint(g: _Unreadable, w: BlockSummary) -> str | None:
    convs = list(g.convs)
    want = [o.filters for o in w.main or () if o.op == "conv"]
    if convs and len(convs) == len(want) and convs != want and sorted(convs) == sorted(want):
        return (f"✗ use F1, F2, F3 = filters in this order: the convolutions need {want} filters, got {convs}"
                f"\n  expected filters: {want}\n  observed filters: {convs}")
    return None


def _join_hint(block, g, w, case) -> str | None:
    if g.join is None:
        return "✗ add the shortcut to the main path (Add()([X, X_shortcut])) before the final ReLU"
    if g.join.op.op != "add" or g.join.inputs != 2:
        return f"✗ join the two paths with Add()([X, X_shortcut]) (got {g.join.op.op} of {g.join.inputs} inputs)"
    if g.join.same_inputs:
        return ("✗ the Add adds the main path to itself (Add()([X, X])): add the shortcut instead, "
                "Add()([X, X_shortcut]), where X_shortcut is the block's input (or its projection) "
                "saved before the main path")
    if _kinds(g.tail) == _kinds(w.tail):
        return None
    if not g.tail and _kinds(g.main)[-1:] == ["relu"]:
        return "✗ the shortcut must be added before the final ReLU"
    if not g.tail:
        return "✗ apply a ReLU after adding the shortcut: the block ends with Add → ReLU"
    return f"✗ after the Add the block applies only a ReLU (got {_arrow(g.tail)})"


def _shortcut_hint(block, g, w, case) -> str | None:
    if not g.reaches_input:
        return "✗ both paths must start from the block's input X (keep X_shortcut = X before the main path)"
    gs, ws = g.shortcut or (), w.shortcut or ()
    if not ws:
        if gs:
            return f"✗ the identity block adds its input X unchanged: its shortcut has no layers (got {_arrow(gs)})"
        return None
    if _kinds(gs) != _kinds(ws) or gs[0].kernel_size != ws[0].kernel_size:
        return "✗ the shortcut path needs a 1x1 Conv2D with stride s and BatchNormalization"
    if gs[0].strides != ws[0].strides:
        return "✗ the stride belongs on the first 1x1 conv and on the shortcut"
    return None


def _segments(ops) -> list[list[str]]:
    """The main path cut before each conv: [["conv", "bn", "relu"], ...]."""
    segments = []
    for kind in _kinds(ops):
        if kind == "conv" or not segments:
            segments.append([])
        segments[-1].append(kind)
    return segments


def _main_path_hint(block, g, w, case) -> str | None:
    gm, wm = g.main, w.main
    convs = [o for o in gm if o.op == "conv"]
    if len(convs) != _kinds(wm).count("conv"):
        return f"✗ the main path needs 3 Conv2D layers (1x1, f x f, 1x1); found {len(convs)}"
    if any(c.activation != "linear" for c in convs):
        return "✗ leave Conv2D without an activation: the ReLU comes after BatchNormalization"
    got, want = _segments(gm), _segments(wm)
    if got == want:
        return None
    if got[0][:1] != ["conv"]:
        return f"✗ the main path starts with a Conv2D on X (got {_arrow(gm)})"
    for i, (gseg, wseg) in enumerate(zip(got, want, strict=False)):
        if gseg == wseg:
            continue
        if "bn" not in gseg:
            return f"✗ follow every Conv2D of the main path with BatchNormalization (the {_ORDINAL[i]} has none)"
        if "relu" in gseg and gseg.index("relu") < gseg.index("bn"):
            return "✗ ReLU comes after BatchNormalization: Conv2D → BatchNormalization → ReLU"
        if "relu" in wseg and "relu" not in gseg:
            return f"✗ apply a ReLU after the {_ORDINAL[i]} BatchNormalization"
        if "relu" in gseg and "relu" not in wseg:
            return "✗ no ReLU between the last BatchNormalization and the Add: the ReLU comes after the addition"
    return f"✗ the main path should be {_arrow(wm)}; got {_arrow(gm)}"


def _conv_hint(block, g, w, case) -> str | None:
    gc = [o for o in g.main if o.op == "conv"]
    wc = [o for o in w.main if o.op == "conv"]
    for i, (gconv, wconv) in enumerate(zip(gc, wc, strict=False)):
        same_pad = wconv.kernel_size == (1, 1) or gconv.padding == wconv.padding
        if i == 1 and (gconv.kernel_size != wconv.kernel_size or not same_pad):
            k = "x".join(map(str, gconv.kernel_size))
            return (
                "✗ the middle convolution must use padding='same' and kernel size f "
                f"(f={case.f}; got kernel {k}, padding='{gconv.padding}')"
            )
        if gconv.kernel_size != wconv.kernel_size:
            return f"✗ the {_ORDINAL[i]} convolution of the main path must be 1x1 (got {list(gconv.kernel_size)})"
    if [c.strides for c in gc] != [c.strides for c in wc]:
        if block == "identity_block":
            return "✗ the identity block keeps the size: every Conv2D has stride 1"
        return "✗ the stride belongs on the first 1x1 conv and on the shortcut"
    got, want = [c.filters for c in gc], [c.filters for c in wc]
    if got != want:
        if sorted(got) == sorted(want):
            return f"✗ use F1, F2, F3 = filters in this order: the convolutions need {want} filters, got {got}"
        return f"✗ the main path's Conv2D filters should be {want} (from filters), got {got}"
    gs, ws = g.shortcut or (), w.shortcut or ()
    if gs and ws and gs[0].filters != ws[0].filters:  # kinds already match (_shortcut_hint)
        return f"✗ the shortcut Conv2D needs F3 = {ws[0].filters} filters, got {gs[0].filters}"
    return None


def _bns(summary: BlockSummary) -> list[Op]:
    return [o for o in (summary.main or ()) + (summary.shortcut or ()) if o.op == "bn"]


def _bn_axis_hint(block, g, w, case) -> str | None:
    for bn in _bns(g):
        if bn.axis != 3:
            return f"✗ BatchNormalization must normalise the channel axis (axis=3 or -1); got axis={bn.axis}"
    return None


def _training_hint(got: dict, want: dict) -> str | None:
    for training in MODES:
        if isinstance(got[training], _Unreadable):
            return f"✗ with training={training} the block fails on a keras.Input: {got[training].error}"
        modes = [bn.training for bn in _bns(got[training])]
        if any(mode is not training for mode in modes):
            return (
                "✗ pass `training=training` to BatchNormalization "
                f"(the block was called with training={training}; a BatchNormalization got "
                f"training={next(m for m in modes if m is not training)})"
                f"\n  expected: every BatchNormalization called with training={training}"
                f"\n  observed: {', '.join(f'training={m}' for m in modes)}"
            )
    return None


def _initializer_hint(g: BlockSummary, w: BlockSummary) -> str | None:
    convs = lambda s: [o for o in (s.main or ()) + (s.shortcut or ()) if o.op == "conv"]  # noqa: E731 - a one-line helper
    want = convs(w)[0].initializer
    for conv in convs(g):
        if conv.initializer != want:
            return (
                "✗ use initializer(seed=0) for every Conv2D (kernel_initializer=initializer(seed=0))"
                f"\n  expected: {_init_name(want)} for every Conv2D"
                f"\n  observed: {', '.join(_init_name(c.initializer) for c in convs(g))}"
            )
    return None


def _init_name(init) -> str:
    seed = f"(seed={init.seed})" if "seed" in dict(init.config) else ""
    return init.class_name + seed


# --------------------------------------------------------------------------- ResNet-50
def model_hint(obs: ModelObservation, expected: ModelObservation, case: ModelCase) -> str | None:
    """The first problem of a :func:`observe.observe_models` observation against the reference's.

    The model was built with stand-in blocks, so only ``ResNet50``'s own work is judged: the stem,
    the table of block calls (which block, ``f``, ``filters``, ``s``), the head, and the parameter
    count it would have with correct blocks (its own layers' weights plus the reference blocks').
    """
    run = obs.run(case.name)
    call = f"ResNet50(input_shape={case.input_shape}, classes={case.classes})"
    if run is not None and run.error is not None:
        error = run.error
        if run.over_budget:
            return _budget_hint(call, error)
        return known_error_hint(error) or _block_call_hint(error) or f"✗ {call} {_as_clause(error)}"
    g, w = run.summary if run is not None else None, expected.run(case.name).summary
    if g is None:
        return "✗ ResNet50 returned nothing that could be inspected"
    if not g.calls:
        return ("✗ build stages 2 to 5 by calling convolutional_block and identity_block: this ResNet50 calls "
                "neither"
                + (f" (its graph stops at a {g.chain_broken_by} of several inputs)" if g.chain_broken_by else ""))
    for check in (_stem_hint, _stages_hint, _head_hint):
        hint = check(g, w)
        if hint:
            return hint
    if g.output_shape != w.output_shape:
        return f"✗ output shape: expected {_shape(w.output_shape)}, got {_shape(g.output_shape)}"
    total = g.params + w.total_params - w.params  # the blocks' weights are the reference's
    if total != w.total_params:
        return (f"✗ ResNet50 should have {w.total_params:,} parameters, got {total:,}: the stem or the head has "
                f"{g.params - w.params:+,} weights"
                f"\n  expected stem: {_path_text(w.stem)}\n  your stem:     {_path_text(g.stem)}"
                f"\n  expected head: {_path_text(w.head)}\n  your head:     {_path_text(g.head)}")
    if case.forward:
        return _probs_hint(run.probs, case)
    return None


def _block_call_hint(error: str) -> str | None:
    """A stand-in block refused its arguments: the call in ResNet50 is wrong, not the block."""
    for block in ("identity_block", "convolutional_block"):
        if f"{block}:" in error or f"{block}()" in error:
            return f"✗ ResNet50 calls {block} with wrong arguments: {error.split(': ', 1)[-1]}"
    return None


def _budget_hint(call: str, error: str) -> str:
    """A graph the judge refused unbuilt for its cost (``error`` names the limit, :mod:`resnet_signs.checks.cost`)."""
    return f"✗ {call} builds a graph over the grader's budget: {error}"


def _as_clause(error: str) -> str:
    """``error`` as the end of a sentence about a call: what it did, or ``raised ...``."""
    if error.startswith(("returned", "its graph", "a forward")):
        return error
    if error.startswith(("the block uses", "the graph", "the capture", "a layer", "a Conv2D", "a Dense")):
        return f"built something the grader cannot rebuild: {error}"
    return f"raised {error}"


def _stem_hint(g, w) -> str | None:
    if g.stem_shape != w.stem_shape:
        return (
            "✗ stage 1 (ZeroPadding2D(3) → Conv2D(64, 7, strides=2) → BatchNormalization → ReLU → "
            f"MaxPooling2D(3, strides=2)) should output {_shape(w.stem_shape)}, got {_shape(g.stem_shape)}"
            f"\n  expected stem: {_path_text(w.stem)}\n  your stem:     {_path_text(g.stem)}"
        )
    return None


def _table(stages) -> str:
    return "; ".join(f"stage {k}: {st.blocks} blocks, s={st.strides[0]}, filters {list(st.filters[0])}, "
                     f"out {_shape(st.shape or ())}" for k, st in enumerate(stages, start=2))


def _stages_hint(g, w) -> str | None:
    gs, ws = g.stages, w.stages
    detail = f"\n  expected: {_table(ws)}\n  yours:    {_table(gs)}"
    first = g.calls[0]
    if first.kind != "projection":
        return f"✗ each stage starts with a convolutional_block; the first block call is {first.function}" + detail
    if len(gs) != len(ws):
        return (
            f"✗ ResNet-50 has {len(ws)} stages of residual blocks after stage 1, each opened by a "
            f"convolutional_block; found {len(gs)}" + detail
        )
    for k, (gst, wst) in enumerate(zip(gs, ws, strict=True), start=2):
        if gst.blocks != wst.blocks:
            n = wst.blocks
            return (f"✗ stage {k} should have {n} blocks (1 convolutional_block + {n - 1} identity_block), "
                    f"got {gst.blocks}" + detail)
        if gst.strides[0] != wst.strides[0]:
            s = wst.strides[0]
            verb = "downsample with" if s != 1 else "keep the size with"
            return (f"✗ stage {k} should {verb} s={s} (output {_shape(wst.shape or ())}, got {_shape(gst.shape or ())})"
                    + detail)
        if gst.filters != wst.filters:
            bad = next(i for i, (a, b) in enumerate(zip(gst.filters, wst.filters, strict=False)) if a != b)
            return (f"✗ stage {k}'s blocks use filters {list(wst.filters[0])}; block {bad + 1} of stage {k} got "
                    f"{list(gst.filters[bad])}" + detail)
    fs = {call.f for call in g.calls}
    if fs != {call.f for call in w.calls}:
        f = w.calls[0].f
        return f"✗ every block uses f={f} (a {f}x{f} middle convolution); got f={sorted(fs)}"
    for call in g.calls:
        if call.training is False:
            return f"✗ keep the blocks' default training=True in ResNet50 ({call.function} got training=False)"
    for gst, wst in zip(gs, ws, strict=True):
        if gst.shape != wst.shape:
            return f"✗ stage shapes differ: expected {_table(ws)}; got {_table(gs)}"
    return None


def _head_hint(g, w) -> str | None:
    head = g.head
    detail = f"\n  expected head: {_path_text(w.head)}\n  your head:     {_path_text(head)}"
    pools = [o for o in head if "pool" in o.op]
    want_pool = next(o for o in w.head if "pool" in o.op)
    if len(pools) != 1 or pools[0] != want_pool:
        return "✗ use AveragePooling2D(pool_size=2) after stage 5" + detail
    if "flatten" not in _kinds(head):
        return "✗ flatten the pooled features (Flatten()) before the Dense layer" + detail
    units = w.head[-1].units
    last = head[-1]
    softmax_layer = last == Op("activation", fn="softmax") and len(head) > 1 and head[-2].op == "dense"
    dense = head[-2] if softmax_layer else last
    if dense.op != "dense" or dense.units != units or not (softmax_layer or dense.activation == "softmax"):
        return "✗ the last layer must be Dense(classes, activation='softmax')" + detail
    return None


def _probs_hint(probs, case: ModelCase) -> str | None:
    if probs is None:
        return "✗ the model produced no output for a batch of 2 images"
    probs = np.asarray(probs, np.float64)
    if probs.shape != (2, case.classes):
        return f"✗ a batch of 2 images should give output shape (2, {case.classes}), got {_shape(probs.shape)}"
    if not np.all(np.isfinite(probs)) or np.any(probs < 0) or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-4):
        return "✗ each output row must be class probabilities summing to 1 (softmax)"
    return None

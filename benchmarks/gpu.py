"""The checks on a GPU: correct code passes, mistakes fail, whatever the device rounds float32 to.

For Keras 3 on each backend given (JAX, PyTorch: a GPU machine without TensorFlow runs the course's
checks this way), in a process of its own at the backend's default precision, this writes a JSON
report of:

1. **the reference, judged as the checks judge it**: every test of ``autograder/hidden_tests.py``
   (public and hidden), the reference's observation computed as the checks compute it (on the CPU,
   :mod:`resnet_signs.checks.numerics`) and again left on the default device (the GPU: what the
   checks did before, with TF32 rounding where the backend applies it), each judged against the
   expected values computed with TensorFlow on a CPU, with its largest deviation and time; the
   student-facing public checks run on the reference; the options for the public identity check
   (CPU placement, default device, default device with the backend's TF32 switched off): time and
   deviation;
2. **the mistakes** of ``tests/checks/student_variants.py``: each must fail its public check with
   its hint and fail the function's hidden tests;
3. **training** (``--train-steps``, optional): the course's ResNet-50 on the SIGNS training images
   with plain ``model.fit`` at batch 32 (the course's own pipeline is tf.data, TensorFlow only):
   time and images per second.

Where TensorFlow is installed (here, ``make bench``), the expected values are computed first. On a
GPU machine without it, carry them as a file::

    here:   python -m benchmarks.gpu --write-expected gpu-expected.json
    there:  python -m benchmarks.gpu --expected gpu-expected.json --out gpu-report.json --train-steps 34

The machine there needs the keras wheel and what it lacks there (namex, optree; platformdirs for the
package), this checkout and ``data/*.h5``. ``tests/checks/test_other_backends.py`` runs a small
setting on the CPU under JAX. The report's figures go to the README's "GPU Jupyter servers".
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "gpu.json"
VARIANTS = ROOT / "tests" / "checks" / "student_variants.py"
BACKENDS = ("jax", "torch")
#: Repetitions of the timed public check (median reported).
REPEATS = 5


# --------------------------------------------------------------------------- expected values
def write_expected(path: Path) -> None:
    """The reference's observation of every test, computed with TensorFlow as the grader's judge does."""
    from resnet_signs import paths
    from resnet_signs.grading.course import load
    from resnet_signs.grading.judge import Judge
    from resnet_signs.quiet import import_tensorflow

    import_tensorflow()
    import keras

    if keras.backend.backend() != "tensorflow":
        raise SystemExit(f"--write-expected needs Keras on TensorFlow (KERAS_BACKEND={keras.backend.backend()})")
    course = load(paths.course_dir())
    judge = Judge(course, cache=None)
    tests = {test.test_id: judge.expected(test).to_json() for test in course.tests}
    path.write_text(json.dumps({"keras": keras.__version__, "backend": "tensorflow", "tests": tests}))


# --------------------------------------------------------------------------- the child, on one backend
def _deviation(observed, wanted) -> float:
    """The largest difference of any float output, relative to its scale (what ``diagnose.RTOL`` bounds)."""
    import numpy as np

    worst = 0.0
    got_arrays = observed.arrays()
    for key, want in wanted.arrays().items():
        got = got_arrays.get(key)
        if want.dtype.kind == "f" and got is not None:
            if got.shape != want.shape:
                return float("inf")
            scale = max(1.0, float(np.max(np.abs(want))))
            worst = max(worst, float(np.max(np.abs(got.astype(np.float64) - want))) / scale)
    return worst


def _first_line(hint: str | None) -> str | None:
    return hint.splitlines()[0] if hint else None


def _device() -> dict:
    import keras

    backend = keras.backend.backend()
    info = {"backend": backend, "keras": keras.__version__, "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores"}
    if backend == "jax":
        import jax

        info.update(version=jax.__version__, devices=[str(d) for d in jax.devices()],
                    default_matmul_precision=str(jax.config.jax_default_matmul_precision))
    elif backend == "torch":
        import torch

        info.update(version=torch.__version__, cuda=torch.cuda.is_available(),
                    devices=[torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
                    cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
                    matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32)
    elif backend == "tensorflow":
        import tensorflow as tf

        info.update(version=tf.__version__, devices=[d.name for d in tf.config.list_physical_devices()],
                    tf32=tf.config.experimental.tensor_float_32_execution_enabled())
    return info


@contextlib.contextmanager
def _tf32_off():
    """The backend's own switch for full float32 on its GPU (the alternative to the CPU placement)."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        with jax.default_matmul_precision("float32"):
            yield
    elif backend == "torch":
        import torch

        saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
        try:
            yield
        finally:
            torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved
    else:
        import tensorflow as tf

        saved = tf.config.experimental.tensor_float_32_execution_enabled()
        tf.config.experimental.enable_tensor_float_32_execution(False)
        try:
            yield
        finally:
            tf.config.experimental.enable_tensor_float_32_execution(saved)


def _observe(captures, cases, exact: bool):
    from resnet_signs.checks.cases import BlockCase
    from resnet_signs.checks.observe import observe_blocks, observe_models

    observe = observe_blocks if isinstance(cases[0], BlockCase) else observe_models
    return observe(captures, cases, exact=exact)


def _judged_reference(tests, reference, expected: dict, placements=(("cpu", True), ("default_device", False))) -> dict:
    from resnet_signs.checks import diagnose
    from resnet_signs.checks.capture import capture_test

    results = {}
    for test_id, entry in tests.TESTS.items():
        function, kind, cases = entry.function, entry.kind, entry.cases
        captures = capture_test(function, list(cases), vars(reference), tests.STAND_INS)
        results[test_id] = {}
        for where, exact in placements:
            started = time.perf_counter()
            observation = _observe(captures, list(cases), exact)
            seconds = time.perf_counter() - started
            hint = diagnose.test_hint(function, kind, list(cases), observation, expected[test_id])
            results[test_id][where] = {"passed": hint is None, "hint": _first_line(hint), "seconds": round(seconds, 4),
                                       "deviation": _deviation(observation, expected[test_id])}
    return results


def _public_checks(reference) -> dict:
    from resnet_signs import checks

    results = {}
    for name, check in (("identity_block", checks.identity_block_test),
                        ("convolutional_block", checks.convolutional_block_test), ("ResNet50", checks.resnet50_test)):
        try:
            with contextlib.redirect_stdout(open(os.devnull, "w")):
                check(getattr(reference, name))
            results[name] = {"passed": True}
        except AssertionError as failure:
            results[name] = {"passed": False, "hint": _first_line(str(failure))}
    return results


def _options(reference) -> dict:
    """The public identity check's computation three ways: time (median of REPEATS) and deviation."""
    from resnet_signs.checks import expected
    from resnet_signs.checks.capture import capture_blocks
    from resnet_signs.checks.cases import PUBLIC_BLOCK_CASES

    case = PUBLIC_BLOCK_CASES["identity_block"]
    captures = capture_blocks(reference.identity_block, [case])
    ways = {"cpu_placement": (True, contextlib.nullcontext), "default_device": (False, contextlib.nullcontext),
            "default_device_tf32_off": (False, _tf32_off)}
    results = {}
    for name, (exact, context) in ways.items():
        times = []
        for _ in range(REPEATS):
            with context():
                started = time.perf_counter()
                observation = _observe(captures, [case], exact)
                times.append(time.perf_counter() - started)
        results[name] = {"seconds": round(statistics.median(times), 4),
                         "deviation": _deviation(observation, expected.load("identity_block"))}
    return results


def _load_variants():
    spec = importlib.util.spec_from_file_location("student_variants", VARIANTS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mistakes(tests, expected: dict, per_function: int | None = None) -> list[dict]:
    from resnet_signs import checks
    from resnet_signs.checks import diagnose
    from resnet_signs.checks.capture import capture_test

    sv = _load_variants()
    tables = (("identity_block", checks.identity_block_test, sv.IDENTITY_MISTAKES),
              ("convolutional_block", checks.convolutional_block_test, sv.CONV_MISTAKES),
              ("ResNet50", checks.resnet50_test, sv.RESNET_MISTAKES))
    results = []
    for function, public, table in tables:
        for variant, hint in table[:per_function]:
            try:
                with contextlib.redirect_stdout(open(os.devnull, "w")):
                    public(variant)
                said = None
            except AssertionError as failure:
                said = _first_line(str(failure))
            hidden = {}
            for test_id, entry in tests.TESTS.items():
                if entry.function == function and entry.kind != "public":
                    captures = capture_test(function, list(entry.cases), {function: variant}, tests.STAND_INS)
                    observation = _observe(captures, list(entry.cases), True)
                    hidden[test_id] = diagnose.test_hint(function, entry.kind, list(entry.cases), observation,
                                                         expected[test_id]) is None
            results.append({"function": function, "mistake": variant.__name__, "public_hint": said,
                            "named": bool(said and hint in said), "hidden_passed": hidden,
                            "fails": bool(said) and not all(hidden.values())})
    return results


def _training(steps: int, batch: int = 32) -> dict:
    """One epoch (at most ``steps`` steps) of the reference ResNet-50 with plain ``fit`` on the training images."""
    import keras
    import numpy as np

    from resnet_signs.data import load_dataset
    from resnet_signs.instructor import load_reference

    x, y, *_ = load_dataset()
    x = x.astype("float32") / 255.0
    y = np.eye(6, dtype="float32")[y[0]]
    keras.utils.set_random_seed(0)
    model = load_reference().ResNet50(input_shape=(64, 64, 3), classes=6)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    steps = min(steps, len(x) // batch)
    timings = []
    for _ in range(2):  # the first includes tracing/compilation
        started = time.perf_counter()
        history = model.fit(x, y, batch_size=batch, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=True)
        timings.append(time.perf_counter() - started)
    images = steps * batch
    return {"what": "reference ResNet-50, plain model.fit on numpy arrays, Adam 1e-3", "batch_size": batch,
            "steps": steps, "first_epoch_s": round(timings[0], 2), "second_epoch_s": round(timings[1], 2),
            "images_per_s": round(images / timings[1], 1), "final_loss": float(history.history["loss"][-1])}


def _emulate_tf32() -> None:
    """Round TensorFlow's float32 convolutions and matrix products as a TF32 GPU does (tests/tf32)."""
    sys.path.insert(0, str(ROOT / "tests" / "tf32"))
    import tf32_emulation

    tf32_emulation.install()


def child(expected_file: Path, train_steps: int, out: Path, small: bool = False, emulate_tf32: bool = False) -> None:
    """Everything measured on this process's backend (``KERAS_BACKEND``), written to ``out``.

    ``small`` (a CPU in ``make test``): the reference observed on the CPU only (a CPU is the default
    device there too) and one mistake per function.
    """
    from resnet_signs.checks import observations
    from resnet_signs.instructor import load_hidden_tests, load_reference

    if emulate_tf32:
        _emulate_tf32()
    data = json.loads(expected_file.read_text())
    expected = {test_id: observations.from_json(obs) for test_id, obs in data["tests"].items()}
    reference, tests = load_reference(), load_hidden_tests()
    placements = (("cpu", True),) if small else (("cpu", True), ("default_device", False))
    parts = {"reference": lambda: _judged_reference(tests, reference, expected, placements),
             "public_checks": lambda: _public_checks(reference), "options": lambda: _options(reference),
             "mistakes": lambda: _mistakes(tests, expected, 1 if small else None),
             "training": lambda: _training(train_steps) if train_steps else None}
    report = {"device": {**_device(), "tf32_emulated": emulate_tf32},
              "expected_from": {k: data[k] for k in ("backend", "keras")}, "seconds": {}}
    for name, part in parts.items():
        started = time.perf_counter()
        report[name] = part()
        report["seconds"][name] = round(time.perf_counter() - started, 1)
    out.write_text(json.dumps(report, indent=1))


# --------------------------------------------------------------------------- the parent
def _run_backend(backend: str, expected_file: Path, train_steps: int, timeout: float, small: bool,
                 emulate_tf32: bool = False) -> dict:
    module = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}[backend]
    if importlib.util.find_spec(module) is None:
        return {"skipped": f"{module} is not installed here"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        command = [sys.executable, "-m", "benchmarks.gpu", "--child", "--expected", str(expected_file),
                   "--train-steps", str(train_steps), "--out", str(out)] + (["--small"] if small else [])
        command += ["--emulate-tf32"] if emulate_tf32 else []
        try:
            result = subprocess.run(command, env=env, check=False, capture_output=True, text=True, timeout=timeout,
                                    cwd=ROOT)
        except subprocess.TimeoutExpired:
            return {"failed": f"ran longer than {timeout:g} s"}
        if result.returncode != 0 or not out.is_file():
            return {"failed": f"exit {result.returncode}: {result.stderr.strip()[-2000:]}"}
        return json.loads(out.read_text())


def summary(report: dict) -> list[str]:
    """The report as a few lines per backend."""
    lines = []
    for backend, result in report["backends"].items():
        if "device" not in result:
            lines.append(f"{backend}: {result.get('skipped') or result.get('failed')}")
            continue
        reference = result["reference"]
        mistakes = result["mistakes"]
        emulated = ", TF32 emulated" if result["device"].get("tf32_emulated") else ""
        lines.append(f"{backend} ({', '.join(result['device'].get('devices', []))[:120]}{emulated}):")
        for where, what in (("cpu", "as the checks compute (CPU)"), ("default_device", "left on the default device")):
            if where in next(iter(reference.values())):
                passed = sum(r[where]["passed"] for r in reference.values())
                worst = max(r[where]["deviation"] for r in reference.values())
                lines.append(f"  reference passes {passed}/{len(reference)} tests {what}; "
                             f"largest deviation {worst:.1e}")
        lines += [
                  "  public checks on the reference: "
                  + ", ".join(f"{k} {'✓' if v['passed'] else '✗'}" for k, v in result["public_checks"].items()),
                  f"  mistakes failing: {sum(m['fails'] for m in mistakes)}/{len(mistakes)}, "
                  f"named by their hint: {sum(m['named'] for m in mistakes)}/{len(mistakes)}",
                  "  public identity check: "
                  + ", ".join(f"{k} {v['seconds'] * 1000:.0f} ms (deviation {v['deviation']:.1e})"
                              for k, v in result["options"].items())]
        if result.get("training"):
            t = result["training"]
            lines.append(f"  training: {t['steps']} steps of {t['batch_size']}: first epoch {t['first_epoch_s']} s, "
                         f"then {t['second_epoch_s']} s ({t['images_per_s']} images/s)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS), help="Keras backends to run (default: jax,torch)")
    parser.add_argument("--expected", type=Path, help="expected values from --write-expected (default: computed "
                                                      "here with TensorFlow)")
    parser.add_argument("--write-expected", type=Path, metavar="FILE", help="write the expected values and stop")
    parser.add_argument("--train-steps", type=int, default=34, help="training steps of 32 images (0: none; 34: the "
                                                                    "whole training set)")
    parser.add_argument("--small", action="store_true", help="the reference on the CPU only, one mistake per "
                                                             "function (a CPU in make test)")
    parser.add_argument("--emulate-tf32", action="store_true", help="tensorflow backend on a CPU: round as a TF32 GPU "
                                                                    "does (tests/tf32), to see the checks' fix at work")
    parser.add_argument("--timeout", type=float, default=420, help="seconds per backend (default 420)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"the JSON report (default {RESULTS})")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.expected, args.train_steps, args.out, small=args.small, emulate_tf32=args.emulate_tf32)
        return 0
    if args.write_expected:
        write_expected(args.write_expected)
        print(f"wrote {args.write_expected}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        expected_file = args.expected
        if expected_file is None:
            expected_file = Path(tmp) / "expected.json"
            result = subprocess.run([sys.executable, "-m", "benchmarks.gpu", "--write-expected", str(expected_file)],
                                    cwd=ROOT, env={**os.environ, "KERAS_BACKEND": "tensorflow"}, check=False,
                                    capture_output=True,
                                    text=True)
            if result.returncode != 0:
                print(f"benchmarks.gpu: could not compute the expected values: {result.stderr.strip()[-500:]}",
                      file=sys.stderr)
                return 2
        backends = [b.strip() for b in args.backends.split(",") if b.strip()]
        unknown = sorted(set(backends) - {*BACKENDS, "tensorflow"})
        if unknown:
            parser.error(f"unknown backend(s): {', '.join(unknown)}; choose from jax, torch, tensorflow")
        if args.emulate_tf32 and backends != ["tensorflow"]:
            parser.error("--emulate-tf32 emulates TensorFlow's rounding: use it with --backends tensorflow")
        report = {"expected": str(args.expected or "computed with TensorFlow here"),
                  "backends": {b: _run_backend(b, expected_file, args.train_steps, args.timeout, args.small,
                                               args.emulate_tf32) for b in backends}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print("\n".join(summary(report)))
    print(f"report: {args.out}")
    failed = [b for b, r in report["backends"].items() if "failed" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""``resnet-signs expected``: the committed expected values are what the reference produces."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from resnet_signs import cli
from resnet_signs.checks import expected
from resnet_signs.checks.observations import ModelSummary
from resnet_signs.grading import expected as generation
from resnet_signs.instructor import load_reference


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("expected")
    assert cli.main(["expected", "--out", str(folder)]) == 0
    return folder


def test_committed_json_is_byte_identical_to_a_fresh_generation(regenerated):
    fresh = (regenerated / expected.JSON_NAME).read_bytes()
    assert fresh == (expected.HERE / expected.JSON_NAME).read_bytes(), "run `resnet-signs expected` and commit"


def test_committed_arrays_equal_a_fresh_generation(regenerated):
    committed, fresh = expected.read(), expected.read(regenerated)
    for function in committed:
        arrays, fresh_arrays = committed[function].arrays(), fresh[function].arrays()
        assert sorted(arrays) == sorted(fresh_arrays)
        for key, value in arrays.items():
            # Equal up to float32 rounding: another CPU may order a sum differently.
            np.testing.assert_allclose(fresh_arrays[key], value, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(value).max()))


def test_stored_identity_output_is_the_course_published_one():
    out = expected.load("identity_block").run("public", False).output
    means = out[:, (0, -1), :, :].mean(axis=3)
    np.testing.assert_allclose(means[2], [[578.1371, 578.1371, 578.1371, 290.56854],
                                          [290.56854, 290.56854, 290.56854, 146.78427]], atol=1e-3)


def test_stored_resnet_summary_has_the_course_shapes():
    summary = expected.load("ResNet50").run("public").summary
    assert summary.total_params == 23_600_006 and summary.stem_shape == (15, 15, 64)
    # stem and head only: stand-ins have no weights
    assert summary.params == 7 * 7 * 3 * 64 + 64 + 4 * 64 + 2048 * 6 + 6
    assert [(s.blocks, s.shape) for s in summary.stages] == [
        (3, (15, 15, 256)), (4, (8, 8, 512)), (6, (4, 4, 1024)), (3, (2, 2, 2048))
    ]
    assert ModelSummary.from_json(json.loads(json.dumps(summary.to_json()))) == summary


def test_out_must_be_a_folder(tmp_path, capsys):
    target = tmp_path / "expected.npz"
    target.write_text("")
    assert cli.main(["expected", "--out", str(target)]) == 2
    assert f"resnet-signs expected: error: --out {target} is a file; give a folder" in capsys.readouterr().err


def test_a_missing_reference_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RESNET_SIGNS_COURSE", str(tmp_path))
    assert cli.main(["expected", "--out", str(tmp_path / "out")]) == 2
    assert "error: no reference implementation at" in capsys.readouterr().err


def test_generation_refuses_a_reference_that_fails_its_own_case():
    broken = type("Reference", (), {"identity_block": staticmethod(lambda X, f, filters, training, initializer: None),
                                    "convolutional_block": load_reference().convolutional_block,
                                    "ResNet50": load_reference().ResNet50})
    with pytest.raises(RuntimeError, match="the reference identity_block failed its own public case"):
        generation.compute(broken)


def test_reference_resnet50_has_the_parameter_count_of_keras_applications():
    ours = load_reference().ResNet50((64, 64, 3), 6).count_params()
    theirs = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=6).count_params()
    assert ours == theirs == 23_600_006

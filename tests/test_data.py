"""The SIGNS data layer on the real data: prepare, load_dataset, one-hot, verify, audit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from resnet_signs import paths
from resnet_signs.data import convert_to_one_hot, h5files, load_dataset, prepare
from resnet_signs.data.audit import audit
from resnet_signs.data.manifest import MANIFEST_PATH, load_manifest
from resnet_signs.data.verify import verify

SHARED = paths.shared_signs_dir()
pytestmark = pytest.mark.skipif(not (SHARED / "64x64_SIGNS").is_dir(), reason=f"SIGNS data not found at {SHARED}")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    out = tmp_path_factory.mktemp("prepared")
    result = prepare(SHARED, out)
    assert result.status == "built"
    return out


def test_prepare_builds_the_course_files(prepared):
    X_train, Y_train, X_test, Y_test, classes = load_dataset(prepared)
    assert X_train.shape == (1080, 64, 64, 3) and X_train.dtype == np.uint8
    assert Y_train.shape == (1, 1080) and Y_train.dtype == np.int64
    assert X_test.shape == (120, 64, 64, 3) and X_test.dtype == np.uint8
    assert Y_test.shape == (1, 120) and Y_test.dtype == np.int64
    assert classes.tolist() == [0, 1, 2, 3, 4, 5] and classes.dtype == np.int64
    assert np.bincount(Y_train[0]).tolist() == [180] * 6
    assert np.bincount(Y_test[0]).tolist() == [20] * 6


def test_prepared_files_use_the_course_keys(prepared):
    import h5py

    for split in h5files.SPLITS:
        with h5py.File(prepared / h5files.file_name(split)) as handle:
            assert sorted(handle.keys()) == sorted([f"{split}_set_x", f"{split}_set_y", "list_classes"])
            assert handle[f"{split}_set_y"].dtype == np.int64
            assert handle["list_classes"].dtype == np.int64


def test_training_set_is_sorted_by_file_name(prepared):
    # names start with the label, so sorting by name sorts by label
    Y_train = load_dataset(prepared)[1][0]
    assert np.all(np.diff(Y_train) >= 0)


def test_test_photos_match_the_official_test_file(prepared):
    import h5py

    with h5py.File(SHARED / "test_signs.h5") as handle:
        official_y = handle["test_set_y"][()]
    assert np.bincount(official_y).tolist() == np.bincount(load_dataset(prepared)[3][0]).tolist()


def test_second_prepare_does_nothing(prepared):
    before = {p: p.stat().st_mtime_ns for p in prepared.glob("*.h5")}
    result = prepare(SHARED, prepared)
    assert result.status == "up to date"
    assert "nothing to do" in result.summary()
    assert {p: p.stat().st_mtime_ns for p in prepared.glob("*.h5")} == before


def test_prepare_is_deterministic(prepared, tmp_path):
    prepare(SHARED / "64x64_SIGNS", tmp_path)  # the split folders' parent works too
    for split in h5files.SPLITS:
        first = h5files.read_split(prepared / h5files.file_name(split), split)
        second = h5files.read_split(tmp_path / h5files.file_name(split), split)
        assert first.attrs["content_sha256"] == second.attrs["content_sha256"]


def test_damaged_output_is_rebuilt(prepared, tmp_path):
    for p in prepared.glob("*.h5"):
        shutil.copy(p, tmp_path / p.name)
    (tmp_path / "train_signs.h5").write_bytes((tmp_path / "train_signs.h5").read_bytes()[:4096])
    assert prepare(SHARED, tmp_path).status == "built"
    assert load_dataset(tmp_path)[0].shape == (1080, 64, 64, 3)


def test_prepare_copies_a_folder_of_prepared_files(prepared, tmp_path):
    result = prepare(prepared, tmp_path / "copy")
    assert result.status == "copied"
    assert [a.shape for a in load_dataset(tmp_path / "copy")[:4]] == [(1080, 64, 64, 3), (1, 1080), (120, 64, 64, 3),
                                                                       (1, 120)]
    assert prepare(prepared, tmp_path / "copy").status == "up to date"


def test_prepare_accepts_the_official_test_file(prepared, tmp_path):
    (tmp_path / "src").mkdir()
    shutil.copy(prepared / "train_signs.h5", tmp_path / "src")
    shutil.copy(SHARED / "test_signs.h5", tmp_path / "src")
    assert prepare(tmp_path / "src", tmp_path / "out").status == "copied"
    assert verify(None, tmp_path / "out")[1].endswith("120 images, copied from the course's official file")


def test_repository_manifest_covers_the_shared_copy():
    shared = load_manifest(SHARED / "SHA256SUMS")
    ours = load_manifest(MANIFEST_PATH)
    assert {k: ours[k] for k in shared} == shared
    assert sum(k.endswith(".jpg") for k in ours) == 1200


def test_convert_to_one_hot_matches_the_course():
    Y = np.array([[0, 5, 2, 2]])
    one_hot = convert_to_one_hot(Y, 6)
    assert one_hot.shape == (6, 4)
    assert one_hot.T.tolist() == np.eye(6)[[0, 5, 2, 2]].tolist()
    assert convert_to_one_hot(np.arange(6).reshape(1, 6), 6).T.argmax(axis=1).tolist() == list(range(6))


def test_verify_reports_source_and_prepared_files(prepared):
    lines = verify(SHARED, prepared)
    assert lines[0].startswith("ok  1200 photos")
    assert any("test_signs.h5 is the course's official file" in line for line in lines)
    assert lines[-2:] == [
        f"ok  {prepared / 'train_signs.h5'}: 1080 images, built from the manifest's photos",
        f"ok  {prepared / 'test_signs.h5'}: 120 images, built from the manifest's photos",
    ]


def test_audit_finds_the_known_duplicates_and_leaks():
    report = audit(SHARED)
    assert report.counts["test_signs"] == [20] * 6
    assert [a + b for a, b in zip(report.counts["train_signs"], report.counts["val_signs"], strict=True)] == [180] * 6
    assert report.duplicate_pairs == 56
    assert len(report.leaks) == 12
    assert all(test.startswith("test_signs/") and not train.startswith("test_signs/") for test, train in report.leaks)
    assert ("test_signs/0_IMG_5975 (1).jpg", "train_signs/0_IMG_5975.jpg") in report.leaks
    table = report.table()
    assert "train_signs+val_signs     180   180   180   180   180   180    1080" in table
    assert "56 pairs in 56 groups (12 pairs cross training and test)" in table


def test_audit_of_prepared_files_agrees(prepared):
    report = audit(prepared)
    assert report.counts == {"train": [180] * 6, "test": [20] * 6}
    assert (report.duplicate_pairs, len(report.leaks)) == (56, 12)


def test_cli_prepare_is_idempotent_and_audit_prints_json(prepared):
    run = [sys.executable, "-m", "resnet_signs", "data"]
    done = subprocess.run([*run, "prepare", "--from", str(SHARED), "--out", str(prepared)],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "already up to date" in done.stdout
    done = subprocess.run([*run, "audit", "--from", str(SHARED), "--json"], check=False, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["duplicate_pairs"], report["leak_pairs"]) == (56, 12)


@pytest.mark.parametrize("action", ["prepare", "fetch", "verify", "audit"])
def test_every_data_action_answers_help(action):
    done = subprocess.run([sys.executable, "-m", "resnet_signs", "data", action, "--help"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"usage: resnet-signs data {action}" in done.stdout

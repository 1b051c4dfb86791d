"""Every bad input to the data layer gives one clear line (a DataError) and loses nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from resnet_signs import paths
from resnet_signs.data import h5files, load_dataset, prepare
from resnet_signs.data.jpegs import SPLIT_FOLDERS
from resnet_signs.data.manifest import load_manifest
from resnet_signs.data.verify import verify
from resnet_signs.errors import DataError

SHARED = paths.shared_signs_dir()
needs_signs = pytest.mark.skipif(not (SHARED / "64x64_SIGNS").is_dir(), reason=f"SIGNS data not found at {SHARED}")


@pytest.fixture
def tiny(tmp_path):
    """A SIGNS layout with two real photos per folder (all listed in the manifest)."""
    if not (SHARED / "64x64_SIGNS").is_dir():
        pytest.skip(f"SIGNS data not found at {SHARED}")
    root = tmp_path / "signs" / "64x64_SIGNS"
    for folder in SPLIT_FOLDERS:
        (root / folder).mkdir(parents=True)
        for photo in sorted((SHARED / "64x64_SIGNS" / folder).glob("*.jpg"))[:2]:
            shutil.copy(photo, root / folder / photo.name)
    return tmp_path / "signs"


def _good_split(path, split="train", m=4, **overrides):
    arrays = {f"{split}_set_x": np.zeros((m, 64, 64, 3), np.uint8), f"{split}_set_y": np.arange(m) % 6,
              "list_classes": np.arange(6)}
    arrays.update(overrides)
    with h5py.File(path, "w") as handle:
        for key, value in arrays.items():
            if value is not None:
                handle[key] = value


def _fail(func, *args, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- load_dataset / reading the .h5 files ------------------------------------------------------

def test_missing_data_says_how_to_make_it(tmp_path):
    message = _fail(load_dataset, tmp_path)
    assert "train_signs.h5 not found" in message
    assert "run `make data` or `resnet-signs data prepare --from DIR`" in message


def test_default_path_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RESNET_SIGNS_DATA", str(tmp_path))
    assert str(tmp_path / "train_signs.h5") in _fail(load_dataset)


@pytest.mark.parametrize("content", [b"", b"not an hdf5 file at all", b"\x89HDF\r\n\x1a\n" + b"\0" * 100])
def test_corrupt_h5_is_one_line_not_a_traceback(tmp_path, content):
    (tmp_path / "train_signs.h5").write_bytes(content)
    message = _fail(h5files.read_split, tmp_path / "train_signs.h5", "train")
    assert "is truncated or not an HDF5 file" in message and "make data" in message


def test_truncated_h5(tmp_path):
    _good_split(tmp_path / "full.h5", m=200)
    (tmp_path / "train_signs.h5").write_bytes((tmp_path / "full.h5").read_bytes()[:50_000])
    assert "is truncated or not an HDF5 file" in _fail(h5files.read_split, tmp_path / "train_signs.h5", "train")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"train_set_y": None}, "lacks the dataset(s) train_set_y (found: list_classes, train_set_x)"),
        ({"list_classes": None}, "lacks the dataset(s) list_classes"),
        ({"train_set_x": np.zeros((4, 32, 32, 3), np.uint8)},
         "train_set_x has shape (4, 32, 32, 3), expected (m, 64, 64, 3)"),
        ({"train_set_x": np.zeros((4, 64, 64, 3), np.float32)}, "train_set_x has dtype float32, expected uint8"),
        ({"train_set_y": np.array([0.0, 1, 2, 3])}, "train_set_y has dtype float64, expected int64"),
        ({"train_set_y": np.arange(3)}, "train_set_y has shape (3,), expected (4,) to match train_set_x"),
        ({"train_set_y": np.array([0, 1, 6, 2])}, "train_set_y has labels outside 0-5 (min 0, max 6)"),
        ({"train_set_y": np.array([0, -1, 2, 2])}, "train_set_y has labels outside 0-5 (min -1, max 2)"),
        ({"list_classes": np.arange(5)}, "list_classes is [0, 1, 2, 3, 4], expected [0, 1, 2, 3, 4, 5]"),
    ],
)
def test_bad_h5_content_is_named(tmp_path, overrides, expected):
    _good_split(tmp_path / "train_signs.h5", **overrides)
    message = _fail(h5files.read_split, tmp_path / "train_signs.h5", "train")
    assert expected in message and "rebuild it with `make data`" in message


def test_test_file_uses_test_keys(tmp_path):
    _good_split(tmp_path / "train_signs.h5")
    _good_split(tmp_path / "test_signs.h5")  # train_* keys in the test file
    assert "test_signs.h5 lacks the dataset(s) test_set_x, test_set_y" in _fail(load_dataset, tmp_path)


# --- prepare: the source folder ------------------------------------------------------------------

def test_missing_source(tmp_path):
    assert "is not a folder; pass --from a SIGNS copy" in _fail(prepare, tmp_path / "nope", tmp_path / "out")


def test_empty_source(tmp_path):
    (tmp_path / "empty").mkdir()
    assert "empty is empty; put the SIGNS photos there" in _fail(prepare, tmp_path / "empty", tmp_path / "out")


def test_unrecognised_source(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "notes.txt").write_text("hello")
    assert "holds neither 64x64_SIGNS/{train_signs,val_signs,test_signs}" in _fail(prepare, tmp_path / "src", tmp_path)


def test_folder_without_photos(tiny):
    for photo in (tiny / "64x64_SIGNS" / "val_signs").iterdir():
        photo.unlink()
    assert "val_signs holds no .jpg files" in _fail(prepare, tiny, tiny / "out")


def test_unknown_label_prefix(tiny):
    good = next((tiny / "64x64_SIGNS" / "train_signs").iterdir())
    shutil.copy(good, good.with_name("x_IMG.jpg"))
    message = _fail(prepare, tiny, tiny / "out")
    assert "x_IMG.jpg: cannot read a label from the file name (it must start with 0-5" in message
    assert "got 'x'" in message


def test_checksum_mismatch_names_the_file(tiny):
    photo = sorted((tiny / "64x64_SIGNS" / "test_signs").iterdir())[0]
    photo.write_bytes(photo.read_bytes()[:-1] + b"\0")
    message = _fail(prepare, tiny, tiny / "out")
    assert f"checksum mismatch for {photo}" in message and "corrupt or modified" in message


def test_file_not_in_manifest(tiny):
    good = sorted((tiny / "64x64_SIGNS" / "train_signs").iterdir())[0]
    shutil.copy(good, good.with_name("3_MY_OWN.jpg"))
    message = _fail(prepare, tiny, tiny / "out")
    assert "3_MY_OWN.jpg is not in the SIGNS manifest (SHA256SUMS)" in message and "--no-verify" in message


def test_non_image_jpeg(tiny):
    (tiny / "64x64_SIGNS" / "train_signs" / "2_fake.jpg").write_text("I am text")
    message = _fail(prepare, tiny, tiny / "out", verify=False)
    assert "2_fake.jpg is not an image" in message


def test_truncated_jpeg(tiny):
    photo = sorted((tiny / "64x64_SIGNS" / "val_signs").iterdir())[0]
    photo.write_bytes(photo.read_bytes()[:400])
    assert f"{photo} is truncated or corrupt" in _fail(prepare, tiny, tiny / "out", verify=False)


def test_wrong_image_size(tiny):
    from PIL import Image

    Image.new("RGB", (32, 48)).save(tiny / "64x64_SIGNS" / "test_signs" / "1_small.jpg")
    assert "1_small.jpg is 32x48, expected 64x64" in _fail(prepare, tiny, tiny / "out", verify=False)


def test_own_photos_build_without_the_manifest(tiny):
    result = prepare(tiny, tiny / "out", verify=False)
    assert result.counts == {"train": 4, "test": 2}
    # ...but verify then says they are not the course's data
    assert "was not built from the files in the SHA256SUMS manifest" in _fail(verify, None, tiny / "out")


def test_h5_source_needs_both_files(tmp_path):
    (tmp_path / "src").mkdir()
    _good_split(tmp_path / "src" / "train_signs.h5")
    assert "test_signs.h5 is missing (a .h5 source needs both" in _fail(prepare, tmp_path / "src", tmp_path / "out")


def test_h5_source_not_in_manifest(tmp_path):
    (tmp_path / "src").mkdir()
    _good_split(tmp_path / "src" / "train_signs.h5")
    _good_split(tmp_path / "src" / "test_signs.h5", split="test")
    message = _fail(prepare, tmp_path / "src", tmp_path / "out")
    assert f"checksum mismatch for {tmp_path / 'src' / 'train_signs.h5'}: it is neither the course's file" in message


@needs_signs
def test_tampered_official_test_file(tmp_path):
    prepare(SHARED, tmp_path / "built")
    (tmp_path / "src").mkdir()
    shutil.copy(tmp_path / "built" / "train_signs.h5", tmp_path / "src")  # a good train file
    shutil.copy(SHARED / "test_signs.h5", tmp_path / "src")
    with h5py.File(tmp_path / "src" / "test_signs.h5", "r+") as handle:
        handle["test_set_y"][0] = (handle["test_set_y"][0] + 1) % 6
    message = _fail(prepare, tmp_path / "src", tmp_path / "out")
    assert f"checksum mismatch for {tmp_path / 'src' / 'test_signs.h5'}" in message


def test_manifest_line_malformed(tmp_path, monkeypatch):
    bad = tmp_path / "SHA256SUMS"
    bad.write_text("abc  ./x.jpg\n")
    assert "SHA256SUMS:1: not a sha256sum line" in _fail(load_manifest, bad)
    assert "manifest" in _fail(load_manifest, tmp_path / "missing")


# --- nothing is lost ----------------------------------------------------------------------------

def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_failed_prepare_keeps_good_files(tiny):
    out = tiny / "out"
    prepare(tiny, out)
    before = _snapshot(out)
    photo = sorted((tiny / "64x64_SIGNS" / "train_signs").iterdir())[0]
    photo.write_bytes(b"garbage")
    _fail(prepare, tiny, out)
    _fail(prepare, tiny, out, verify=False)  # fails later, while decoding
    assert _snapshot(out) == before


def test_interrupted_write_leaves_nothing_half_written(tiny, monkeypatch):
    out = tiny / "out"
    prepare(tiny, out, verify=False)
    before = _snapshot(out)
    (tiny / "64x64_SIGNS" / "test_signs" / sorted((tiny / "64x64_SIGNS" / "test_signs").iterdir())[0].name).unlink()
    calls = []
    real = h5py.Group.create_dataset

    def crash_on_second_file(self, name, *args, **kwargs):
        calls.append(name)
        if name == "test_set_x":
            raise KeyboardInterrupt
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", crash_on_second_file)
    with pytest.raises(KeyboardInterrupt):
        prepare(tiny, out, verify=False)
    assert "train_set_x" in calls  # the first file was written (to a temporary file)...
    assert _snapshot(out) == before  # ...yet nothing in out changed and no temporary file is left


# --- the command line ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["prepare", "--from", "{tmp}/empty", "--out", "{tmp}/out"], "empty is empty"),
        (["verify", "--out", "{tmp}/empty"], "train_signs.h5 not found: run `make data`"),
        (["audit", "--from", "{tmp}/empty"], "holds neither the SIGNS JPEG folders nor train_signs.h5"),
    ],
)
def test_cli_error_is_one_line_with_exit_code_2(tmp_path, argv, expected):
    (tmp_path / "empty").mkdir()
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    done = subprocess.run([sys.executable, "-m", "resnet_signs", "data", *argv],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("resnet-signs data: error: ") and expected in lines[0]
    assert not (tmp_path / "out").exists()

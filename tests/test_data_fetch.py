"""``fetch`` against local archives built from the real photos (there is no network in CI)."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from resnet_signs import paths
from resnet_signs.data import load_dataset
from resnet_signs.data.fetch import DEFAULT_URL, fetch
from resnet_signs.errors import DataError

SHARED = paths.shared_signs_dir()
PREFIX = "pytorch_template-3daa5f934b878f2e42cc27cd1bdf09ce1b8003f0/data/"


def _photos():
    if not (SHARED / "64x64_SIGNS").is_dir():
        pytest.skip(f"SIGNS data not found at {SHARED}")
    return sorted((SHARED / "64x64_SIGNS").glob("*/*.jpg"))


def _members():
    """(name in the archive, bytes): the photos as in the GitHub archive, plus files fetch must skip."""
    yield from ((PREFIX + str(p.relative_to(SHARED)), p.read_bytes()) for p in _photos())
    yield PREFIX + "64x64_SIGNS/.DS_Store", b"\0\0\0\1Bud1"
    yield PREFIX.removesuffix("data/") + "README.md", b"# template"
    yield PREFIX + "64x64_SIGNS/train_signs/../../../escaped.jpg", b"nope"


def _tar(path):
    with tarfile.open(path, "w:gz") as handle:
        for name, data in _members():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            handle.addfile(info, io.BytesIO(data))
    return path


def _zip(path):
    with zipfile.ZipFile(path, "w") as handle:
        for name, data in _members():
            handle.writestr(name, data)
    return path


def test_default_url_is_the_pinned_github_archive():
    assert DEFAULT_URL == ("https://github.com/littlecapa/pytorch_template/archive/"
                           "3daa5f934b878f2e42cc27cd1bdf09ce1b8003f0.tar.gz")


@pytest.mark.parametrize("make_archive", [_tar, _zip], ids=["tar.gz", "zip"])
def test_fetch_from_a_local_archive(tmp_path, make_archive):
    archive = make_archive(tmp_path / ("signs.tar.gz" if make_archive is _tar else "signs.zip"))
    out = tmp_path / "data"
    result = fetch(archive.as_uri(), out)
    assert result.status == "built" and result.counts == {"train": 1080, "test": 120}
    assert load_dataset(out)[1].shape == (1, 1080)
    extracted = out / "downloads" / "signs" / "64x64_SIGNS"
    assert sorted(p.name for p in extracted.iterdir()) == ["test_signs", "train_signs", "val_signs"]
    assert not list(out.rglob("escaped.jpg")) and not list(out.rglob(".DS_Store"))
    # a second run reuses the verified photos: it needs no network and writes nothing
    assert fetch((tmp_path / "gone.tar.gz").as_uri(), out).status == "up to date"


def _fail(url, out) -> str:
    with pytest.raises(DataError) as info:
        fetch(url, out)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_missing_local_file(tmp_path):
    message = _fail((tmp_path / "nope.tar.gz").as_uri(), tmp_path / "data")
    assert message.startswith(f"could not download {(tmp_path / 'nope.tar.gz').as_uri()}: No such file or directory")
    assert "--url file:///PATH/TO/ARCHIVE" in message
    assert [p.name for p in (tmp_path / "data" / "downloads").iterdir()] == []  # no partial download left


def test_unreachable_server(tmp_path):
    message = _fail("http://127.0.0.1:9/signs.tar.gz", tmp_path / "data")
    assert message.startswith("could not download http://127.0.0.1:9/signs.tar.gz: ") and "check the network" in message


def test_unsupported_url(tmp_path):
    assert "unknown url type" in _fail("ftp-ish:/signs.tar.gz", tmp_path / "data")


def test_not_an_archive(tmp_path):
    (tmp_path / "signs.tar.gz").write_text("<html>rate limited</html>")
    assert "signs.tar.gz is not a .zip or .tar(.gz) archive" in _fail((tmp_path / "signs.tar.gz").as_uri(),
                                                                      tmp_path / "d")


def test_damaged_archive(tmp_path):
    data = _tar(tmp_path / "full.tar.gz").read_bytes()
    (tmp_path / "signs.tar.gz").write_bytes(data[: len(data) // 2])
    assert "is a damaged archive" in _fail((tmp_path / "signs.tar.gz").as_uri(), tmp_path / "d")


def test_archive_without_signs(tmp_path):
    with tarfile.open(tmp_path / "other.tar.gz", "w:gz") as handle:
        info = tarfile.TarInfo("repo/README.md")
        handle.addfile(info, io.BytesIO(b""))
    assert "holds no 64x64_SIGNS/{train,val,test}_signs/*.jpg" in _fail((tmp_path / "other.tar.gz").as_uri(),
                                                                        tmp_path / "d")


def test_archive_with_a_modified_photo(tmp_path):
    photos = _photos()
    with tarfile.open(tmp_path / "bad.tar.gz", "w:gz") as handle:
        for photo in photos:
            data = photo.read_bytes()
            if photo == photos[0]:
                data = data[:-1] + b"\0"
            info = tarfile.TarInfo(PREFIX + str(photo.relative_to(SHARED)))
            info.size = len(data)
            handle.addfile(info, io.BytesIO(data))
    message = _fail((tmp_path / "bad.tar.gz").as_uri(), tmp_path / "d")
    assert message.startswith("checksum mismatch for ") and photos[0].name in message
    assert not (tmp_path / "d" / "train_signs.h5").exists()

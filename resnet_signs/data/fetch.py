"""``fetch``: download the public 64x64 SIGNS JPEGs, keep only ``64x64_SIGNS``, then prepare.

The default source is GitHub's archive of littlecapa/pytorch_template at a fixed commit
(its ``data/64x64_SIGNS`` folder). Any ``http(s)://`` or ``file://`` URL of a ``.tar.gz``,
``.tar`` or ``.zip`` holding a ``64x64_SIGNS/{train,val,test}_signs`` folder works, so a
local copy of the archive serves offline machines.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from resnet_signs import paths
from resnet_signs.data import jpegs
from resnet_signs.data.h5files import umask
from resnet_signs.data.prepare import PrepareResult, prepare
from resnet_signs.errors import DataError

COMMIT = "3daa5f934b878f2e42cc27cd1bdf09ce1b8003f0"
DEFAULT_URL = f"https://github.com/littlecapa/pytorch_template/archive/{COMMIT}.tar.gz"
#: Members we keep: <anything>/64x64_SIGNS/<split folder>/<name>.jpg
MEMBER = re.compile(r"(?:^|/)64x64_SIGNS/(train_signs|val_signs|test_signs)/([^/]+\.jpe?g)$", re.IGNORECASE)


def fetch(url: str = DEFAULT_URL, out: Path | None = None, *, timeout: float = 60) -> PrepareResult:
    """Download, extract, verify and prepare SIGNS.

    The archive and the extracted photos stay in ``OUT/downloads/`` (git-ignored); a second run
    reuses the extracted photos when they still match the manifest.

    Args:
        url: Archive URL (``https://`` or ``file://``).
        out: Folder for the .h5 files; defaults to :func:`resnet_signs.paths.data_dir`.
        timeout: Seconds to wait for the server.

    Returns:
        The :class:`PrepareResult` of preparing the extracted photos.

    Raises:
        DataError: Download failure, an archive without the SIGNS photos, or a checksum mismatch.
    """
    out = Path(out) if out is not None else paths.data_dir()
    downloads = out / "downloads"
    extracted = downloads / "signs"
    if jpegs.find_root(extracted) is not None:
        try:
            return prepare(extracted, out)
        except DataError:
            pass  # stale or damaged copy: download again
    downloads.mkdir(parents=True, exist_ok=True)
    archive = download(url, downloads, timeout=timeout)
    extract_signs(archive, extracted)
    return prepare(extracted, out)


def download(url: str, folder: Path, *, timeout: float = 60) -> Path:
    """Save ``url`` into ``folder`` (via a temporary file) and return the file's path."""
    name = Path(urllib.request.url2pathname(url.rsplit("/", 1)[-1])).name or "signs-archive"
    target = folder / name
    hint = "check the network, or download it elsewhere and pass --url file:///PATH/TO/ARCHIVE"
    fd, part_name = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    part = Path(part_name)
    try:
        with open(fd, "wb") as handle, urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, handle)
        os.chmod(part, 0o666 & ~umask())  # mkstemp makes 0600
        part.replace(target)
    except urllib.error.HTTPError as exc:
        raise DataError(f"could not download {url}: HTTP {exc.code} {exc.reason}; {hint}") from exc
    except urllib.error.URLError as exc:
        raise DataError(f"could not download {url}: {_reason(exc.reason)}; {hint}") from exc
    except ValueError as exc:
        raise DataError(f"could not download {url}: {exc}; give an https:// or file:// URL") from exc
    except OSError as exc:
        raise DataError(f"could not download {url}: {_reason(exc)}; {hint}") from exc
    finally:
        part.unlink(missing_ok=True)
    return target


def _reason(reason) -> str:
    text = getattr(reason, "strerror", None) or str(reason)
    return text.splitlines()[0] if text else type(reason).__name__


def extract_signs(archive: Path, dest: Path) -> Path:
    """Extract only ``64x64_SIGNS/{train,val,test}_signs/*.jpg`` from a tar or zip archive.

    Member names are never used as paths: each kept photo is written to
    ``dest/64x64_SIGNS/<split>/<name>``, so a hostile archive cannot write elsewhere.

    Returns:
        ``dest/64x64_SIGNS``.

    Raises:
        DataError: Not a tar/zip archive, or no SIGNS photos in it.
    """
    staging = Path(tempfile.mkdtemp(prefix=".signs-", dir=dest.parent))
    try:
        count = _extract_into(archive, staging / jpegs.ROOT_FOLDER)
        if count == 0:
            raise DataError(f"{archive} holds no 64x64_SIGNS/{{train,val,test}}_signs/*.jpg; is it the right archive?")
        shutil.rmtree(dest, ignore_errors=True)
        os.chmod(staging, 0o777 & ~umask())  # mkdtemp makes 0700
        staging.replace(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest / jpegs.ROOT_FOLDER


def _extract_into(archive: Path, root: Path) -> int:
    for folder in jpegs.SPLIT_FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    count = 0
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as handle:
                for info in handle.infolist():
                    match = MEMBER.search(info.filename)
                    if match and not info.is_dir():
                        (root / match[1] / match[2]).write_bytes(handle.read(info))
                        count += 1
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as handle:
                for member in handle:
                    match = MEMBER.search(member.name)
                    if match and member.isfile():
                        (root / match[1] / match[2]).write_bytes(handle.extractfile(member).read())
                        count += 1
        else:
            raise DataError(f"{archive} is not a .zip or .tar(.gz) archive; check the --url")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise DataError(f"{archive} is a damaged archive ({_reason(exc)}); delete it and fetch again") from exc
    return count

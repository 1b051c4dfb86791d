"""The sha256 manifest of the SIGNS files, shipped inside the package as ``resnet_signs/data/SHA256SUMS``.

The manifest uses ``sha256sum``'s format (``<hex>  ./<path>``) with paths relative to the
SIGNS root: ``64x64_SIGNS/<split>/<name>.jpg`` for the photos, ``test_signs.h5`` and
``train_signs.h5`` for the course's official HDF5 files. ``sha256sum -c --ignore-missing``
run in a SIGNS folder checks it by hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from resnet_signs import paths
from resnet_signs.errors import DataError

#: The manifest shipped with the code (read through importlib.resources: works from a wheel too).
MANIFEST_PATH = paths.package_file("data", "SHA256SUMS")


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(path: Path | None = None) -> dict[str, str]:
    """Read a manifest into ``{relative path: sha256}``.

    Args:
        path: The manifest file; defaults to the package's ``SHA256SUMS``.

    Returns:
        A dict keyed by paths without the leading ``./``, e.g. ``64x64_SIGNS/test_signs/0_IMG_5942.jpg``.

    Raises:
        DataError: The manifest is missing or has a malformed line.
    """
    path = Path(path) if path is not None else MANIFEST_PATH
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"the checksum manifest {path} is missing; reinstall resnet-signs (in a checkout: "
                        "`git checkout -- resnet_signs/data/SHA256SUMS`)") from exc
    entries = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name:
            raise DataError(f"{path}:{number}: not a sha256sum line ({line[:60]!r}); restore the manifest from git")
        entries[name.removeprefix("./")] = digest.lower()
    return entries


def check_files(files: Mapping[str, Path], manifest: Mapping[str, str]) -> dict[str, str]:
    """Check files against the manifest and return their checksums.

    Args:
        files: ``{manifest key: file on disk}``.
        manifest: As returned by :func:`load_manifest`.

    Returns:
        ``{manifest key: sha256}`` for every file (all of them matched).

    Raises:
        DataError: Naming the first file that is not in the manifest or whose checksum differs.
    """
    sums = {}
    for key in sorted(files):
        expected = manifest.get(key)
        if expected is None:
            raise DataError(
                f"{files[key]} is not in the SIGNS manifest (SHA256SUMS): remove it, "
                "or pass --no-verify to build from your own photos"
            )
        actual = sha256_file(files[key])
        if actual != expected:
            raise DataError(
                f"checksum mismatch for {files[key]}: sha256 {actual[:12]}... but the manifest says "
                f"{expected[:12]}...; the file is corrupt or modified, get a fresh copy (`resnet-signs data fetch`)"
            )
        sums[key] = actual
    return sums


def digest_of(sums: Iterable[tuple[str, str]]) -> str:
    """A single sha256 over ``(key, sha256)`` pairs, independent of their order.

    Used to stamp prepared files with the exact inputs they came from.
    """
    text = "".join(f"{sha}  {key}\n" for key, sha in sorted(sums))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

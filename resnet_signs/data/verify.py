"""``verify``: check a SIGNS source against the manifest and the prepared files against their stamps."""

from __future__ import annotations

from pathlib import Path

from resnet_signs import paths
from resnet_signs.data import h5files, jpegs, manifest
from resnet_signs.data.prepare import manifest_digest
from resnet_signs.errors import DataError


def verify(source: Path | None = None, out: Path | None = None) -> list[str]:
    """Check checksums and return one report line per thing checked.

    Args:
        source: Optional SIGNS folder whose photos (and official .h5 files) are checked against
            the package's ``SHA256SUMS``.
        out: Folder of the prepared ``.h5`` files; defaults to :func:`resnet_signs.paths.data_dir`.
            Each must be complete (its ``content_sha256`` matches) and come from the manifest's
            photos or the course's official file.

    Raises:
        DataError: Naming the first file that fails.
    """
    entries = manifest.load_manifest()
    lines = []
    if source is not None:
        lines += _verify_source(Path(source), entries)
    out = Path(out) if out is not None else paths.data_dir()
    for split in h5files.SPLITS:
        lines.append(_verify_prepared(out / h5files.file_name(split), split, entries))
    return lines


def _verify_source(source: Path, entries: dict[str, str]) -> list[str]:
    root = jpegs.find_root(source) if source.is_dir() else None
    official = {n: source / n for n in (h5files.file_name(s) for s in h5files.SPLITS) if (source / n).is_file()}
    if root is None and not official:
        raise DataError(f"{source} holds no SIGNS files to verify; pass --from a SIGNS copy")
    lines = []
    if root is not None:
        photos = jpegs.list_photos(root)
        manifest.check_files({p.key: p.path for p in photos}, entries)
        lines.append(f"ok  {len(photos)} photos in {root} match the SHA256SUMS manifest")
    if official:
        manifest.check_files(official, entries)
        lines += [f"ok  {path} is the course's official file" for path in official.values()]
    return lines


def _verify_prepared(path: Path, split: str, entries: dict[str, str]) -> str:
    arrays = h5files.read_split(path, split)
    if arrays.attrs.get("content_sha256") != h5files.content_sha256(arrays.x, arrays.y):
        raise DataError(f"{path} has no or a wrong content checksum; rebuild it with `make data`")
    stamp = arrays.attrs.get("inputs_sha256")
    if stamp == manifest_digest(split, entries):
        origin = "built from the manifest's photos"
    elif path.name in entries and stamp == manifest.digest_of([(path.name, entries[path.name])]):
        origin = "copied from the course's official file"
    else:
        raise DataError(f"{path} was not built from the files in the SHA256SUMS manifest (--no-verify?); "
                        "rebuild it with `resnet-signs data prepare --from DIR`")
    return f"ok  {path}: {len(arrays.y)} images, {origin}"

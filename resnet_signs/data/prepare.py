"""``prepare``: turn a SIGNS source folder into the course's ``train_signs.h5`` / ``test_signs.h5``.

Two kinds of source are accepted:

* the 64x64 JPEG layout (``DIR/64x64_SIGNS/{train,val,test}_signs`` or ``DIR`` holding those three
  folders): train = train_signs + val_signs (1080 photos, sorted by file name), test = test_signs (120);
* a folder already holding both ``.h5`` files: they are checked and copied.

Steps, in this order (each may raise :class:`DataError`; nothing is written before the last):
find the layout -> read labels from names -> check checksums -> skip if outputs are current ->
decode -> write atomically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from resnet_signs import paths
from resnet_signs.data import h5files, jpegs, manifest
from resnet_signs.errors import DataError

#: Which JPEG folders make up each course split.
SPLIT_SOURCES = {"train": ("train_signs", "val_signs"), "test": ("test_signs",)}


@dataclass
class PrepareResult:
    """What :func:`prepare` did.

    Attributes:
        status: ``"built"`` (from JPEGs), ``"copied"`` (from .h5 files) or ``"up to date"`` (nothing written).
        paths: The two output files.
        counts: Images per split, e.g. ``{"train": 1080, "test": 120}``.
        source: The source folder.
    """

    status: str
    paths: list[Path]
    counts: dict[str, int] = field(default_factory=dict)
    source: Path | None = None

    def summary(self) -> str:
        """One human line describing the result."""
        files = " and ".join(f"{p} ({self.counts.get(s, '?')} images)"
                             for s, p in zip(h5files.SPLITS, self.paths, strict=True))
        if self.status == "up to date":
            return f"{files}: already up to date with {self.source}; nothing to do"
        return f"{self.status} {files} from {self.source}"


def manifest_digest(split: str, entries: dict[str, str]) -> str:
    """The ``inputs_sha256`` that a split built from the manifest's own JPEGs carries."""
    prefixes = tuple(f"{jpegs.ROOT_FOLDER}/{folder}/" for folder in SPLIT_SOURCES[split])
    return manifest.digest_of((k, v) for k, v in entries.items() if k.startswith(prefixes))


def prepare(source: Path, out: Path | None = None, *, verify: bool = True) -> PrepareResult:
    """Build (or copy) the course's HDF5 files from a SIGNS folder; idempotent.

    Args:
        source: A SIGNS folder (JPEG layout, or one holding ``train_signs.h5`` and ``test_signs.h5``).
        out: Destination folder; defaults to :func:`resnet_signs.paths.data_dir`.
        verify: Check every input file against the repository's manifest. Turn off only to build
            from photos of your own.

    Returns:
        A :class:`PrepareResult`.

    Raises:
        DataError: Missing or malformed source, checksum mismatch, unreadable photo or .h5 file.
            Existing outputs are left untouched.
    """
    source = Path(source)
    out = Path(out) if out is not None else paths.data_dir()
    if not source.is_dir():
        raise DataError(f"{source} is not a folder; pass --from a SIGNS copy, or run `resnet-signs data fetch`")
    entries = manifest.load_manifest() if verify else {}
    root = jpegs.find_root(source)
    if root is not None:
        return _from_jpegs(root, source, out, entries, verify)
    if any((source / h5files.file_name(s)).exists() for s in h5files.SPLITS):
        return _from_h5(source, out, entries, verify)
    if not any(source.iterdir()):
        raise DataError(f"{source} is empty; put the SIGNS photos there or run `resnet-signs data fetch`")
    raise DataError(
        f"{source} holds neither {jpegs.ROOT_FOLDER}/{{train_signs,val_signs,test_signs}} nor "
        "train_signs.h5 + test_signs.h5; point --from at a SIGNS copy or run `resnet-signs data fetch`"
    )


def _from_jpegs(root: Path, source: Path, out: Path, entries: dict, verify: bool) -> PrepareResult:
    photos = jpegs.list_photos(root)
    files = {p.key: p.path for p in photos}
    sums = manifest.check_files(files, entries) if verify else {k: manifest.sha256_file(p) for k, p in files.items()}
    by_split = {s: sorted((p for p in photos if p.folder in SPLIT_SOURCES[s]), key=lambda p: (p.name, p.folder))
                for s in h5files.SPLITS}
    digests = {s: manifest.digest_of((p.key, sums[p.key]) for p in by_split[s]) for s in h5files.SPLITS}
    counts = {s: len(by_split[s]) for s in h5files.SPLITS}
    outputs = [out / h5files.file_name(s) for s in h5files.SPLITS]
    if all(h5files.is_current(p, s, digests[s]) for p, s in zip(outputs, h5files.SPLITS, strict=True)):
        return PrepareResult("up to date", outputs, counts, source)
    arrays = {}
    for split, chosen in by_split.items():
        x = np.stack([jpegs.decode(p.path) for p in chosen])
        y = np.array([p.label for p in chosen], dtype=np.int64)
        folders = "+".join(SPLIT_SOURCES[split])
        arrays[split] = (x, y, {"inputs_sha256": digests[split], "source": f"64x64 JPEGs: {folders}"})
    return PrepareResult("built", h5files.write_splits(out, arrays), counts, source)


def _from_h5(source: Path, out: Path, entries: dict, verify: bool) -> PrepareResult:
    for split in h5files.SPLITS:
        if not (source / h5files.file_name(split)).is_file():
            raise DataError(f"{source / h5files.file_name(split)} is missing "
                            "(a .h5 source needs both train_signs.h5 and test_signs.h5)")
    loaded, digests = {}, {}
    for split in h5files.SPLITS:
        path = source / h5files.file_name(split)
        arrays = h5files.read_split(path, split)
        sha = manifest.sha256_file(path)
        digests[split] = arrays.attrs.get("inputs_sha256") or manifest.digest_of([(path.name, sha)])
        if verify:
            _check_h5_origin(path, split, sha, arrays, entries)
        loaded[split] = arrays
    counts = {s: len(a.y) for s, a in loaded.items()}
    outputs = [out / h5files.file_name(s) for s in h5files.SPLITS]
    if all(h5files.is_current(p, s, digests[s]) for p, s in zip(outputs, h5files.SPLITS, strict=True)):
        return PrepareResult("up to date", outputs, counts, source)
    arrays = {s: (a.x, a.y, {"inputs_sha256": digests[s], "source": f"{h5files.file_name(s)} from {source}"})
              for s, a in loaded.items()}
    return PrepareResult("copied", h5files.write_splits(out, arrays), counts, source)


def _check_h5_origin(path: Path, split: str, sha: str, arrays: h5files.SplitArrays, entries: dict) -> None:
    """Accept the course's official file (by checksum) or one this tool built from the manifest's JPEGs."""
    if entries.get(path.name) == sha:
        return
    built_here = (
        arrays.attrs.get("inputs_sha256") == manifest_digest(split, entries)
        and arrays.attrs.get("content_sha256") == h5files.content_sha256(arrays.x, arrays.y)
    )
    if not built_here:
        raise DataError(
            f"checksum mismatch for {path}: it is neither the course's file listed in the SHA256SUMS manifest nor one "
            "built by `resnet-signs data prepare` from the listed photos; rebuild it from the JPEGs"
        )

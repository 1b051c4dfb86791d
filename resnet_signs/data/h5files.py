"""The course's HDF5 files: reading them with checks, writing them atomically.

Layout (as in the course): ``train_signs.h5`` holds ``train_set_x`` uint8 (m, 64, 64, 3),
``train_set_y`` int64 (m,) and ``list_classes`` int64 [0..5]; ``test_signs.h5`` likewise
with ``test_set_*``. Files written here also carry two attributes: ``inputs_sha256`` (a
digest of the input files' checksums, see :func:`manifest.digest_of`) and
``content_sha256`` (of the arrays), so a later run can tell they are complete and current.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from resnet_signs.data.jpegs import IMAGE_SHAPE, NUM_CLASSES
from resnet_signs.errors import DataError

SPLITS = ("train", "test")
REBUILD = "rebuild it with `make data` or `resnet-signs data prepare --from DIR`"


def file_name(split: str) -> str:
    """``train_signs.h5`` or ``test_signs.h5``."""
    return f"{split}_signs.h5"


@dataclass(frozen=True)
class SplitArrays:
    """The content of one course HDF5 file.

    Attributes:
        x: uint8 images, shape (m, 64, 64, 3).
        y: int64 labels 0-5, shape (m,).
        classes: int64 ``[0, 1, 2, 3, 4, 5]``.
        attrs: The file's attributes (empty for the course's own files).
    """

    x: np.ndarray
    y: np.ndarray
    classes: np.ndarray
    attrs: dict


def content_sha256(x: np.ndarray, y: np.ndarray) -> str:
    """sha256 over the image and label bytes (C order)."""
    digest = hashlib.sha256(np.ascontiguousarray(x).tobytes())
    digest.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    return digest.hexdigest()


def read_split(path: Path, split: str) -> SplitArrays:
    """Read and check one course HDF5 file.

    Args:
        path: The ``.h5`` file.
        split: ``"train"`` or ``"test"`` (selects the ``<split>_set_*`` keys).

    Returns:
        The arrays, checked for keys, dtypes, shapes and label range.

    Raises:
        DataError: One line saying what is wrong with the file and how to rebuild it.
    """
    import h5py

    if not path.is_file():
        raise DataError(f"{path} not found: run `make data` or `resnet-signs data prepare --from DIR`")
    keys = (f"{split}_set_x", f"{split}_set_y", "list_classes")
    try:
        with h5py.File(path, "r") as handle:
            missing = [k for k in keys if not isinstance(handle.get(k), h5py.Dataset)]
            if missing:
                found = ", ".join(sorted(handle.keys())) or "none"
                raise DataError(f"{path} lacks the dataset(s) {', '.join(missing)} (found: {found}); {REBUILD}")
            x, y, classes = (handle[k][()] for k in keys)
            attrs = {k: _plain(v) for k, v in handle.attrs.items()}
    except DataError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path} is truncated or not an HDF5 file ({reason}); {REBUILD}") from exc
    _check_arrays(path, split, x, y, classes)
    return SplitArrays(x, y.astype(np.int64), classes.astype(np.int64), attrs)


def _plain(value):
    return value.decode() if isinstance(value, bytes) else value.item() if hasattr(value, "item") else value


def _check_arrays(path: Path, split: str, x: np.ndarray, y: np.ndarray, classes: np.ndarray) -> None:
    def bad(what: str) -> DataError:
        return DataError(f"{path}: {what}; {REBUILD}")

    if x.dtype != np.uint8:
        raise bad(f"{split}_set_x has dtype {x.dtype}, expected uint8")
    if x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE or x.shape[0] == 0:
        raise bad(f"{split}_set_x has shape {x.shape}, expected (m, 64, 64, 3) with m > 0")
    if not np.issubdtype(y.dtype, np.integer):
        raise bad(f"{split}_set_y has dtype {y.dtype}, expected int64")
    if y.shape != (x.shape[0],):
        raise bad(f"{split}_set_y has shape {y.shape}, expected ({x.shape[0]},) to match {split}_set_x")
    if y.min() < 0 or y.max() >= NUM_CLASSES:
        raise bad(f"{split}_set_y has labels outside 0-5 (min {y.min()}, max {y.max()})")
    if not np.issubdtype(classes.dtype, np.integer) or not np.array_equal(classes, np.arange(NUM_CLASSES)):
        raise bad(f"list_classes is {classes.tolist()}, expected [0, 1, 2, 3, 4, 5]")


def write_splits(out: Path, arrays: dict[str, tuple[np.ndarray, np.ndarray, dict]]) -> list[Path]:
    """Write course HDF5 files atomically: all go to temporary files first, then each is renamed.

    Nothing in ``out`` changes unless every file was written completely.

    Args:
        out: The destination folder (created if missing).
        arrays: ``{split: (x uint8 (m,64,64,3), y (m,), extra attributes)}``.

    Returns:
        The written paths.
    """
    import h5py

    out.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for split, (x, y, attrs) in arrays.items():
            final = out / file_name(split)
            fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=out)
            os.close(fd)
            staged.append((Path(tmp), final))
            y = np.asarray(y, dtype=np.int64)
            with h5py.File(tmp, "w", track_order=False) as handle:
                # track_times=False keeps the bytes a function of the content alone.
                handle.create_dataset(f"{split}_set_x", data=np.asarray(x, dtype=np.uint8), track_times=False)
                handle.create_dataset(f"{split}_set_y", data=y, track_times=False)
                handle.create_dataset("list_classes", data=np.arange(NUM_CLASSES, dtype=np.int64), track_times=False)
                handle.attrs["content_sha256"] = content_sha256(x, y)
                for key, value in attrs.items():
                    handle.attrs[key] = value
            _fsync(Path(tmp))
            os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600; give the usual permissions
        for tmp, final in staged:
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return [final for _, final in staged]


def umask() -> int:
    """The process's file-creation mask (read without changing it for good)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def is_current(path: Path, split: str, inputs_sha256: str) -> bool:
    """True when ``path`` is a complete, valid file built from inputs with this digest."""
    try:
        arrays = read_split(path, split)
    except DataError:
        return False
    return (
        arrays.attrs.get("inputs_sha256") == inputs_sha256
        and arrays.attrs.get("content_sha256") == content_sha256(arrays.x, arrays.y)
    )

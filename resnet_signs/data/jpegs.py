"""The SIGNS JPEG layout: ``64x64_SIGNS/{train_signs,val_signs,test_signs}/<label>_<name>.jpg``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from resnet_signs.errors import DataError

#: The three folders of the 64x64 JPEG set, in the order they are read.
SPLIT_FOLDERS = ("train_signs", "val_signs", "test_signs")
#: The folder that holds them in the public archive and in the shared copy.
ROOT_FOLDER = "64x64_SIGNS"
IMAGE_SHAPE = (64, 64, 3)
NUM_CLASSES = 6


@dataclass(frozen=True)
class Photo:
    """One JPEG of the set.

    Attributes:
        folder: ``train_signs``, ``val_signs`` or ``test_signs``.
        name: The file name; its first character is the label.
        label: 0-5, the number of raised fingers.
        path: The file on disk.
    """

    folder: str
    name: str
    label: int
    path: Path

    @property
    def key(self) -> str:
        """The photo's path in the manifest."""
        return f"{ROOT_FOLDER}/{self.folder}/{self.name}"


def find_root(source: Path) -> Path | None:
    """Return the folder holding the three split folders (``source`` or ``source/64x64_SIGNS``), or None."""
    for candidate in (source / ROOT_FOLDER, source):
        if all((candidate / folder).is_dir() for folder in SPLIT_FOLDERS):
            return candidate
    return None


def label_of(path: Path) -> int:
    """The label encoded in a file name's first character.

    Raises:
        DataError: The name does not start with a digit 0-5.
    """
    first = path.name[:1]
    if not first or first not in "012345":
        raise DataError(
            f"{path}: cannot read a label from the file name (it must start with 0-5, "
            f"e.g. 3_IMG_5309.jpg, got {first!r}); rename or remove the file"
        )
    return int(first)


def list_photos(root: Path) -> list[Photo]:
    """List every ``*.jpg`` under the three split folders, sorted by folder then name.

    Hidden files (``.DS_Store``) and other extensions are ignored.

    Raises:
        DataError: A split folder holds no JPEG, or a name carries no valid label.
    """
    photos = []
    for folder in SPLIT_FOLDERS:
        paths = sorted(p for p in (root / folder).iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
        if not paths:
            raise DataError(f"{root / folder} holds no .jpg files; point --from at a complete SIGNS copy")
        photos += [Photo(folder, p.name, label_of(p), p) for p in paths]
    return photos


def decode(path: Path) -> np.ndarray:
    """Decode one photo to a uint8 array of shape (64, 64, 3).

    Raises:
        DataError: The file is not an image, is truncated, or is not 64x64.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()  # decodes now, so a truncated file fails here and not later
            pixels = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except UnidentifiedImageError as exc:
        raise DataError(f"{path} is not an image; remove it or replace it with a good copy") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path} is truncated or corrupt ({reason}); replace it with a good copy") from exc
    if pixels.shape != IMAGE_SHAPE:
        raise DataError(f"{path} is {pixels.shape[1]}x{pixels.shape[0]}, expected 64x64; resize it or remove it")
    return pixels

"""Single hand images for the notebook's "try it on your own photo" section.

Two sources, both returning what the SIGNS arrays hold, a ``(64, 64, 3)`` ``uint8`` RGB image:

- :func:`sample_hand` draws a cartoon hand with 0-5 raised fingers. The project produces it
  itself (Pillow shapes, no photo), so it can be committed and shown anywhere; it is a
  deliberately *out-of-distribution* input that shows students how a model trained on 1080
  photos reacts to something new.
- :func:`load_image` reads the student's own photo: it applies the camera's EXIF rotation,
  crops the centre square (phone photos are not square, and squashing them would distort the
  hand) and resizes it to 64x64, as the SIGNS photos were.

:func:`to_batch` turns either into the model's input: a batch of one, scaled to [0, 1] like the
training images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from resnet_signs.errors import CourseError

#: Side of the SIGNS images, in pixels.
SIZE = 64
#: Drawing happens at this multiple of the output size, then is downsampled (anti-aliasing).
_SUPERSAMPLE = 4

_BACKGROUND = (226, 222, 214)
_SKIN = (214, 160, 128)
_SKIN_EDGE = (170, 114, 86)
# Fingers from thumb to little finger: (base x, base y, tip x, tip y, width), on a 100x100 grid.
_FINGERS = (
    (30, 62, 12, 44, 11),  # thumb, pointing up and out to the left
    (38, 48, 36, 12, 10),  # index
    (50, 46, 50, 8, 10),  # middle
    (62, 48, 64, 12, 10),  # ring
    (72, 52, 78, 22, 9),  # little finger
)
# Which fingers are raised for each count: the SIGNS gestures (thumb last, as in the photos).
_RAISED = {
    0: (),
    1: (1,),
    2: (1, 2),
    3: (1, 2, 3),
    4: (1, 2, 3, 4),
    5: (0, 1, 2, 3, 4),
}


class ImageError(CourseError):
    """An image file that cannot be used: missing, not an image, or corrupt."""


def sample_hand(fingers: int = 3, size: int = SIZE) -> np.ndarray:
    """Draw a hand showing ``fingers`` raised fingers, in the style of a SIGNS photo.

    Args:
        fingers: number of raised fingers, 0 to 5 (the class it should be recognised as).
        size: side of the square image in pixels.

    Returns:
        ``uint8`` array of shape (size, size, 3).

    Raises:
        ImageError: ``fingers`` is not an integer from 0 to 5, or ``size`` is below 16.
    """
    if isinstance(fingers, bool) or not isinstance(fingers, (int, np.integer)) or fingers not in _RAISED:
        raise ImageError(f"fingers must be an integer from 0 to 5. Received: fingers={fingers!r}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 16:
        raise ImageError(f"size must be an integer of at least 16 pixels. Received: size={size!r}")

    canvas = int(size) * _SUPERSAMPLE
    scale = canvas / 100.0
    image = Image.new("RGB", (canvas, canvas), _BACKGROUND)
    draw = ImageDraw.Draw(image)

    def box(x0, y0, x1, y1):
        return [x0 * scale, y0 * scale, x1 * scale, y1 * scale]

    # Wrist and palm first, fingers on top; an outline keeps the shapes apart after downsampling.
    draw.rectangle(box(36, 80, 66, 100), fill=_SKIN, outline=_SKIN_EDGE, width=_SUPERSAMPLE)
    draw.rounded_rectangle(box(28, 44, 78, 86), radius=14 * scale, fill=_SKIN, outline=_SKIN_EDGE, width=_SUPERSAMPLE)
    for index, (bx, by, tx, ty, width) in enumerate(_FINGERS):
        if index not in _RAISED[int(fingers)]:
            # A folded finger: a short knuckle bump that stays inside the palm's outline.
            tx, ty = bx + (tx - bx) * 0.25, by + (ty - by) * 0.25 + 4
        _finger(draw, (bx * scale, by * scale), (tx * scale, ty * scale), width * scale)
    image = image.resize((int(size), int(size)), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def _finger(draw: ImageDraw.ImageDraw, base, tip, width: float) -> None:
    """A finger as a thick line with a rounded tip, outlined like the palm."""
    edge = width + 2 * _SUPERSAMPLE
    for colour, w in ((_SKIN_EDGE, edge), (_SKIN, width)):
        draw.line([base, tip], fill=colour, width=int(w))
        r = w / 2
        draw.ellipse([tip[0] - r, tip[1] - r, tip[0] + r, tip[1] + r], fill=colour)


def load_image(path: str | Path, size: int = SIZE) -> np.ndarray:
    """Read a photo and turn it into a SIGNS-like image.

    Args:
        path: a JPEG, PNG or any other format Pillow reads.
        size: side of the square output in pixels.

    Returns:
        ``uint8`` array of shape (size, size, 3): the centre square of the photo, upright
        (EXIF rotation applied), in RGB.

    Raises:
        ImageError: the path does not exist, is a folder, or is not a readable image.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise ImageError(
            f"no file at {path}: put your photo next to the notebook (or give its full path) and check the name"
        )
    if not path.is_file():
        raise ImageError(f"{path} is a folder, not an image file: give the path of a .jpg or .png photo")
    try:
        with Image.open(path) as opened:
            opened.load()  # decode now: a truncated file fails here, not later inside resize
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except UnidentifiedImageError:
        raise ImageError(f"{path} is not an image Pillow can read: use a .jpg or .png photo") from None
    except (OSError, SyntaxError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageError(f"{path} is truncated or corrupt ({reason}): copy the photo again") from None
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def to_batch(image: np.ndarray) -> np.ndarray:
    """Scale one ``uint8`` image to [0, 1] and add the batch axis, as the training images were.

    Args:
        image: array of shape (height, width, 3) with values 0-255.

    Returns:
        ``float32`` array of shape (1, height, width, 3).

    Raises:
        ImageError: ``image`` is not a single RGB image.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ImageError(f"expected one RGB image of shape (height, width, 3). Received: shape={image.shape}")
    return (image.astype(np.float32) / 255.0)[None]

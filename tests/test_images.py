"""resnet_signs.images: the drawn sample hand, reading a student's photo, batching."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from resnet_signs.errors import CourseError
from resnet_signs.images import ImageError, load_image, sample_hand, to_batch


@pytest.mark.parametrize("fingers", range(6))
def test_sample_hand_is_a_signs_shaped_uint8_image(fingers):
    image = sample_hand(fingers)
    assert image.shape == (64, 64, 3)
    assert image.dtype == np.uint8
    assert image.std() > 10  # a drawing, not a blank canvas


def test_sample_hand_differs_with_the_number_of_fingers():
    images = [sample_hand(n).astype(int) for n in range(6)]
    for a in range(6):
        for b in range(a + 1, 6):
            assert np.abs(images[a] - images[b]).sum() > 0, (a, b)
    # More raised fingers cover more of the background above the palm.
    skin_above_palm = [(np.abs(img[:28] - [226, 222, 214]).sum(axis=-1) > 60).sum() for img in images]
    assert skin_above_palm == sorted(skin_above_palm)


def test_sample_hand_other_size():
    assert sample_hand(2, size=32).shape == (32, 32, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fingers": 6}, "fingers must be an integer from 0 to 5. Received: fingers=6"),
        ({"fingers": "3"}, "fingers must be an integer from 0 to 5. Received: fingers='3'"),
        ({"fingers": True}, "fingers must be an integer from 0 to 5. Received: fingers=True"),
        ({"fingers": 1, "size": 8}, "size must be an integer of at least 16 pixels. Received: size=8"),
    ],
)
def test_sample_hand_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ImageError) as info:
        sample_hand(**kwargs)
    assert str(info.value) == message


def _photo(tmp_path, size=(120, 80), fmt="JPEG", name="photo.jpg", exif_orientation=None):
    rgb = np.zeros((size[1], size[0], 3), np.uint8)
    rgb[:, : size[0] // 2] = (250, 10, 10)  # left half red, right half blue
    rgb[:, size[0] // 2 :] = (10, 10, 250)
    image = Image.fromarray(rgb)
    path = tmp_path / name
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        image.save(path, fmt, exif=exif)
    else:
        image.save(path, fmt)
    return path


def test_load_image_crops_the_centre_square_and_resizes(tmp_path):
    image = load_image(_photo(tmp_path, size=(120, 80)))
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8
    # The 80x80 centre keeps both halves: red on the left, blue on the right, not squashed.
    assert image[32, 5, 0] > 200 and image[32, 58, 2] > 200


def test_load_image_applies_the_exif_rotation(tmp_path):
    # Orientation 6: the camera was turned; the upright image is rotated 90 degrees clockwise,
    # so the red left half ends up on top.
    image = load_image(_photo(tmp_path, size=(80, 80), exif_orientation=6))
    assert image[3, 32, 0] > 200 and image[60, 32, 2] > 200


def test_load_image_reads_png_with_alpha_and_greyscale(tmp_path):
    rgba = Image.new("RGBA", (50, 50), (0, 255, 0, 128))
    rgba.save(tmp_path / "a.png")
    Image.new("L", (50, 70), 200).save(tmp_path / "g.png")
    assert load_image(tmp_path / "a.png").shape == (64, 64, 3)
    grey = load_image(str(tmp_path / "g.png"), size=32)
    assert grey.shape == (32, 32, 3) and int(grey[0, 0, 0]) == 200


def test_load_image_missing_path(tmp_path):
    path = tmp_path / "my_photo.jpg"
    with pytest.raises(ImageError) as info:
        load_image(path)
    assert str(info.value) == (
        f"no file at {path}: put your photo next to the notebook (or give its full path) and check the name"
    )


def test_load_image_folder(tmp_path):
    with pytest.raises(ImageError) as info:
        load_image(tmp_path)
    assert str(info.value) == f"{tmp_path} is a folder, not an image file: give the path of a .jpg or .png photo"


def test_load_image_text_file(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("not a photo\n")
    with pytest.raises(ImageError) as info:
        load_image(path)
    assert str(info.value) == f"{path} is not an image Pillow can read: use a .jpg or .png photo"


def test_load_image_truncated_jpeg(tmp_path):
    path = _photo(tmp_path, size=(200, 200))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CourseError) as info:
        load_image(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path} is truncated or corrupt (")
    assert message.endswith("): copy the photo again")


def test_to_batch_scales_and_adds_the_batch_axis():
    batch = to_batch(sample_hand(1))
    assert batch.shape == (1, 64, 64, 3) and batch.dtype == np.float32
    assert batch.min() >= 0.0 and batch.max() <= 1.0
    np.testing.assert_allclose(batch[0] * 255.0, sample_hand(1), atol=1e-4)


def test_to_batch_rejects_a_batch():
    with pytest.raises(ImageError) as info:
        to_batch(np.zeros((2, 64, 64, 3), np.uint8))
    assert str(info.value) == "expected one RGB image of shape (height, width, 3). Received: shape=(2, 64, 64, 3)"

"""Copy four browser-test screenshots into docs/screenshots/, cropped and small (`make screenshots`).

Run the browser tests first (`pytest -m browser tests/browser`); they write the full-size
screenshots to tests/output/browser/. None of these shows a dataset photo.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "tests" / "output" / "browser"
TARGET = ROOT / "docs" / "screenshots"
#: name -> (screenshot, crop box (left, top, right, bottom) of a 1280x800 viewport)
SHOTS = {
    "student_hint.png": ("student_hint.png", (290, 260, 1240, 800)),
    "validate_result.png": ("validate_wrong.png", (176, 150, 1104, 650)),
    "formgrader_grades.png": ("formgrader_students.png", (0, 0, 1280, 380)),
    # the 繁體中文 edition (a 1280x2600 viewport): its first prose, and the wrong identity block's hint
    "student_prose_zh_TW.png": ("student_hint_zh_TW.png", (290, 140, 1240, 700)),
    "student_hint_zh_TW.png": ("student_hint_zh_TW.png", (290, 2075, 1240, 2215)),
}
MAX_WIDTH = 800


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    for name, (shot, box) in SHOTS.items():
        path = SOURCE / shot
        if not path.is_file():
            print(f"no {path}: run the browser tests first (pytest -m browser tests/browser)", file=sys.stderr)
            return 2
        image = Image.open(path).convert("RGB").crop(box)
        if image.width > MAX_WIDTH:
            image = image.resize((MAX_WIDTH, round(image.height * MAX_WIDTH / image.width)), Image.LANCZOS)
        image = image.quantize(colors=64)  # UI screenshots: a small palette keeps them well under 200 KB
        image.save(TARGET / name, optimize=True)
        print(f"{TARGET / name}: {(TARGET / name).stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

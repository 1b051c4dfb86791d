"""Copy the browser tests' and the JupyterHub test's screenshots into docs/screenshots/, cropped and small
(`make screenshots`).

Run the tests first (`pytest -m browser tests/browser`, `pytest -m hub tests/hub`); they write the
full-size screenshots to tests/output/browser/ and tests/output/hub/. None of these shows a dataset photo.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "tests" / "output"
TARGET = ROOT / "docs" / "screenshots"
#: name -> (screenshot under tests/output/, crop box (left, top, right, bottom) of a 1280x800 viewport)
SHOTS = {
    "student_hint.png": ("browser/student_hint.png", (290, 260, 1240, 800)),
    "validate_result.png": ("browser/validate_wrong.png", (176, 150, 1104, 650)),
    "formgrader_grades.png": ("browser/formgrader_students.png", (0, 0, 1280, 380)),
    # the 繁體中文 edition (a 1280x2600 viewport): its first prose, and the wrong identity block's hint
    "student_prose_zh_TW.png": ("browser/student_hint_zh_TW.png", (290, 140, 1240, 700)),
    "student_hint_zh_TW.png": ("browser/student_hint_zh_TW.png", (290, 2075, 1240, 2215)),
    # on JupyterHub: the formgrader panel inside the instructor's JupyterLab, a student's released feedback
    "hub_formgrader_panel.png": ("hub/formgrader_panel.png", (0, 0, 1280, 760)),
    "hub_student_feedback.png": ("hub/wrong_feedback.png", (0, 0, 1280, 780)),
}
MAX_WIDTH = 800


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    missing = []
    for name, (shot, box) in SHOTS.items():
        path = SOURCE / shot
        if not path.is_file():
            missing.append(path)
            continue
        image = Image.open(path).convert("RGB").crop(box)
        if image.width > MAX_WIDTH:
            image = image.resize((MAX_WIDTH, round(image.height * MAX_WIDTH / image.width)), Image.LANCZOS)
        image = image.quantize(colors=64)  # UI screenshots: a small palette keeps them well under 200 KB
        image.save(TARGET / name, optimize=True)
        print(f"{TARGET / name}: {(TARGET / name).stat().st_size // 1024} KB")
    for path in missing:
        print(f"no {path}: run its test first (pytest -m browser tests/browser; pytest -m hub tests/hub, as root)",
              file=sys.stderr)
    return 2 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

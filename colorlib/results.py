"""The series' measured results, shipped inside the package so a chapter opened anywhere can read them.

    colorlib.load_results("photos")   # what experiments/photos.py measured (docs/photos.json in the repository)

The experiments write their JSON to docs/; the wheel carries those files as colorlib/results/ (pyproject's
force-include), and an editable install reads them from docs/ itself: one copy, wherever colorlib runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import ColorlibError, did_you_mean

NAMES = ("experiments", "photos", "colour", "ttq")  # docs/NAME.json, written by experiments/NAME.py
_DIRS = (Path(__file__).parent / "results", Path(__file__).parent.parent / "docs")


def load_results(name: str) -> dict:
    """The results `name` (one of NAMES) as the experiment wrote them."""
    if name not in NAMES:
        raise ColorlibError(f"no results named {name!r};{did_you_mean(name, NAMES)} the results are {', '.join(NAMES)}")
    for folder in _DIRS:
        if (folder / f"{name}.json").is_file():
            return json.loads((folder / f"{name}.json").read_text())
    raise ColorlibError(f"{name}.json is missing from this installation of colorlib (looked in {', '.join(map(str, _DIRS))})")

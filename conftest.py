"""nbval runs the chapters in notebooks/ and their worked solutions in notebooks/solutions/; those
whose metadata says they read CIFAR-10 ("colorlib": {"needs_cifar": true}) skip cleanly when it
cannot be found (they would try to download it).

It lives at the repository root, out of the learner's folder.
"""

import json

import pytest

from colorlib.data import find_root
from colorlib.errors import DataError


def needs_cifar(path) -> bool:
    return bool(json.loads(path.read_text()).get("metadata", {}).get("colorlib", {}).get("needs_cifar"))


def pytest_collection_modifyitems(config, items):
    try:
        find_root()
        return
    except DataError:
        pass
    skip = pytest.mark.skip(reason="CIFAR-10 not found (set COLORLIB_DATA); this notebook reads it")
    cache: dict = {}
    for item in items:
        if item.path.suffix == ".ipynb":
            if item.path not in cache:
                cache[item.path] = needs_cifar(item.path)
            if cache[item.path]:
                item.add_marker(skip)

"""colorlib: automatic colourisation of greyscale images as per-pixel classification over a palette.

The names below load on first use, so `import colorlib` and the `colorlib` command start quickly;
PyTorch loads with the first name that needs it.
"""

from __future__ import annotations

import importlib
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name → the submodule that defines it
_EXPORTS = {
    "colorize": "colorize",
    "read_image": "colorize",
    "CLASSES": "data",
    "ColorData": "data",
    "load_cifar10": "data",
    "to_grey": "data",
    "ColorlibError": "errors",
    "evaluate": "metrics",
    "build": "models",
    "Palette": "palette",
    "load_palette": "palette",
    "pretrained": "pretrained",
    "load_results": "results",
    "Run": "runs",
    "load_run": "runs",
    "TrainConfig": "config",
    "train": "train",
}
__all__ = [
    "CLASSES",
    "ColorData",
    "ColorlibError",
    "Palette",
    "Run",
    "TrainConfig",
    "build",
    "colorize",
    "evaluate",
    "load_cifar10",
    "load_palette",
    "load_results",
    "load_run",
    "pretrained",
    "read_image",
    "to_grey",
    "train",
]

if TYPE_CHECKING:
    from .colorize import colorize, read_image
    from .config import TrainConfig
    from .data import CLASSES, ColorData, load_cifar10, to_grey
    from .errors import ColorlibError
    from .metrics import evaluate
    from .models import build
    from .palette import Palette, load_palette
    from .pretrained import pretrained
    from .results import load_results
    from .runs import Run, load_run
    from .train import train


class _Package(types.ModuleType):
    """The package module: loads each public name on first use. Three submodules are named like the
    function they export (colorize, pretrained, train); when Python binds such a submodule to the
    package after importing it, the package keeps the function under that name, as before."""

    def __getattr__(self, name: str) -> Any:
        if name not in _EXPORTS:
            raise AttributeError(f"module 'colorlib' has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        setattr(self, name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name:
            value = getattr(value, name)
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(_EXPORTS))


import sys  # noqa: E402

sys.modules[__name__].__class__ = _Package

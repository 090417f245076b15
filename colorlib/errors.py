"""The exceptions colorlib raises on purpose: each message names what was wrong and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """ " did you mean X?" (or "X or Y?") for the one or two names closest to a misspelt `word`; "" if none is close."""
    close = difflib.get_close_matches(str(word).strip().lower(), list(choices), n=2, cutoff=0.6)
    return f" did you mean {' or '.join(close)}?" if close else ""


class ColorlibError(Exception):
    """Base class: catch this to handle any colorlib error."""


class PaletteError(ColorlibError):
    """A palette file or array is not a usable codebook."""


class DataError(ColorlibError):
    """CIFAR-10 (or a selection of it) is missing, corrupt or empty."""


class ModelError(ColorlibError):
    """An unknown architecture or weights that do not fit the model."""


class RunError(ColorlibError):
    """A run directory or checkpoint is missing, unreadable or inconsistent."""


class ImageError(ColorlibError):
    """An input image cannot be read or colourised."""


class TrainingError(ColorlibError):
    """Training arguments are invalid or training diverged."""


class ExerciseError(ColorlibError):
    """Strict mode (COLORLIB_STRICT set): a chapter's exercise is not right yet, so the chapter stops there."""

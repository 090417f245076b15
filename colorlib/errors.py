"""The exceptions colorlib raises on purpose: each message names what was wrong and how to fix it."""


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

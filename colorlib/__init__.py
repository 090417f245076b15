"""colorlib: automatic colourisation of greyscale images as per-pixel classification over a palette."""

from .colorize import colorize, read_image
from .data import CLASSES, ColorData, load_cifar10, to_grey
from .errors import ColorlibError
from .metrics import evaluate
from .models import build
from .palette import Palette, load_palette
from .pretrained import pretrained
from .runs import Run, load_run
from .train import TrainConfig, train

__version__ = "0.1.0"
__all__ = [
    "CLASSES", "ColorData", "ColorlibError", "Palette", "Run", "TrainConfig", "build", "colorize",
    "evaluate", "load_cifar10", "load_palette", "load_run", "pretrained", "read_image", "to_grey", "train",
]  # fmt: skip

"""CIFAR-10 from its python batches, the one greyscale function, and in-memory training tensors."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .errors import DataError
from .palette import Palette
from .unpickle import decode_keys, restricted_loads

CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
BATCHES_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = ("test_batch",)
SPLITS = ("train", "test")

# ITU-R BT.601 luma in 16-bit fixed point, exactly as Pillow's convert("L") computes it.
_LUMA_WEIGHTS = np.array([19595, 38470, 7471], np.uint32)


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of uint8 RGB (..., 3) as float32 (...) in [0, 1]; equals Pillow's "L" / 255."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise DataError(f"to_grey expects uint8 RGB with a last axis of 3, got {rgb.dtype} {rgb.shape}")
    luma = (rgb.astype(np.uint32) @ _LUMA_WEIGHTS + 0x8000) >> 16
    return luma.astype(np.float32) / np.float32(255)


def grey_rgb(rgb: np.ndarray) -> np.ndarray:
    """The model's grey input as uint8 RGB (R = G = B = luma): the "no colour" picture."""
    return np.repeat(np.rint(to_grey(rgb) * 255).astype(np.uint8)[..., None], 3, axis=-1)


def with_luma(colour: np.ndarray, source: np.ndarray) -> np.ndarray:
    """`colour`'s chroma (Cb, Cr) on `source`'s luma: uint8 RGB (..., H, W, 3) whose grey is the source's.

    A palette colour carries its own lightness; this puts back the exact lightness of the input
    (as Zhang et al. keep L and predict only ab). Both are uint8 RGB of one shape.
    """
    from PIL import Image

    colour, source = np.asarray(colour), np.asarray(source)
    if colour.shape != source.shape or colour.dtype != np.uint8 or source.dtype != np.uint8 or colour.shape[-1:] != (3,):
        raise DataError(f"with_luma needs two uint8 RGB arrays of one shape, got {colour.shape} and {source.shape}")
    flat = colour.reshape(-1, colour.shape[-2], 3)  # all pictures stacked into one tall image: one conversion
    ycc = np.array(Image.fromarray(flat).convert("YCbCr"))
    ycc[..., 0] = grey_rgb(source)[..., 0].reshape(ycc.shape[:2])
    return np.asarray(Image.fromarray(ycc, "YCbCr").convert("RGB")).reshape(colour.shape)


def default_root() -> Path:
    """Where CIFAR-10 is looked for: $COLORLIB_DATA, else the per-user cache folder."""
    env = os.environ.get("COLORLIB_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "colorlib"


def how_to_get_data(root: Path) -> str:
    return (
        f"CIFAR-10 not found: expected {root / BATCHES_DIR}/ with data_batch_1..5 and test_batch. "
        "Either allow the download (`--download`, or download=True), or fetch "
        "cifar-10-python.tar.gz from the CIFAR-10 home page, unpack it into a folder and point "
        "colorlib at that folder with --data DIR or COLORLIB_DATA=DIR."
    )


def find_root(root: str | os.PathLike | None = None, download: bool = False) -> Path:
    """The folder holding `cifar-10-batches-py/`; downloads (md5-checked) into it if allowed."""
    root = Path(root).expanduser() if root is not None else default_root()
    if (root / BATCHES_DIR).is_dir():
        return root
    if not download:
        raise DataError(how_to_get_data(root))
    from torchvision.datasets import CIFAR10
    from torchvision.datasets.utils import download_and_extract_archive

    try:
        root.mkdir(parents=True, exist_ok=True)
        download_and_extract_archive(CIFAR10.url, str(root), filename=CIFAR10.filename, md5=CIFAR10.tgz_md5)
    except Exception as e:  # noqa: BLE001 - network, disk or checksum: the same advice applies
        raise DataError(f"downloading CIFAR-10 into {root} failed ({e}). {how_to_get_data(root)}") from None
    return root


def read_batch(path: str | os.PathLike) -> dict:
    """One CIFAR-10 python batch as a dict with str keys, unpickled without running any code."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read CIFAR-10 batch ({e.strerror})") from None
    try:
        batch = restricted_loads(raw)
    except Exception as e:  # noqa: BLE001 - truncated, corrupt or hostile: refuse it all the same
        raise DataError(f"{path}: not a valid CIFAR-10 batch ({e}); re-download the dataset") from None
    if not isinstance(batch, dict):
        raise DataError(f"{path}: not a valid CIFAR-10 batch (expected a dict); re-download the dataset")
    return decode_keys(batch)


def _batch_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = read_batch(path)
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DataError(f"{path}: 'data' must be a uint8 N×3072 array; re-download the dataset")
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (len(data),) or (labels.size and (labels.min() < 0 or labels.max() >= len(CLASSES))):
        raise DataError(f"{path}: 'labels' must be N class indices 0..9; re-download the dataset")
    # Stored as R, G, B planes of 32×32, row-major: to N×32×32×3.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def class_indices(classes: str | int | Iterable[str | int] | None) -> list[int]:
    """Class names or indices (or None for all ten) as sorted unique indices."""
    if classes is None:
        return list(range(len(CLASSES)))
    if isinstance(classes, (str, int)):
        classes = [classes]
    out = set()
    for c in classes:
        if isinstance(c, str) and c.strip().isdigit():
            c = int(c)
        if isinstance(c, (int, np.integer)) and 0 <= c < len(CLASSES):
            out.add(int(c))
        elif isinstance(c, str) and c.strip().lower() in CLASSES:
            out.add(CLASSES.index(c.strip().lower()))
        elif isinstance(c, str) and c.strip().lower() == "all":
            out.update(range(len(CLASSES)))
        else:
            raise DataError(f"unknown CIFAR-10 class {c!r}; choose from {', '.join(CLASSES)} (or 0..9, or 'all')")
    if not out:
        raise DataError("no classes selected; name at least one CIFAR-10 class")
    return sorted(out)


@dataclass
class Images:
    """A selection of CIFAR-10: uint8 images N×32×32×3 and their class labels."""

    images: np.ndarray
    labels: np.ndarray
    classes: list[str]
    split: str

    def __len__(self) -> int:
        return len(self.images)


def load_cifar10(
    classes: str | int | Sequence[str | int] | None = None,
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = False,
    drop_grey: bool = False,
) -> Images:
    """Images of the chosen classes from one split ('train' or 'test'), in file order."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; use 'train' or 'test'")
    wanted = class_indices(classes)
    folder = find_root(root, download) / BATCHES_DIR
    images, labels = [], []
    for name in TRAIN_BATCHES if split == "train" else TEST_BATCHES:
        x, y = _batch_arrays(folder / name)
        keep = np.isin(y, wanted)
        images.append(x[keep])
        labels.append(y[keep])
    x, y = np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels)
    names = [CLASSES[i] for i in wanted]
    if len(x) == 0:
        raise DataError(f"the selection {names} ({split}) holds no images in {folder}; choose other classes")
    if drop_grey:
        colour = ~((x[..., 0] == x[..., 1]) & (x[..., 1] == x[..., 2])).all(axis=(1, 2))
        if not colour.any():
            raise DataError(
                f"the selection {names} ({split}) holds only greyscale images ({len(x)}), and drop_grey "
                "(--drop-grey) drops them all; keep them or choose other classes"
            )
        x, y = x[colour], y[colour]
    return Images(x, y, names, split)


@dataclass
class ColorData:
    """Model-ready tensors, built once: grey input N×1×H×W float32 and palette targets N×H×W uint8."""

    grey: torch.Tensor
    targets: torch.Tensor
    images: np.ndarray  # the original uint8 RGB, for figures and metrics

    def __len__(self) -> int:
        return len(self.grey)

    @classmethod
    def from_images(cls, images: np.ndarray, palette: Palette) -> ColorData:
        """Greyscale inputs and palette-index targets for uint8 RGB images N×H×W×3."""
        images = np.ascontiguousarray(images)
        grey = torch.from_numpy(to_grey(images)).unsqueeze(1)
        targets = torch.from_numpy(palette.quantize(images))
        return cls(grey, targets, images)

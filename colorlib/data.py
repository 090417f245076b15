"""CIFAR-10 from its python batches (download, holdout, photos) and in-memory training tensors."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import DataError, did_you_mean
from .palette import Palette
from .pixels import grey_rgb, luma, to_grey, with_luma  # noqa: F401 - re-exported: colorlib.data.with_luma etc.
from .unpickle import decode_keys, restricted_loads

if TYPE_CHECKING:  # torch loads with the first tensor: class names and files are checked without it
    import torch

CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
BATCHES_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = ("test_batch",)
SPLITS = ("train", "test")
# The official archive; a mirror can stand in for it (COLORLIB_CIFAR_URL, COLORLIB_CIFAR_MD5).
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE = "cifar-10-python.tar.gz"
HOLDOUT_FRACTION = 0.1  # share of each class's training images kept back for validation


def photos() -> dict[str, np.ndarray]:
    """Eight colour photographs that installed packages ship (no download), uint8 RGB: a test set of
    real pictures with their true colours, beside CIFAR-10's thumbnails.

    scikit-image's astronaut, chelsea (a cat), coffee, rocket and motorcycle; scikit-learn's china
    (a temple among trees) and flower; matplotlib's grace_hopper.
    """
    import matplotlib.cbook
    from PIL import Image
    from skimage import data as skdata
    from sklearn.datasets import load_sample_image

    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as hopper:
        grace = np.asarray(hopper.convert("RGB"))
    return {
        "astronaut": skdata.astronaut(),
        "chelsea": skdata.chelsea(),
        "coffee": skdata.coffee(),
        "rocket": skdata.rocket(),
        "motorcycle": skdata.stereo_motorcycle()[0],
        "china": load_sample_image("china.jpg"),
        "flower": load_sample_image("flower.jpg"),
        "grace_hopper": grace,
    }


def default_root() -> Path:
    """Where CIFAR-10 is looked for: $COLORLIB_DATA, else the per-user cache folder."""
    env = os.environ.get("COLORLIB_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "colorlib"


def archive_source() -> tuple[str, str]:
    """(URL, md5) of the CIFAR-10 python archive: the official one unless COLORLIB_CIFAR_URL/_MD5 say otherwise."""
    return os.environ.get("COLORLIB_CIFAR_URL") or CIFAR_URL, os.environ.get("COLORLIB_CIFAR_MD5") or CIFAR_MD5


def _by_hand(root: Path) -> str:
    url, md5 = archive_source()
    return (
        f"download {url} yourself (md5 {md5}), unpack it with `tar -xzf {ARCHIVE} -C {root}` (or into any folder) "
        f"and point colorlib at the folder holding cifar-10-batches-py/: COLORLIB_DATA=DIR, --data DIR in the shell, "
        f"root=DIR in Python; or download from a mirror with COLORLIB_CIFAR_URL (and COLORLIB_CIFAR_MD5 for its md5)"
    )


def how_to_get_data(root: Path) -> str:
    return (
        f"CIFAR-10 not found: expected {root / BATCHES_DIR}/ with data_batch_1..5 and test_batch. "
        f"Either allow the download (`--download`, or download=True), or {_by_hand(root)}."
    )


def find_root(root: str | os.PathLike | None = None, download: bool = False) -> Path:
    """The folder holding `cifar-10-batches-py/`; downloads (md5-checked) into it if allowed."""
    root = Path(root).expanduser() if root is not None else default_root()
    if (root / BATCHES_DIR).is_dir():
        return root
    if not download:
        raise DataError(how_to_get_data(root))
    download_cifar10(root)
    return root


def download_cifar10(root: Path) -> None:
    """Download the archive (about 170 MB, with a progress bar), check its md5, unpack it into `root`: all or nothing."""
    from torchvision.datasets.utils import download_url

    url, md5 = archive_source()
    part = root / f".{ARCHIVE}.part"
    unpack = root / ".cifar-10-unpacking"
    created = [p for p in (root, *root.parents) if not p.exists()]  # removed again if the download fails
    try:
        root.mkdir(parents=True, exist_ok=True)
        download_url(url, str(root), filename=part.name)
        got = hashlib.md5(part.read_bytes(), usedforsecurity=False).hexdigest()
        if got != md5:
            raise DataError(f"the archive's md5 is {got}, expected {md5}: the download is damaged or not CIFAR-10")
        shutil.rmtree(unpack, ignore_errors=True)
        with tarfile.open(part) as tar:
            tar.extractall(unpack, filter="data")
        if not (unpack / BATCHES_DIR / "test_batch").is_file():
            raise DataError(f"the archive holds no {BATCHES_DIR}/test_batch: it is not the CIFAR-10 python version")
        os.replace(unpack / BATCHES_DIR, root / BATCHES_DIR)
    except Exception as e:  # noqa: BLE001 - network, disk, checksum or archive: one message, nothing left behind
        reason = str(e) or type(e).__name__
        part.unlink(missing_ok=True)
        shutil.rmtree(unpack, ignore_errors=True)
        for folder in created:  # innermost first; only folders this call made and left empty
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise DataError(f"downloading CIFAR-10 from {url} into {root} failed ({reason}). Instead, {_by_hand(root)}.") from None
    finally:
        part.unlink(missing_ok=True)
        shutil.rmtree(unpack, ignore_errors=True)
    print(f"colorlib: downloaded CIFAR-10 from {url} into {root / BATCHES_DIR} (md5 checked)", file=sys.stderr)


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
            raise DataError(
                f"unknown CIFAR-10 class {c!r};{did_you_mean(c, CLASSES)} choose from {', '.join(CLASSES)} (or 0..9, or 'all')"
            )
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

    def take(self, keep: np.ndarray, split: str | None = None) -> Images:
        """The images where `keep` (a boolean mask or indices) says, as a new selection."""
        return replace(self, images=np.ascontiguousarray(self.images[keep]), labels=self.labels[keep], split=split or self.split)

    def without_grey(self) -> Images:
        """The selection less its pictures that are already greyscale (R = G = B everywhere)."""
        x = self.images
        colour = ~((x[..., 0] == x[..., 1]) & (x[..., 1] == x[..., 2])).all(axis=(1, 2))
        if not colour.any():
            raise DataError(
                f"the selection {self.classes} ({self.split}) holds only greyscale images ({len(x)}), and drop_grey "
                "(--drop-grey) drops them all; keep them or choose other classes"
            )
        return self.take(colour)


def holdout_mask(labels: np.ndarray, fraction: float = HOLDOUT_FRACTION, seed: int = 0) -> np.ndarray:
    """Which training images form the validation holdout: a seeded `fraction` of each class, by file order.

    A class's holdout depends only on that class's images and `seed`, so the same horses are held
    out whether a run trains on horses alone or on all ten classes.
    """
    labels = np.asarray(labels)
    mask = np.zeros(len(labels), bool)
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        order = np.random.default_rng([seed, int(c)]).permutation(len(where))
        mask[where[order[: round(fraction * len(where))]]] = True
    return mask


def split_holdout(images: Images, fraction: float = HOLDOUT_FRACTION, seed: int = 0) -> tuple[Images, Images]:
    """(train, holdout) from a train split: disjoint, and the same for the same images and seed."""
    if images.split != "train":
        raise DataError(f"a holdout is taken from the train split, not {images.split!r}")
    mask = holdout_mask(images.labels, fraction, seed)
    if mask.all() or not mask.any():
        raise DataError(f"a {fraction:.0%} holdout of {len(images)} images leaves nothing to train or validate on")
    return images.take(~mask), images.take(mask, "holdout")


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
    selection = Images(x, y, names, split)
    return selection.without_grey() if drop_grey else selection


@dataclass
class ColorData:
    """Model-ready tensors, built once: grey input N×1×H×W float32 and palette targets N×H×W uint8."""

    grey: torch.Tensor
    targets: torch.Tensor
    images: np.ndarray  # the original uint8 RGB, for figures and metrics

    def __len__(self) -> int:
        return len(self.grey)

    @property
    def rgb(self) -> torch.Tensor:
        """The original colours as a uint8 tensor N×H×W×3 (no copy): a regression model's targets."""
        import torch

        return torch.from_numpy(self.images)

    @classmethod
    def from_images(cls, images: np.ndarray, palette: Palette) -> ColorData:
        """Greyscale inputs and palette-index targets for uint8 RGB images N×H×W×3."""
        import torch

        images = np.ascontiguousarray(images)
        grey = torch.from_numpy(to_grey(images)).unsqueeze(1)
        targets = torch.from_numpy(palette.quantize(images))
        return cls(grey, targets, images)

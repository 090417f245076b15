"""A training run on disk: what it holds, how it is written safely, and how it is loaded back.

A run directory holds
    config.json      everything needed to rebuild the model and its palette (colours included)
    history.json     per-epoch train/validation loss, validation pixel accuracy, seconds
    weights.pt       the model's state_dict (loads with torch.load(..., weights_only=True))
    snapshots.npz    predicted palette indices of a fixed set of validation images, every epoch
    checkpoint.pt    model, optimizer, history and snapshots together, for `train(..., resume=True)`
    loss.png         the loss curves
Every file is replaced atomically (temp file, fsync, rename), so a crash never leaves a torn file.
Each epoch writes checkpoint.pt first, then the exports; a crash between the two leaves the
exports behind it, so `load_run` then loads the checkpoint instead, and resuming rewrites the
exports from it.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .errors import ColorlibError, RunError
from .models import ColorNet, ModelConfig
from .palette import Palette

FORMAT = "colorlib-run"
VERSION = 1
CONFIG, HISTORY, WEIGHTS, SNAPSHOTS, CHECKPOINT, LOSS_FIGURE = (
    "config.json", "history.json", "weights.pt", "snapshots.npz", "checkpoint.pt", "loss.png",
)  # fmt: skip


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers see the old file or the new one, never a mix."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # fsync the folder so the rename itself survives a power cut (not supported everywhere)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def write_json(path: Path, obj: Any) -> None:
    atomic_write(path, (json.dumps(obj, indent=2) + "\n").encode())


def write_torch(path: Path, obj: Any) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write(path, buf.getvalue())


def read_torch(path: Path) -> Any:
    """torch.load with weights_only=True: tensors and plain containers only, never code."""
    if not path.is_file():
        raise RunError(f"{path}: missing; the run is incomplete (train it again or resume it)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:  # weights_only refused a global: loading would run code
        # torch's first line suggests weights_only=False; the useful line names what was refused
        refused = [line for line in str(e).splitlines() if re.search(r"GLOBAL|[Uu]nsupported", line)]
        detail = refused[0].strip().rstrip(".") if refused else "a pickle opcode weights_only=True does not allow"
        raise RunError(
            f"{path}: unsafe, refused: loading it would run code or build foreign objects ({detail}); "
            "use runs only from a source you trust"
        ) from None
    except Exception as e:  # noqa: BLE001 - truncated or foreign files end here
        raise RunError(
            f"{path}: unreadable, truncated or not a PyTorch file ({str(e).splitlines()[0].split('. ')[0]}); "
            "copy the run again or train it again"
        ) from None


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise RunError(f"{path}: missing; is {path.parent} a colorlib run directory?")
    try:
        return json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise RunError(f"{path}: not valid JSON ({e})") from None


@dataclass
class Snapshots:
    """Predicted palette indices (epochs × n × H × W) of n fixed validation images, every epoch."""

    epochs: np.ndarray  # which epoch each row belongs to
    predictions: np.ndarray  # uint8 palette indices (…×H×W), or a regression model's RGB (…×H×W×3)
    images: np.ndarray  # the n original uint8 RGB images n × H × W × 3

    def at(self, epoch: int) -> np.ndarray:
        """Predictions after `epoch` (0-based)."""
        rows = np.flatnonzero(self.epochs == epoch)
        if not len(rows):
            raise RunError(f"no snapshot for epoch {epoch}; the run has epochs {self.epochs.min()}..{self.epochs.max()}")
        return self.predictions[rows[0]]

    def rgb(self, epoch: int, palette: Palette) -> np.ndarray:
        """The pictures predicted after `epoch` as uint8 RGB n×H×W×3 (palette indices decoded)."""
        predicted = self.at(epoch)
        return predicted if predicted.ndim == self.images.ndim else palette.decode(predicted)

    def save(self, path: Path) -> None:
        buf = io.BytesIO()
        np.savez_compressed(buf, epochs=self.epochs, predictions=self.predictions, images=self.images)
        atomic_write(path, buf.getvalue())

    @classmethod
    def from_checkpoint(cls, checkpoint: dict) -> Snapshots:
        epochs = np.array([h["epoch"] for h in checkpoint["history"]], dtype=np.int64)
        return cls(epochs, checkpoint["predictions"].numpy(), checkpoint["snapshot_images"].numpy())

    @classmethod
    def load(cls, path: Path) -> Snapshots:
        try:
            with np.load(path, allow_pickle=False) as z:
                return cls(z["epochs"], z["predictions"], z["images"])
        except Exception as e:  # noqa: BLE001
            raise RunError(f"{path}: unreadable snapshots ({e})") from None


@dataclass
class Run:
    """A trained run: model (eval mode), palette, config, history and per-epoch snapshots."""

    model: ColorNet
    palette: Palette
    config: dict
    history: list[dict]
    snapshots: Snapshots | None = None
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.path.name if self.path else f"{self.config['model']['arch']}"


def model_from_config(config: dict) -> tuple[ColorNet, Palette]:
    """Rebuild an (untrained) model and its palette from a run's config.json contents."""
    try:
        if config.get("format") != FORMAT:
            raise RunError("config.json is not a colorlib run config")
        if config.get("version", 0) > VERSION:
            raise RunError(
                f"config.json has format version {config['version']}, newer than this colorlib "
                f"understands ({VERSION}); upgrade colorlib"
            )
        palette = Palette(np.array(config["palette"]["colors"], dtype=np.int64), config["palette"]["space"])
        model = ColorNet(ModelConfig(**config["model"]))
    except RunError:
        raise
    except ColorlibError as e:
        raise RunError(f"config.json: {e}") from None
    except (KeyError, TypeError, ValueError) as e:
        raise RunError(f"config.json lacks or garbles a required field ({e!r}); the run is corrupt") from None
    if palette.num_colors != model.config.num_colors:
        raise RunError(
            f"config.json: palette has {palette.num_colors} colours but the model predicts "
            f"{model.config.num_colors}; they must match"
        )
    return model, palette


def load_weights(model: ColorNet, path: Path) -> None:
    state = read_torch(path)
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as e:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        detail = lines[1] if len(lines) > 1 else lines[0]  # the first mismatch, not "Error(s) in loading …"
        raise RunError(f"{path}: weights do not fit the {model.config.arch} model in config.json ({detail})") from None


def _exports_match(checkpoint: Any, history: list, snapshots: Snapshots | None, path: Path) -> bool:
    """Whether weights.pt, history.json and snapshots.npz were all written from this checkpoint."""
    if not isinstance(checkpoint, dict) or "history" not in checkpoint:
        raise RunError(f"{path / CHECKPOINT}: not a colorlib checkpoint")
    epochs = [h["epoch"] for h in checkpoint["history"]]
    return (
        (path / WEIGHTS).exists()
        and history == checkpoint["history"]
        and snapshots is not None
        and snapshots.epochs.tolist() == epochs
    )


def load_run(path: str | os.PathLike, device: str | torch.device = "cpu") -> Run:
    """Load a run directory written by `colorlib train`; the model is returned in eval mode."""
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"{path}: no such run directory")
    config = read_json(path / CONFIG)
    if not isinstance(config, dict):
        raise RunError(f"{path / CONFIG}: expected a JSON object")
    try:
        model, palette = model_from_config(config)
    except RunError as e:
        raise RunError(f"{path}: {e}") from None
    history = read_json(path / HISTORY) if (path / HISTORY).exists() else []
    snapshots = Snapshots.load(path / SNAPSHOTS) if (path / SNAPSHOTS).exists() else None
    checkpoint = read_torch(path / CHECKPOINT) if (path / CHECKPOINT).exists() else None
    if checkpoint is not None and not _exports_match(checkpoint, history, snapshots, path):
        # killed between checkpoint.pt and the exports: the checkpoint holds the latest whole epoch
        try:
            model.load_state_dict(checkpoint["model"])
            history, snapshots = list(checkpoint["history"]), Snapshots.from_checkpoint(checkpoint)
        except (KeyError, TypeError, RuntimeError, AttributeError) as e:
            first = str(e).splitlines()[0]
            raise RunError(f"{path / CHECKPOINT}: does not fit the run in config.json ({first})") from None
    else:
        load_weights(model, path / WEIGHTS)
    # channels_last: the layout convolutions run fastest in (same weights, about 1.7× faster inference)
    model = model.to(device, memory_format=torch.channels_last).eval()
    return Run(model, palette, config, history, snapshots, path)

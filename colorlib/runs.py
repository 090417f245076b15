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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .atomic import atomic_write  # noqa: F401 - re-exported: runs.atomic_write
from .config import _LEGACY, _RESUME_KEYS, TrainConfig, parse_skips
from .errors import ColorlibError, RunError
from .models import ColorNet, ModelConfig
from .palette import TEMPERATURE, Palette

FORMAT = "colorlib-run"
VERSION = 1
CONFIG, HISTORY, WEIGHTS, SNAPSHOTS, CHECKPOINT, LOSS_FIGURE = (
    "config.json",
    "history.json",
    "weights.pt",
    "snapshots.npz",
    "checkpoint.pt",
    "loss.png",
)
RUN_FILES = (CONFIG, HISTORY, WEIGHTS, SNAPSHOTS, CHECKPOINT, LOSS_FIGURE)


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
        return predicted if predicted.ndim == self.images.ndim else palette.decode_for(predicted, self.images)

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

    @property
    def temperature(self) -> float:
        """The annealed-mean temperature chosen for this run (its config's "decoding"), else Zhang's 0.38."""
        return float(self.config.get("decoding", {}).get("temperature", TEMPERATURE))


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


# -- a run folder's life while training: checked, prepared, an epoch committed ----------------------


def check_folder(out: Path, config: TrainConfig, resume: bool, force: bool) -> tuple[dict | None, dict | None]:
    """Refuse a bad `out` before any slow work, touching nothing; (saved config, checkpoint to resume) if any."""
    if out.exists() and not out.is_dir():
        raise RunError(f"{out}: exists and is not a folder; choose another --out")
    has_run = (out / CONFIG).exists()
    ours = {f".{name}.tmp" for name in RUN_FILES} | {".write-test"}  # what a run killed at start-up leaves
    if out.is_dir() and any(p.name not in ours for p in out.iterdir()) and not has_run:
        raise RunError(f"{out}: folder is not empty and holds no colorlib run; choose an empty or new --out")
    if has_run and not (resume or force):
        raise RunError(f"{out}: already holds a run; pass --resume to continue it or --force to replace it")
    if not has_run or force:
        return None, None
    saved = read_json(out / CONFIG)
    previous = saved.get("train", {}) if isinstance(saved, dict) else {}
    legacy = {**_LEGACY, "skips": ",".join(parse_skips(None, previous.get("arch", "unet"))) or "none"}
    changed = [k for k in _RESUME_KEYS if previous.get(k, legacy.get(k)) != asdict(config)[k]]
    if changed:
        raise RunError(
            f"{out}: cannot resume, settings differ from the saved run ({', '.join(changed)}); "
            "use the same settings or --force to start over"
        )
    if not (out / CHECKPOINT).exists():
        if (out / HISTORY).exists():
            raise RunError(
                f"{out}: the run has no checkpoint.pt (it was finished and exported), so it cannot be resumed; "
                "use --force to train it again or choose a new --out"
            )
        return saved, None
    checkpoint = read_torch(out / CHECKPOINT)
    done = len(checkpoint["history"])
    if config.epochs < done:
        raise RunError(
            f"{out}: the run has already trained {done} epochs, more than --epochs {config.epochs}; a run is not "
            f"shortened: pass --epochs {done} or more to continue it, or --force to start over"
        )
    return saved, checkpoint


def prepare_folder(out: Path, replace_run: bool) -> None:
    """Make `out` ready to write: created, writable, no half-written files; the old run's files gone if replaced."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise RunError(f"{out}: cannot write the run there ({e.strerror}); choose another --out") from None
    for name in RUN_FILES:  # half-written files of a run killed mid-save
        (out / f".{name}.tmp").unlink(missing_ok=True)
    if replace_run:
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)


def checkpoint_state(model, optimizer, scheduler, history, predictions, snapshot_images) -> dict:
    """Everything an epoch leaves behind, as tensors and plain containers (loads with weights_only)."""
    return {
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": list(history),
        "predictions": torch.stack(predictions) if predictions else torch.zeros(0, dtype=torch.uint8),
        "snapshot_images": torch.from_numpy(np.ascontiguousarray(snapshot_images)),
    }


def save_checkpoint(out: Path, checkpoint: dict) -> None:
    """Save an epoch's checkpoint.pt (written before the exports: once it is on disk the epoch is done)."""
    epoch = checkpoint["history"][-1]["epoch"]
    try:
        write_torch(out / CHECKPOINT, checkpoint)
    except OSError as e:  # disk full, permissions: the previous epoch's files are untouched
        raise RunError(
            f"{out}: saving epoch {epoch} failed ({e.strerror or e}); the run keeps epoch {epoch - 1}. "
            "Free space or fix permissions, then --resume"
        ) from None


def save_exports(out: Path, checkpoint: dict) -> None:
    """Rewrite the portable files (weights, history, snapshots) from a saved checkpoint; a failure
    leaves them one epoch behind it."""
    epoch = checkpoint["history"][-1]["epoch"]
    try:
        write_torch(out / WEIGHTS, checkpoint["model"])
        write_json(out / HISTORY, checkpoint["history"])
        Snapshots.from_checkpoint(checkpoint).save(out / SNAPSHOTS)
    except OSError as e:
        raise RunError(
            f"{out}: epoch {epoch} is saved in checkpoint.pt but writing weights.pt/history.json/snapshots.npz "
            f"failed ({e.strerror or e}); free space or fix permissions, then --resume rewrites them"
        ) from None

"""Settings, with no PyTorch: what a network is (`ModelConfig`) and how it is trained (`TrainConfig`).

Both check themselves, so a bad setting is refused at once, before torch, data or a model loads
(`colorlib train --lr -1` answers in a fraction of a second).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from .errors import ColorlibError, ModelError, TrainingError

ARCHS: tuple[str, ...] = ("cnn", "unet")
OBJECTIVES: tuple[str, ...] = ("classify", "regress")
# The UNet's three skips, named after what they carry: down2's 8×8 features into up1, down1's
# 16×16 features into up2, and the grey input itself into the final conv.
SKIPS: tuple[str, ...] = ("down2", "down1", "grey")


def parse_skips(skips: str | Sequence[str] | None, arch: str = "unet") -> tuple[str, ...]:
    """Skip names in canonical order from 'all', 'none', 'down1,grey' or a list; None: the arch's own."""
    if skips is None:
        return SKIPS if arch == "unet" else ()
    names = skips.split(",") if isinstance(skips, str) else list(skips)
    names = [str(n).strip().lower() for n in names if str(n).strip()]
    if names == ["all"]:
        return SKIPS
    if names == ["none"] or not names:
        return ()
    unknown = [n for n in names if n not in SKIPS]
    if unknown:
        raise ModelError(f"unknown skip {unknown[0]!r}; use all, none, or a comma-separated subset of {', '.join(SKIPS)}")
    return tuple(n for n in SKIPS if n in names)


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "unet"  # "cnn" or "unet"
    num_colors: int = 32  # K, the palette size: one output channel per colour
    nf: int = 32  # base width: blocks have nf, 2nf, 2nf, nf, 3 channels
    kernel: int = 3
    # "classify": logits over the K palette colours (cross-entropy); "regress": the RGB colour in
    # [0, 1] directly (mean squared error), the CSC321 assignment's baseline the palette replaces.
    objective: str = "classify"
    # Which UNet skips exist (see SKIPS); None means the architecture's own: all for the UNet, none
    # for the CNN. A UNet with no skips is the CNN, layer for layer.
    skips: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ModelError(f"unknown architecture {self.arch!r}; use one of {', '.join(ARCHS)}")
        if self.objective not in OBJECTIVES:
            raise ModelError(f"unknown objective {self.objective!r}; use one of {', '.join(OBJECTIVES)}")
        skips = parse_skips(self.skips, self.arch)
        if self.arch == "cnn" and skips:
            raise ModelError(f"the cnn has no skip connections (got skips {','.join(skips)}); use --arch unet")
        object.__setattr__(self, "skips", skips)  # frozen: normalise once, here
        if not 2 <= self.num_colors <= 256:
            raise ModelError(f"num_colors must be 2..256, got {self.num_colors}")
        if self.nf < 1 or self.kernel < 1 or self.kernel % 2 == 0:
            raise ModelError(f"nf must be ≥ 1 and kernel odd, got nf={self.nf}, kernel={self.kernel}")

    @property
    def out_channels(self) -> int:
        """K logits per pixel, or 3 colour channels for a regression model."""
        return 3 if self.objective == "regress" else self.num_colors

    def to_dict(self) -> dict:
        return {**asdict(self), "skips": list(self.skips)}


SCHEDULES = ("constant", "onecycle")
PRECISIONS = ("auto", "bf16", "fp32")
VAL_SPLITS = ("holdout", "test")
# Settings that must agree for --resume to continue a run rather than start a different one.
_RESUME_KEYS = ("arch", "classes", "palette", "palette_space", "batch_size", "lr", "seed", "schedule", "nf",
                "snapshot_count", "drop_grey", "val_split", "split_seed", "precision", "channels_last", "rebalance",
                "objective", "skips")  # fmt: skip
# What runs saved before a setting existed used instead (they validated on the test split).
_LEGACY = {"objective": "classify", "split_seed": 0}


@dataclass
class TrainConfig:
    arch: str = "unet"  # "cnn" or "unet"
    classes: list[str] = field(default_factory=lambda: ["horse"])
    palette: str = "horse32"  # a shipped palette name or a .npy path
    palette_space: str | None = None  # None: the shipped palette's own space, else "rgb"
    epochs: int = 10
    batch_size: int = 100
    lr: float = 1e-3
    seed: int = 0
    schedule: str = "constant"  # or "onecycle" (peaks at lr)
    nf: int = 32
    snapshot_count: int = 10  # validation images whose predictions are kept every epoch
    drop_grey: bool = False  # drop images that are already greyscale (R=G=B)
    # "holdout": a seeded 10% of the classes' training images, so the test split stays untouched for
    # the final report; "test": the class's test split, the original project's protocol.
    val_split: str = "holdout"
    split_seed: int = 0  # which images form the holdout (the same for every training seed)
    objective: str = "classify"  # or "regress": a 3-channel colour head and mean squared error
    skips: str | None = None  # UNet skips kept: "all", "none" or e.g. "down1,grey"; None: the arch's own
    device: str = "auto"
    precision: str = "auto"  # "auto": bf16 autocast where the hardware has it, else fp32; or "bf16", "fp32"
    channels_last: bool = True  # NHWC activations: faster convolutions on CPU and GPU
    rebalance: float | None = None  # λ of Zhang et al.'s class rebalancing (0.5 in the paper); None: plain CE

    def validate(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise TrainingError(f"{name} must be a positive integer, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise TrainingError(f"lr must be a positive number, got {self.lr!r}")
        if self.schedule not in SCHEDULES:
            raise TrainingError(f"unknown schedule {self.schedule!r}; use one of {', '.join(SCHEDULES)}")
        if self.precision not in PRECISIONS:
            raise TrainingError(f"unknown precision {self.precision!r}; use one of {', '.join(PRECISIONS)}")
        if self.snapshot_count < 0:
            raise TrainingError(f"snapshot_count must be ≥ 0, got {self.snapshot_count}")
        if self.rebalance is not None and not (isinstance(self.rebalance, (int, float)) and 0 <= self.rebalance <= 1):
            raise TrainingError(f"rebalance λ must lie in [0, 1] (0.5 in Zhang et al.), got {self.rebalance!r}")
        if self.val_split not in VAL_SPLITS:
            raise TrainingError(f"unknown validation split {self.val_split!r}; use one of {', '.join(VAL_SPLITS)}")
        if not isinstance(self.split_seed, int) or self.split_seed < 0:
            raise TrainingError(f"split_seed must be a non-negative integer, got {self.split_seed!r}")
        try:
            model = ModelConfig(self.arch, 2, self.nf, objective=self.objective, skips=self.skips)  # checks all four
        except ColorlibError as e:
            raise TrainingError(str(e)) from None
        if self.rebalance is not None and self.objective == "regress":
            raise TrainingError("rebalance weights the palette's colours, and a regression model has none; drop --rebalance")
        self.skips = ",".join(model.skips) or "none"  # one spelling, so resuming compares like with like

    @property
    def loss_names(self) -> tuple[str, str]:
        """What the training and the validation curves measure (they differ for rebalanced runs)."""
        if self.objective == "regress":
            return "mean squared error", "mean squared error"
        return ("weighted cross-entropy" if self.rebalance is not None else "cross-entropy"), "cross-entropy"

"""Settings, with no PyTorch: what a network is (`ModelConfig`) and how it is trained (`TrainConfig`).

Both check themselves, so a bad setting is refused at once, before torch, data or a model loads
(`colorlib train --lr -1` answers in a fraction of a second).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import MISSING, Field, asdict, dataclass, field, fields
from typing import get_args, get_origin, get_type_hints

from .errors import ColorlibError, ModelError, TrainingError

ARCHS: tuple[str, ...] = ("cnn", "unet")
# classify: logits over a palette's colours; chroma: logits over ab chroma bins (an "ab" palette),
# the lightness given by the input (Zhang et al. 2016); regress: the RGB colour itself.
OBJECTIVES: tuple[str, ...] = ("classify", "chroma", "regress")
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


# Palette spaces: "rgb" and "lab" measure nearness there; "ab" in CIELAB's chroma plane (a*, b*) only,
# lightness ignored: chroma bins for the chroma objective, decoded under the input's own lightness.
SPACES: tuple[str, ...] = ("rgb", "lab", "ab")
GAMUT_STEP = 10.0  # Zhang, Isola & Efros (2016): ab bins of 10 CIELAB units
TEMPERATURE = 0.38  # annealed mean, Zhang, Isola & Efros (2016): vivid yet spatially consistent

SCHEDULES = ("constant", "onecycle")
PRECISIONS = ("auto", "bf16", "fp32")
VAL_SPLITS = ("holdout", "test")
# What runs saved before a setting existed used instead (they validated on the test split).
_LEGACY = {"objective": "classify", "split_seed": 0, "flip": False, "zoom": None, "half_size_epochs": 0}


def _setting(default=None, help: str = "", *, factory=None, choices=None, aliases=(), metavar=None, resume=True):
    """A TrainConfig field with what the `colorlib train` option made from it needs: its help, its choices,
    other spellings of its option, and whether `--resume` must find it unchanged (`resume`)."""
    meta = {"help": help, "choices": choices, "aliases": tuple(aliases), "metavar": metavar, "resume": resume}
    return field(default_factory=factory, metadata=meta) if factory else field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    """How a run is trained: every field is a `colorlib train` option named after it (`--batch-size`).

    The defaults train as the shipped runs were (`default_recipe()` says how)."""

    arch: str = _setting("unet", "the network", choices=ARCHS)
    classes: list[str] = _setting(factory=lambda: ["horse"], help="class names or indices, or 'all'")
    palette: str = _setting(
        "horse32", "a shipped palette name (see `colorlib palette list`) or a .npy file", metavar="FILE_OR_NAME"
    )
    palette_space: str | None = _setting(
        None, "space of a palette file (default: a shipped palette's own, else rgb)", choices=SPACES
    )
    # The defaults of epochs, batch_size, lr, schedule and flip are the recipe the shipped runs were
    # trained with, chosen on the holdout (docs/experiments.md); no faster recipe reached its holdout
    # cross-entropy on both the UNet and the CNN over three seeds (docs/ttq.md).
    epochs: int = _setting(
        30, "passes over the training images; with --resume, a larger number trains a run longer", resume=False
    )
    batch_size: int = _setting(100, "images per step")
    lr: float = _setting(0.16, "learning rate (the peak of a one-cycle schedule)")
    seed: int = _setting(0, "seed of the weights and the shuffle")
    schedule: str = _setting(
        "onecycle", "one-cycle (warms up to --lr, then anneals), or a constant learning rate", choices=SCHEDULES
    )
    nf: int = _setting(32, "base number of filters")
    snapshot_count: int = _setting(10, "validation images whose predictions are kept every epoch", aliases=["--snapshots"])
    drop_grey: bool = _setting(False, "drop images that are already greyscale (R=G=B)")
    # "holdout": a seeded 10% of the classes' training images, so the test split stays untouched for
    # the final report; "test": the class's test split, the original project's protocol.
    val_split: str = _setting(
        "holdout",
        "holdout: validate on a seeded 10% of the training images, leaving the test "
        "split for the final report; test: the class's test split, as the original project did",
        choices=VAL_SPLITS,
    )
    split_seed: int = _setting(0, "which images form the holdout (the same for every training seed)")
    objective: str = _setting(
        "classify",
        "classify: per-pixel cross-entropy over the palette; chroma: cross-entropy over an ab palette's "
        "chroma bins, the colour put under the input's own lightness (Zhang et al.); regress: predict the "
        "RGB colour itself with mean squared error (the baseline the palette replaces)",
        choices=OBJECTIVES,
    )
    skips: str | None = _setting(
        None, "UNet skips to keep: all (the UNet's default), none, or a subset of down2,down1,grey", metavar="SKIPS"
    )
    device: str = _setting("auto", "auto (cuda, mps, cpu), cpu, cuda, cuda:N or mps", resume=False)
    precision: str = _setting(
        "auto", "auto: bf16 autocast on CPUs that run it natively, else fp32 (GPUs included)", choices=PRECISIONS
    )
    channels_last: bool = _setting(True, "NHWC activations: faster convolutions on CPU and GPU")
    flip: bool = _setting(False, "mirror a seeded half of each batch left to right (the same image, new pixels)")
    # Random resized crops: the network meets objects larger than CIFAR-10's, as it does in photos seen
    # at colorize's working scale.
    zoom: float | None = _setting(
        None,
        "random resized crops: each picture cropped to a seeded square of ZOOM..1 of its side, anywhere in it, "
        "and resized back (inputs bilinear, targets nearest); default off",
        metavar="ZOOM",
    )
    # Progressive resizing (fast.ai; the CIFAR-10 speedruns): early epochs on pictures a quarter the size
    # cost less; on CIFAR-10's 32×32 pictures it did not pay (docs/ttq.md, GRID4).
    half_size_epochs: int = _setting(
        0,
        "progressive resizing: the first N epochs train on pictures halved in each side (inputs averaged "
        "over 2×2 blocks, targets the top-left pixel's), each cheaper than a full epoch; validation stays full size",
        metavar="N",
    )
    rebalance: float | None = _setting(
        None,
        "λ of Zhang et al.'s class rebalancing, weighting rare colours up (0..1; they use 0.5); default off",
        metavar="LAMBDA",
    )

    def validate(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise TrainingError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(self.half_size_epochs, int) or not 0 <= self.half_size_epochs <= self.epochs:
            raise TrainingError(
                f"half_size_epochs must be a whole number from 0 to epochs ({self.epochs}), got {self.half_size_epochs!r}"
            )
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
        if self.zoom is not None and not (isinstance(self.zoom, (int, float)) and 0 < self.zoom < 1):
            raise TrainingError(f"zoom is the smallest crop, a fraction of the side in (0, 1) (e.g. 0.6), got {self.zoom!r}")
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

    def to_argv(self) -> list[str]:
        """The `colorlib train` options that make this config: what it trains (arch, classes, palette)
        always, the other settings where they differ from the defaults."""
        out: list[str] = []
        for f in fields(self):
            value, flag = getattr(self, f.name), _flag(f.name)
            if (value == _default(f) and f.name not in _ALWAYS) or value is None:
                continue
            if isinstance(value, bool):
                out.append(flag if value else "--no-" + flag[2:])
            elif isinstance(value, (list, tuple)):
                out += [flag, *map(str, value)]
            else:
                text = repr(value) if isinstance(value, float) else str(value)  # repr: the float itself, every digit
                out += [f"{flag}={text}"] if text.startswith("-") else [flag, text]  # "--seed=-1": not an option
        return out

    @classmethod
    def from_argv(cls, argv: Sequence[str]) -> TrainConfig:
        """The config that `colorlib train` options (`to_argv`'s, or a user's) describe; unset ones keep their defaults."""
        parser = argparse.ArgumentParser(prog="colorlib train", add_help=False, exit_on_error=False)
        add_train_options(parser)
        try:
            args, extra = parser.parse_known_args(list(argv))
        except argparse.ArgumentError as e:
            raise TrainingError(str(e)) from None
        if extra:
            raise TrainingError(f"not a training setting: {' '.join(extra)}")
        return cls.from_namespace(args)

    @classmethod
    def from_namespace(cls, args: argparse.Namespace) -> TrainConfig:
        """The config held by parsed `add_train_options` options (other attributes are ignored)."""
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})

    @property
    def loss_names(self) -> tuple[str, str]:
        """What the training and the validation curves measure (they differ for rebalanced runs)."""
        if self.objective == "regress":
            return "mean squared error", "mean squared error"
        return ("weighted cross-entropy" if self.rebalance is not None else "cross-entropy"), "cross-entropy"


def default_recipe() -> str:
    """The defaults' recipe in words, for `colorlib train --help` and the README."""
    c = TrainConfig()
    schedule = "one-cycle Adam to a peak lr of" if c.schedule == "onecycle" else "Adam at a constant lr of"
    return f"{c.epochs} epochs of {schedule} {c.lr:g}, batch {c.batch_size}{', mirrored halves' if c.flip else ''}"


# Settings that must agree for --resume to continue a run rather than start a different one.
_RESUME_KEYS = tuple(f.name for f in fields(TrainConfig) if f.metadata["resume"])


_ALWAYS = ("arch", "classes", "palette")  # named in every recorded command, defaults or not


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _kind(hint) -> type:
    """The option's value type from a field's type hint: str, int, float, bool or list (of str)."""
    args = [a for a in get_args(hint) if a is not type(None)]
    if args and get_origin(hint) is not list:  # X | None
        return _kind(args[0])
    return list if get_origin(hint) is list else hint


def _default(f: Field):
    return f.default_factory() if f.default is MISSING else f.default


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field, named after it, with its help, choices and default."""
    hints = get_type_hints(TrainConfig)
    for f in fields(TrainConfig):
        meta, kind, default = f.metadata, _kind(hints[f.name]), _default(f)
        shown = " ".join(default) if isinstance(default, list) else default
        text = meta["help"].replace("%", "%%") + ("" if default is None or "default" in meta["help"] else f" (default: {shown})")
        options = dict(dest=f.name, default=default, help=text)
        if kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif kind is list:
            options["nargs"] = "+"
        else:
            options.update(type=kind, choices=meta["choices"], metavar=meta["metavar"])
        parser.add_argument(_flag(f.name), *meta["aliases"], **options)

"""Trained runs shipped inside the package: the original's eight experiments and the series' others.

    run = colorlib.pretrained("unet", "horse", 32)   # a Run: model (eval), palette, history, snapshots
    run = colorlib.pretrained("unet", "cat", 32, "lab_rebalance")
    run = colorlib.pretrained("unet", "all", 64, "ab_rebalance")   # all ten classes, chroma only: the default for photographs

The original's {cnn, unet} × {horse, cat} × {16, 32 colours}, all with the shipped horse palettes
(the original recipe, so results compare); the horse UNet/32 regressing RGB ("regress"); UNet/32
variants for horse and cat ("lab", "rebalance", "lab_rebalance"); UNet/32 on the other eight
classes; for photographs, a UNet and a CNN trained on all ten classes with the all-class palette
(`unet_all32`, `cnn_all32`; the UNet also with the Lab palette, `unet_all32_lab`), and the default for them,
a UNet that predicts only the chroma, 64 ab bins, with class rebalancing (`unet_all64_ab_rebalance`). All validated on a 10%
holdout of the training pictures with the recipe chosen on it; how each was trained and its holdout
and test figures: colorlib/pretrained/README.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .errors import RunError, did_you_mean

if TYPE_CHECKING:  # runs (and torch) load only when a run is: `colorlib pretrained list` stays quick
    from .runs import Run

FOLDER = Path(__file__).parent / "pretrained"
# what `colorize(photo)` and `colorlib colorize photo.jpg` use: experiments/colour.py chose it (and its temperature)
DEFAULT_RUN = "unet_all64_ab_rebalance"
VARIANTS = ("lab", "rebalance", "lab_rebalance", "regress", "ab_rebalance")  # UNet: horse (regress), cat, all (ab: 64 bins)

# The original project's published epoch-199 weights, scored on each class's CIFAR-10 test split
# with its own preprocessing and palettes: (cross-entropy, pixel accuracy, mean ΔE2000 of its
# argmax picture against the original). tests/test_models.py recomputes them.
ORIGINAL_SCORES: dict[tuple[str, str, int], tuple[float, float, float]] = {
    ("cnn", "horse", 16): (1.495, 0.408, 13.18),
    ("cnn", "horse", 32): (2.027, 0.283, 12.60),
    ("cnn", "cat", 16): (1.250, 0.532, 11.27),
    ("cnn", "cat", 32): (1.857, 0.352, 11.31),
    ("unet", "horse", 16): (1.261, 0.514, 12.09),
    ("unet", "horse", 32): (1.899, 0.334, 12.42),
    ("unet", "cat", 16): (1.150, 0.565, 11.09),
    ("unet", "cat", 32): (1.753, 0.378, 11.14),
}


def pretrained_names() -> list[str]:
    """Names of the shipped runs, e.g. 'unet_horse32'."""
    return sorted(p.name for p in FOLDER.iterdir() if (p / "config.json").is_file())


def describe(name: str) -> str:
    """One line about a shipped run: what it is and its final validation figure (reads JSON only, no torch)."""
    import json

    config = json.loads((FOLDER / name / "config.json").read_text())
    last = json.loads((FOLDER / name / "history.json").read_text())[-1]
    model, train = config["model"], config["train"]
    arch = {"cnn": "CNN", "unet": "UNet"}.get(model["arch"], model["arch"])
    what = f"{arch}, {'+'.join(train['classes'])}, {config['palette']['name']} palette"
    if model.get("objective", "classify") == "regress":
        what += ", regressing RGB"
    elif model.get("objective") == "chroma":
        what += " (ab chroma bins)"
    if train.get("rebalance") is not None:
        what += f", rebalanced (λ = {train['rebalance']:g})"
    split = config.get("data", {}).get("val_split", "test")
    return f"{name:<28} {what}; {split} {last.get('val_loss_name', 'cross-entropy')} {last['val_loss']:.3f}"


def unknown_run(name: str | Path) -> str:
    """The end of an unknown-run message: the closest shipped names, and where the rest are listed."""
    names = pretrained_names()
    close = did_you_mean(Path(name).name, names)
    return f"{close or ' no shipped run is named like it;'} `colorlib pretrained list` shows all {len(names)}"


def resolve(name_or_dir: str | Path) -> Path:
    """The folder of a run given as a directory or a shipped run's name; a clear error otherwise."""
    path = Path(name_or_dir)
    if path.is_dir():
        return path
    if str(name_or_dir) in pretrained_names():
        return FOLDER / str(name_or_dir)
    raise RunError(f"{name_or_dir}: neither a run directory nor a shipped run;{unknown_run(name_or_dir)}")


def pretrained(arch: str = "unet", cls: str = "horse", colors: int = 32, variant: str | None = None) -> Run:
    """A shipped run by architecture, CIFAR-10 class, palette size and variant (None, or one of VARIANTS)."""
    from .runs import load_run

    name = f"{arch}_{cls}{colors}" + (f"_{variant}" if variant else "")
    if not (FOLDER / name / "config.json").is_file():
        raise RunError(f"no shipped run {name!r};{unknown_run(name)}")
    return load_run(FOLDER / name)

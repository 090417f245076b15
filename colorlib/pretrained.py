"""Trained runs shipped inside the package: the original's eight experiments and notebook 06's.

    run = colorlib.pretrained("unet", "horse", 32)   # a Run: model (eval), palette, history, snapshots
    run = colorlib.pretrained("unet", "cat", 32, "lab_rebalance")

The original's {cnn, unet} × {horse, cat} × {16, 32 colours}, all with the shipped horse palettes
(the original recipe, so results compare), validated on each class's CIFAR-10 test split; then
UNet/32 variants for horse and cat (`lab` palette, `rebalance` λ = ½, both) and UNet/32 on the
other eight classes. How each was trained: colorlib/pretrained/README.md.
"""

from __future__ import annotations

from pathlib import Path

from .errors import RunError
from .runs import Run, load_run

FOLDER = Path(__file__).parent / "pretrained"
ARCHS, CLASSES, COLORS = ("cnn", "unet"), ("horse", "cat"), (16, 32)
VARIANTS = ("lab", "rebalance", "lab_rebalance", "regress")  # UNet, 32 colours, horse (regress) and cat

# The original project's published epoch-199 weights, scored on each class's CIFAR-10 test split
# with its own preprocessing and palettes: (cross-entropy, pixel accuracy, mean ΔE2000 of its
# argmax picture against the original). tests/test_models.py recomputes them.
ORIGINAL_SCORES: dict[tuple[str, str, int], tuple[float, float, float]] = {
    ("cnn", "horse", 16): (1.495, 0.408, 13.18), ("cnn", "horse", 32): (2.027, 0.283, 12.60),
    ("cnn", "cat", 16): (1.250, 0.532, 11.27), ("cnn", "cat", 32): (1.857, 0.352, 11.31),
    ("unet", "horse", 16): (1.261, 0.514, 12.09), ("unet", "horse", 32): (1.899, 0.334, 12.42),
    ("unet", "cat", 16): (1.150, 0.565, 11.09), ("unet", "cat", 32): (1.753, 0.378, 11.14),
}  # fmt: skip


def pretrained_names() -> list[str]:
    """Names of the shipped runs, e.g. 'unet_horse32'."""
    return sorted(p.name for p in FOLDER.iterdir() if (p / "config.json").is_file())


def pretrained(arch: str = "unet", cls: str = "horse", colors: int = 32, variant: str | None = None) -> Run:
    """A shipped run by architecture, CIFAR-10 class, palette size and variant (None, or one of VARIANTS)."""
    name = f"{arch}_{cls}{colors}" + (f"_{variant}" if variant else "")
    if not (FOLDER / name / "config.json").is_file():
        raise RunError(f"no shipped run {name!r}; the shipped runs are {', '.join(pretrained_names())}")
    return load_run(FOLDER / name)

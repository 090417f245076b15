"""Colour that looks like colour: chroma-only models against the palette classifier, on photos and CIFAR-10.

    COLORLIB_DATA=... python -m experiments.colour [--runs runs/colour] [--out docs] [--stage all] [--workers 2]

Every row is on the input's own lightness (the grey picture's lightness is the input's by construction),
so ΔE2000 compares like with like. Choices are made on the CIFAR-10 holdout of all classes (the 5,000
training images the runs validate on, never trained on) and the eight photographs installed packages
ship (`colorlib.data.photos()`); the test split is scored once, after the choice (`--stage test`).

The selection rule, written down before any of its runs:
1. Candidates are (run, temperature): every run of RUNS plus the current default run (`unet_all32_lab`,
   the palette classifier over all32-lab), each decoded by annealed mean at every T of TEMPERATURES.
   CIFAR pictures are coloured at their own 32×32; photos as `colorlib colorize` does (a shorter side
   of 48 pixels, the colour put under the photo's own lightness).
2. Measures, per set: mean ΔE2000 over pictures; colourfulness as the ratio of the means (the per-picture
   mean of ratios is reported beside it); hue agreement (`colorlib.metrics.hue_agreement`): pooled over
   the holdout's pixels, and on the photos the mean of each photo's, so each photo weighs alike as in
   its ΔE2000.
3. A candidate is feasible on a set if it keeps at least 60% of the set's colourfulness and reaches a hue
   agreement of at least 0.55. The choice is the candidate feasible on both sets with the lowest relative
   ΔE2000: the sum over the two sets of its ΔE2000 divided by the grey picture's.
4. If no candidate is feasible on both sets: among the candidates closer than the grey picture on both
   sets by ΔE2000, the one nearest to feasibility — the largest of min(colourfulness / 0.60, hue / 0.55)
   over both sets — with ties going to the lower relative ΔE2000. The report says it is a fallback.
5. The photos' honest figures are leave-one-out: the rule re-applied with each photo left out (its photo
   measures from the other seven), the left-out photo scored with that choice.
6. The frontier figure draws every candidate's ΔE2000 against its colourfulness on both sets (one line
   per run through its temperatures), the grey picture and the thresholds.

The runs (RUNS) share one recipe: all ten classes, holdout split, seed 0, 10 epochs of one-cycle Adam to
a peak lr of 0.16, batch 100, mirrored halves. They differ in the chroma bins (all64-ab: k-means in ab;
all-ab: Zhang's 10-unit grid, 169 bins found in the training pixels), class rebalancing (none or λ = 0.5)
and width (nf 32 or 64). The current default trained 30 epochs without mirroring: the comparison gives
it the longer training.

Resumable: every run is a run folder under --runs trained with `resume=True`; runs go `--workers` at a
time, one thread each (the figures are holdout measures, not times).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
from pathlib import Path

import torch

from colorlib.runs import load_run
from colorlib.train import TrainConfig, train

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RUN = "unet_all32_lab"  # the current default: the palette classifier every new run is measured against
RECIPE = dict(epochs=10, lr=0.16, schedule="onecycle", batch_size=100, flip=True)
RUNS: dict[str, dict] = {
    "chroma64": dict(palette="all64-ab"),
    "chroma64_rebalance": dict(palette="all64-ab", rebalance=0.5),
    "chroma_grid": dict(palette="all-ab"),
    "chroma_grid_rebalance": dict(palette="all-ab", rebalance=0.5),
    "chroma64_nf64": dict(palette="all64-ab", nf=64),
    "chroma64_nf64_rebalance": dict(palette="all64-ab", nf=64, rebalance=0.5),
}
TEMPERATURES = (0.1, 0.2, 0.38, 0.6, 1.0)
MIN_COLOURFULNESS, MIN_HUE = 0.60, 0.55
PRECISION = "fp32"  # photos: the same figures on every CPU


def config(name: str, max_epochs: int | None = None) -> TrainConfig:
    recipe = {**RECIPE, **({"epochs": min(RECIPE["epochs"], max_epochs)} if max_epochs else {})}
    return TrainConfig(arch="unet", classes=["all"], objective="chroma", val_split="holdout", seed=0, **recipe, **RUNS[name])


def _run(job: tuple) -> tuple[str, float]:
    """Train one run (resuming if begun); (folder, final holdout CE)."""
    torch.set_num_threads(1)
    out, cfg = job
    history = Path(out) / "history.json"
    if not (history.exists() and len(json.loads(history.read_text())) >= cfg.epochs):
        train(cfg, out, resume=True, progress=False)
    return out, load_run(out).history[-1]["val_loss"]


def train_all(runs: Path, names: list[str], workers: int, max_epochs: int | None) -> None:
    jobs = [(str(runs / name), config(name, max_epochs)) for name in names]
    done = map(_run, jobs) if workers == 1 else mp.get_context("spawn").Pool(workers).imap_unordered(_run, jobs)
    for out, ce in done:
        print(f"{Path(out).name}: holdout CE {ce:.4f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "colour")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stage", choices=("train", "score", "report", "test", "all"), default="all")
    parser.add_argument("--only", nargs="+", choices=list(RUNS), help="a subset of the runs (default: all)")
    parser.add_argument("--max-epochs", type=int, help="cap every run's epochs (a smoke test; not a search)")
    args = parser.parse_args()
    names = args.only or list(RUNS)
    stages = ("train", "score", "report") if args.stage == "all" else (args.stage,)
    if "train" in stages:
        train_all(args.runs, names, args.workers, args.max_epochs)


if __name__ == "__main__":
    main()

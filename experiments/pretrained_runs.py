"""The shipped runs, trained on the honest protocol: holdout validation and the recipe chosen on it.

    COLORLIB_DATA=... python -m experiments.pretrained_runs [--train] [--ship]

--train  trains the notebook runs that the experiments do not: for horse and cat a Lab palette,
         class rebalancing and both; the other eight classes (seed 0, UNet, 32 colours), into
         runs/pretrained/ (resumable: run it again after an interruption).
--general trains the all-class models for photographs (UNet and CNN; RGB and Lab palettes), into runs/pretrained/ too.
--ship   copies them, with seed 0 of the experiments' eight original configurations, of the horse
         regression baseline and the all-class models that have finished, into colorlib/pretrained/
         without their checkpoint.pt (which only resuming needs), and prints each run's holdout and test figures for the README.

The peak learning rate is the one experiments/experiments.py chose on the holdout.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from tqdm.auto import tqdm

from colorlib import runs as run_files
from colorlib.data import CLASSES, load_cifar10
from colorlib.metrics import score
from colorlib.runs import load_run
from colorlib.train import train

from . import experiments as ex

SHIPPED = ex.ROOT / "colorlib" / "pretrained"


def variants(lr: float) -> list[ex.Experiment]:
    """The shipped runs no experiment trains: Lab / rebalanced horse and cat, and the other classes."""
    out = []
    for cls in ex.CLASSES:
        out += [
            ex.Experiment(f"unet_{cls}32_lab", cls, ex.base("unet", cls, 32, lr, palette="horse32-lab"), "Lab palette"),
            ex.Experiment(f"unet_{cls}32_rebalance", cls, ex.base("unet", cls, 32, lr, rebalance=0.5), "rebalanced"),
            ex.Experiment(
                f"unet_{cls}32_lab_rebalance",
                cls,
                ex.base("unet", cls, 32, lr, palette="horse32-lab", rebalance=0.5),
                "Lab palette, rebalanced",
            ),
        ]
    out += [ex.Experiment(f"unet_{c}32", c, ex.base("unet", c, 32, lr), c) for c in CLASSES if c not in ex.CLASSES]
    return out


def general(lr: float) -> list[ex.Experiment]:
    """Models for photographs: all ten classes, the all-class palettes (RGB and Lab), and a CNN to compare."""
    every = dict(classes=["all"])
    return [
        ex.Experiment("unet_all32", "all", ex.base("unet", "all", 32, lr, palette="all32", **every), "UNet, all classes"),
        ex.Experiment("unet_all32_lab", "all", ex.base("unet", "all", 32, lr, palette="all32-lab", **every), "Lab palette"),
        ex.Experiment("cnn_all32", "all", ex.base("cnn", "all", 32, lr, palette="all32", **every), "CNN, all classes"),
    ]


def command(exp: ex.Experiment, out: Path) -> str:
    """The `colorlib train` command that trains `exp` (seed 0) into `out`."""
    return exp.command(0, out)


def shipped(lr: float) -> dict[str, tuple[Path, ex.Experiment]]:
    """Name in colorlib/pretrained → (where it was trained, experiment)."""
    runs = ex.ROOT / "runs"
    sweep = {e.name: e for e in ex.sweep_experiments(lr)}
    names = [f"{a}_{c}{k}" for a in ("cnn", "unet") for c in ex.CLASSES for k in (16, 32)] + ["unet_horse32_regress"]
    out = {n: (ex.run_dir(runs / "experiments", "sweep", sweep[n], 0), sweep[n]) for n in names}
    out.update({e.name: (runs / "pretrained" / e.name, e) for e in variants(lr)})
    for e in general(lr):  # the all-class models ship once trained (--general)
        if complete(runs / "pretrained" / e.name):
            out[e.name] = (runs / "pretrained" / e.name, e)
    return out


def complete(out: Path) -> bool:
    """Whether the run in `out` has trained all its epochs."""
    history = out / run_files.HISTORY
    return history.exists() and len(json.loads(history.read_text())) == ex.EPOCHS


def train_all(experiments: list[ex.Experiment], what: str, data: str | None, runs: Path) -> None:
    """Train (or resume) each experiment into RUNS/pretrained/NAME, recording the command that ships it."""
    for exp in tqdm(experiments, desc=what, unit="run"):
        out = runs / "pretrained" / exp.name
        if not complete(out):
            train(exp.config, out, root=data, resume=True, progress=False, command=command(exp, SHIPPED / exp.name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--ship", action="store_true")
    parser.add_argument("--general", action="store_true", help="train the all-class models for photographs")
    parser.add_argument("--data", help="folder holding cifar-10-batches-py/ (default: $COLORLIB_DATA)")
    parser.add_argument("--runs", default=str(ex.ROOT / "runs"), help="where runs are trained (default: runs/)")
    parser.add_argument(
        "--epochs", type=int, default=ex.EPOCHS, help=f"epochs of every run (default {ex.EPOCHS}; fewer to try it)"
    )
    args = parser.parse_args()
    ex.EPOCHS, runs = args.epochs, Path(args.runs)  # the budget, overridden before any experiment is built
    lr, _ = ex.choose_recipe(runs / "experiments", ex.ROOT / "docs" / "experiments.json")
    if args.train:
        train_all(variants(lr), "shipped runs", args.data, runs)
    if args.general:
        train_all(general(lr), "general models", args.data, runs)
    if args.ship:
        rows = []
        for name, (src, exp) in shipped(lr).items():
            dst = SHIPPED / name
            shutil.rmtree(dst, ignore_errors=True)
            dst.mkdir(parents=True)
            for f in (run_files.CONFIG, run_files.HISTORY, run_files.WEIGHTS, run_files.SNAPSHOTS, run_files.LOSS_FIGURE):
                shutil.copy2(src / f, dst / f)
            config = json.loads((dst / run_files.CONFIG).read_text())
            config["command"] = command(exp, Path("colorlib/pretrained") / name)  # as if trained in place
            (dst / run_files.CONFIG).write_text(json.dumps(config, indent=2) + "\n")
            run = load_run(dst)
            test = score(run.model, run.palette, load_cifar10(exp.cls, "test", args.data).images)
            last = run.history[-1]
            rows.append(
                (
                    name,
                    last["val_loss"],
                    last["val_accuracy"],
                    test["cross_entropy"],
                    test["pixel_accuracy"],
                    test["delta_e"],
                    sum(h["seconds"] for h in run.history),
                )
            )
        print("| run | holdout loss | holdout pixel acc | test CE | test pixel acc | test ΔE2000 | train s |")
        print("|---|---|---|---|---|---|---|")
        for name, hl, ha, ce, acc, de, sec in rows:
            f = lambda v, d=3: "—" if v is None else f"{v:.{d}f}"  # noqa: E731
            print(f"| `{name}` | {f(hl, 4 if ce is None else 3)} | {f(ha)} | {f(ce)} | {f(acc)} | {f(de, 2)} | {sec:.0f} |")


if __name__ == "__main__":
    main()

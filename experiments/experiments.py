"""Experiments a reviewer would accept: a recipe chosen on the holdout, five seeds, the series' claims measured.

    COLORLIB_DATA=... python -m experiments.experiments [--runs runs/experiments] [--out docs] [--stage all]

1. recipe: the one-cycle peak learning rate, chosen by holdout cross-entropy (seed 0, 30 epochs,
   CNN and UNet at 32 colours on horse and cat). The test split is not looked at.
2. train: with that recipe, five seeds each of the original's eight configurations, and for horse
   and cat at 32 colours: the regression baseline (UNet, MSE on RGB), the UNet less each of its
   skips, the UNet with one skip only, and a CNN widened to the UNet's parameter count.
3. report: each run scored once on its class's CIFAR-10 test split, as it is and on the input's own
   lightness (the grey picture has it: the like-for-like comparison); mean ± sd over seeds;
   differences with t-intervals that hold the test pictures' and the seeds' variation
   (`metrics.difference`), and verdicts read together: significant where the Benjamini–Hochberg q-value
   over every difference in the report is below 0.05. Writes docs/experiments.md and
   docs/experiments.json (which the notebooks load).

Resumable: every run is a run directory under --runs trained with `resume=True`, so finished runs
are skipped and an interrupted one continues from its last saved epoch; test scores are cached
beside each run (keyed by its weights). About 4 hours on 2 cores. Without the recipe stage's runs
(`--stage train` or `report` on another machine) the recipe is read from the recorded
docs/experiments.json, so the choice made on the holdout is never re-made on anything else.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

import colorlib
from colorlib.metrics import COLUMNS, REFERENCE_ROWS, difference, false_discovery, reference_scores, score
from colorlib.models import SKIPS, autocast_dtype, build, num_parameters
from colorlib.runs import load_run
from colorlib.train import TrainConfig, train

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 30  # fixed budget: the shipped runs' length; the learning rate is what the holdout chooses
RECIPE_LRS = (5e-3, 1e-2, 2e-2, 4e-2, 8e-2, 1.6e-1, 3.2e-1)
SEEDS = (0, 1, 2, 3, 4)  # five: with three, a t-interval over seed means has 2 degrees of freedom
CLASSES = ("horse", "cat")
MEASURES = ("cross_entropy", "pixel_accuracy", "balanced_accuracy", "psnr", "ssim", "delta_e", "colourfulness")
PER_IMAGE = ("cross_entropy", "psnr", "ssim", "delta_e", "colourfulness")
LOWER_IS_BETTER = {"cross_entropy", "delta_e"}
LABELS = COLUMNS  # the measures' names, as every colorlib table writes them


ARCH_NAMES = {"cnn": "CNN", "unet": "UNet"}


def matched_width() -> int:
    """The CNN base width whose parameter count is nearest the UNet's (K = 32)."""
    target = num_parameters(build("unet", 32))
    return min(range(32, 64), key=lambda nf: abs(num_parameters(build("cnn", 32, nf)) - target))


@dataclass(frozen=True)
class Experiment:
    """One configuration: trained once per seed, scored on `cls`'s test split."""

    name: str
    cls: str
    config: TrainConfig
    description: str

    def command(self, seed: int, out: Path) -> str:
        """The `colorlib train` command of this configuration's run with `seed`: TrainConfig's own options."""
        return shlex.join(["colorlib", "train", *replace(self.config, seed=seed).to_argv(), "--out", str(out)])


def base(arch: str, cls: str, k: int, lr: float, **changes) -> TrainConfig:
    """The recipe for `arch` on `cls` with the k-colour horse palette (the original's), holdout-validated."""
    settings = dict(arch=arch, classes=[cls], palette=f"horse{k}", epochs=EPOCHS, lr=lr, schedule="onecycle", val_split="holdout")
    return TrainConfig(**{**settings, **changes})


def recipe_experiments() -> list[Experiment]:
    return [
        Experiment(f"{arch}_{cls}32_lr{lr:g}", cls, base(arch, cls, 32, lr), f"{ARCH_NAMES[arch]} {cls}/32, peak lr {lr:g}")
        for arch in ("cnn", "unet")
        for cls in CLASSES
        for lr in RECIPE_LRS
    ]


def sweep_experiments(lr: float) -> list[Experiment]:
    out = [
        Experiment(f"{arch}_{cls}{k}", cls, base(arch, cls, k, lr), f"{ARCH_NAMES[arch]}, {cls}, {k} colours")
        for arch in ("cnn", "unet")
        for cls in CLASSES
        for k in (16, 32)
    ]
    nf = matched_width()
    for cls in CLASSES:
        out.append(
            Experiment(
                f"unet_{cls}32_regress", cls, base("unet", cls, 32, lr, objective="regress"), f"UNet regressing RGB (MSE), {cls}"
            )
        )
        for skip in SKIPS:
            kept = ",".join(s for s in SKIPS if s != skip)
            out.append(
                Experiment(
                    f"unet_{cls}32_no_{skip}", cls, base("unet", cls, 32, lr, skips=kept), f"UNet less the {skip} skip, {cls}"
                )
            )
            out.append(
                Experiment(
                    f"unet_{cls}32_only_{skip}",
                    cls,
                    base("unet", cls, 32, lr, skips=skip),
                    f"UNet with only the {skip} skip, {cls}",
                )
            )
        out.append(
            Experiment(
                f"cnn{nf}_{cls}32",
                cls,
                base("cnn", cls, 32, lr, nf=nf),
                f"CNN widened to nf={nf} (UNet's parameter count), {cls}",
            )
        )
    return out


def run_dir(runs: Path, stage: str, exp: Experiment, seed: int) -> Path:
    return runs / stage / f"{exp.name}_s{seed}"


def train_all(runs: Path, stage: str, experiments: list[Experiment], seeds, data: str | None) -> None:
    """Train every (experiment, seed) not yet finished; an interrupted run resumes where it stopped.

    Seed by seed: every configuration's seed-0 run (the shipped ones among them) comes first.
    """
    todo = [(e, s) for s in seeds for e in experiments]
    bar = tqdm(todo, desc=f"{stage}: training", unit="run")
    for exp, seed in bar:
        out = run_dir(runs, stage, exp, seed)
        bar.set_postfix_str(out.name)
        if (out / "history.json").exists() and len(json.loads((out / "history.json").read_text())) == EPOCHS:
            continue
        config = replace(exp.config, seed=seed, classes=list(exp.config.classes))
        train(config, out, root=data, resume=True, progress=False, command=exp.command(seed, out))


def holdout_ce(path: Path) -> float:
    return json.loads((path / "history.json").read_text())[-1]["val_loss"]


def choose_recipe(runs: Path, recorded: Path) -> tuple[float, dict]:
    """The peak lr with the lowest mean holdout cross-entropy over the four recipe configurations; from
    the recipe runs where they are here, else as `recorded` (an experiments.json) says they chose."""
    names = [e.name for e in recipe_experiments()]
    if all((run_dir(runs, "recipe", e, 0) / "history.json").exists() for e in recipe_experiments()):
        table = {e.name: holdout_ce(run_dir(runs, "recipe", e, 0)) for e in recipe_experiments()}
    elif recorded.exists() and set(names) <= set(json.loads(recorded.read_text())["recipe"]["holdout_ce"]):
        table = {n: json.loads(recorded.read_text())["recipe"]["holdout_ce"][n] for n in names}
    else:
        raise SystemExit(f"no recipe runs under {runs / 'recipe'} and no recorded recipe in {recorded}: run --stage recipe")
    mean = {lr: float(np.mean([v for k, v in table.items() if k.endswith(f"_lr{lr:g}")])) for lr in RECIPE_LRS}
    return min(mean, key=mean.get), {"holdout_ce": table, "mean_by_lr": {f"{k:g}": v for k, v in mean.items()}}


def test_scores(path: Path, images: np.ndarray, keep_luma: bool) -> dict:
    """Scores on the test images, cached beside the run (recomputed if its weights change)."""
    weights = hashlib.sha256((path / "weights.pt").read_bytes()).hexdigest()[:16]
    cache = path / f"test_scores{'_luma' if keep_luma else ''}.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            if str(z["weights"]) == weights:
                summary = json.loads(str(z["summary"]))
                summary["per_image"] = {k: (z[k] if k in z else None) for k in PER_IMAGE}
                return summary
    run = load_run(path)
    result = score(run.model, run.palette, images, keep_luma=keep_luma, per_image=True)
    per = result.pop("per_image")
    arrays = {k: v for k, v in per.items() if v is not None}
    np.savez(cache, weights=weights, summary=json.dumps(result), **arrays)
    result["per_image"] = per
    return result


def mean_sd(values: list[float | None]) -> tuple[float | None, float | None]:
    if any(v is None for v in values):
        return None, None
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def fmt(mean: float | None, sd: float | None, digits: int = 3) -> str:
    return "—" if mean is None else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    amp = autocast_dtype("auto", torch.device("cpu"))
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{'bf16 autocast (native)' if amp else 'fp32 (no native bf16)'}"
    )


def main() -> None:
    global EPOCHS, SEEDS, RECIPE_LRS  # as nanoGPT's configurator overrides its globals: one place, before any work
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=str(ROOT / "runs" / "experiments"), help="where the run directories go")
    parser.add_argument("--out", default=str(ROOT / "docs"), help="where experiments.md and .json go")
    parser.add_argument("--data", help="folder holding cifar-10-batches-py/ (default: $COLORLIB_DATA, else the cache)")
    parser.add_argument("--stage", choices=["all", "recipe", "train", "report"], default="all")
    # The budget, overridable only to try the script quickly (tests/test_experiments.py); the report says what ran.
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"epochs of every run (default {EPOCHS})")
    parser.add_argument("--seeds", type=int, default=len(SEEDS), help=f"seeds per configuration (default {len(SEEDS)})")
    parser.add_argument("--lrs", type=float, nargs="+", default=RECIPE_LRS, help="the recipe's candidate peak lrs")
    args = parser.parse_args()
    EPOCHS, SEEDS, RECIPE_LRS = args.epochs, tuple(range(args.seeds)), tuple(args.lrs)
    runs, out = Path(args.runs), Path(args.out)
    start = time.perf_counter()
    if args.stage in ("all", "recipe"):
        train_all(runs, "recipe", recipe_experiments(), (0,), args.data)
    lr, recipe = choose_recipe(runs, out / "experiments.json")
    print(f"recipe: one-cycle to peak lr {lr:g} for {EPOCHS} epochs (mean holdout CE {recipe['mean_by_lr']})")
    experiments = sweep_experiments(lr)
    if args.stage in ("all", "train"):
        train_all(runs, "sweep", experiments, SEEDS, args.data)
    if args.stage in ("all", "report"):
        report(runs, out, experiments, lr, recipe, args)
    print(f"done in {time.perf_counter() - start:.0f} s")


def comparisons(nf: int) -> list[tuple[str, str, str]]:
    """(title, A, B) of every difference the report gives, all read together (one false-discovery family)."""
    out = []
    for cls in CLASSES:
        for k in (16, 32):
            out.append((f"UNet − CNN, {cls}/{k}", f"unet_{cls}{k}", f"cnn_{cls}{k}"))
    for cls in CLASSES:
        grey = f"grey baseline ({cls})"
        out += [
            (f"classify − regress, {cls}", f"unet_{cls}32", f"unet_{cls}32_regress"),
            (
                f"classify − regress, both on input luma, {cls}",
                f"unet_{cls}32 + input luma",
                f"unet_{cls}32_regress + input luma",
            ),
            # the grey picture has the input's own lightness: only the "+ input luma" rows compare like with like
            (f"UNet + input luma − grey picture (equal lightness), {cls}", f"unet_{cls}32 + input luma", grey),
            (f"UNet − grey picture (the model's own lightness), {cls}", f"unet_{cls}32", grey),
            (f"CNN + input luma − grey picture (equal lightness), {cls}", f"cnn_{cls}32 + input luma", grey),
            (f"regress + input luma − grey picture (equal lightness), {cls}", f"unet_{cls}32_regress + input luma", grey),
            (f"regress − grey picture (the model's own lightness), {cls}", f"unet_{cls}32_regress", grey),
        ]
        out += [(f"UNet less {s} − UNet, {cls}", f"unet_{cls}32_no_{s}", f"unet_{cls}32") for s in SKIPS]
        out += [(f"UNet with only {s} − CNN, {cls}", f"unet_{cls}32_only_{s}", f"cnn_{cls}32") for s in SKIPS]
        out += [
            (f"CNN nf={nf} − UNet (equal parameters), {cls}", f"cnn{nf}_{cls}32", f"unet_{cls}32"),
            (f"CNN nf={nf} − CNN nf=32 (width alone), {cls}", f"cnn{nf}_{cls}32", f"cnn_{cls}32"),
        ]
    return out


DIFFERENCE_MEASURES = ("cross_entropy", "delta_e", "psnr", "ssim", "colourfulness")
Q_REAL = 0.05  # a difference is called significant where its Benjamini–Hochberg q-value over the whole report is below this


def report(runs: Path, out: Path, experiments: list[Experiment], lr: float, recipe: dict, args) -> None:
    images = {c: colorlib.load_cifar10(c, "test", args.data).images for c in CLASSES}
    rows: dict[str, dict] = {}  # experiment (or experiment + input luma) → per-seed results
    for exp in tqdm(experiments, desc="scoring on the test split", unit="config"):
        for luma in (False, True):
            name = exp.name + (" + input luma" if luma else "")
            seeds = [test_scores(run_dir(runs, "sweep", exp, s), images[exp.cls], luma) for s in SEEDS]
            rows[name] = {
                "experiment": exp.name,
                "class": exp.cls,
                "seeds": seeds,
                "description": exp.description + (", input luma" if luma else ""),
            }
    references = {}
    for cls in CLASSES:
        for ref, result in reference_scores(images[cls], colorlib.load_palette("horse32"), per_image=True).items():
            references[f"{ref} ({cls})"] = {"experiment": ref, "class": cls, "description": f"{ref}, {cls}", "seeds": [result]}

    def per_image(name: str, measure: str) -> np.ndarray | None:
        entry = rows.get(name) or references[name]
        values = [s["per_image"][measure] for s in entry["seeds"]]
        return None if any(v is None for v in values) else np.stack(values)

    nf = matched_width()
    differences = []
    for title, a, b in comparisons(nf):
        for m in DIFFERENCE_MEASURES:
            va, vb = per_image(a, m), per_image(b, m)
            if va is None or vb is None or not (np.isfinite(va).all() and np.isfinite(vb).all()):
                continue  # CE of a regression model or the grey picture; infinite PSNR of the grey picture
            differences.append({"comparison": title, "a": a, "b": b, "measure": m, **difference(va, vb)})
    for d, q in zip(differences, false_discovery([d["p"] for d in differences]), strict=True):
        d["q"] = float(q)
        d["real"] = bool(q < Q_REAL)
        d["nominal"] = bool(d["p"] < 0.05)  # its own 95% interval excludes 0
        a_wins = (d["difference"] < 0) == (d["measure"] in LOWER_IS_BETTER)
        d["better"] = (d["a"] if a_wins else d["b"]) if d["real"] else None
    write_report(out, rows, references, differences, lr, recipe, nf)


def summarise(entry: dict) -> dict:
    out = {}
    for m in MEASURES:
        out[m] = mean_sd([s[m] for s in entry["seeds"]])
    out["psnr_pooled"] = any(s.get("psnr_pooled") for s in entry["seeds"])
    out["colourfulness_truth"] = entry["seeds"][0]["colourfulness_truth"]
    return out


def write_report(out: Path, rows, references, differences, lr: float, recipe: dict, nf: int) -> None:
    table_rows = {**references, **rows}
    summary = {
        name: {
            **{k: v for k, v in e.items() if k != "seeds"},
            **summarise(e),
            "per_seed": [{m: s[m] for m in MEASURES} for s in e["seeds"]],
        }
        for name, e in table_rows.items()
    }
    params = {
        "unet": num_parameters(build("unet", 32)),
        "cnn": num_parameters(build("cnn", 32)),
        f"cnn nf={nf}": num_parameters(build("cnn", 32, nf)),
    }
    doc = {
        "machine": machine(),
        "epochs": EPOCHS,
        "seeds": list(SEEDS),
        "recipe": {"peak_lr": lr, **recipe},
        "matched_nf": nf,
        "parameters": params,
        "rows": summary,
        "differences": differences,
    }
    (out / "experiments.json").write_text(json.dumps(doc, indent=1) + "\n")

    lines = [
        f"# Experiments: holdout-chosen recipe, {len(SEEDS)} seeds, the series' claims measured\n",
        "Generated by `python -m experiments.experiments` (resumable; about 4 hours on 2 cores); the numbers "
        "below are also in [experiments.json](experiments.json), which the notebooks load.\n",
        f"Machine: {doc['machine']}.\n",
        "## Protocol\n",
        "- **Validation**: every run validates on its holdout, a seeded 10% of its class's CIFAR-10 training images "
        "(`--val-split holdout --split-seed 0`); it never trains on them. The test split is used once, for the "
        "tables below.",
        f"- **Recipe**, chosen on the holdout only: Adam, batch 100, {EPOCHS} epochs of one-cycle to a peak learning "
        f"rate chosen from {', '.join(f'{x:g}' for x in RECIPE_LRS)} by the mean final holdout cross-entropy of "
        "CNN and UNet on horse and cat at 32 colours (seed 0). Chosen: "
        f"**{lr:g}**.",
        f"- **Seeds**: {len(SEEDS)} per configuration ({', '.join(map(str, SEEDS))}); the holdout is the same for all.",
        "- **Scores**: on each class's 1,000 test images, argmax decoding, every model both as it is and on the "
        "input's own lightness (`keep_luma`, rows marked *input luma*). The grey picture has the input's own "
        "lightness, so a model is compared with it on equal footing only in its *input luma* row; the plain row "
        "says how good the model's own lightness is too. PSNR is the mean over pictures "
        "(pooled over all pixels, marked *, only for the grey picture, which reproduces pictures already grey "
        "exactly); SSIM is scikit-image's default (a uniform 7×7 window, the RGB channels averaged; not Wang et "
        "al.'s Gaussian window) and ΔE2000 per picture, averaged; colourfulness is Hasler & Süsstrunk's. "
        "Training and scoring ran under bf16 autocast where the CPU has it natively (this machine: "
        f"{'yes' if autocast_dtype('auto', torch.device('cpu')) else 'no'}), so the last digit can differ on "
        "another CPU.",
        "- **Reference rows** (horse32 palette): the grey picture; the *palette truth* (the truth snapped to "
        "the palette: what a classifier is trained to predict, not a ceiling); the *best palette colour* per "
        "pixel by ΔE2000 (the ceiling of ΔE2000 for any argmax palette classifier; not for PSNR or SSIM); the "
        "last two also on the input's own lightness (the ceiling for models scored with it).",
        "- **Differences**: A − B of the means over seeds and test pictures, with a 95% t-interval whose "
        "variance adds the test pictures' (the per-picture difference of seed means) and each model's seeds' "
        "(its seed means), with Welch–Satterthwaite degrees of freedom (`colorlib.metrics.difference`; its "
        "coverage is checked by simulation in tests/test_metrics.py). "
        "All differences below are read together: each has a Benjamini–Hochberg q-value over the whole table "
        f"(scipy), and one is called **significant** where q < {Q_REAL}; a difference whose own 95% interval excludes 0 "
        "but whose q is not below that is **nominal only** (exploratory); otherwise it is **within noise**.\n",
        "## Recipe (holdout cross-entropy, seed 0)\n",
        "| configuration | " + " | ".join(f"lr {x:g}" for x in RECIPE_LRS) + " |",
        "|---|" + "---|" * len(RECIPE_LRS),
    ]
    for arch in ("cnn", "unet"):
        for cls in CLASSES:
            vals = [recipe["holdout_ce"][f"{arch}_{cls}32_lr{x:g}"] for x in RECIPE_LRS]
            lines.append(f"| {ARCH_NAMES[arch]} {cls}/32 | " + " | ".join(f"{v:.4f}" for v in vals) + " |")
    lines.append("| **mean** | " + " | ".join(f"**{recipe['mean_by_lr'][f'{x:g}']:.4f}**" for x in RECIPE_LRS) + " |\n")
    lines += [
        f"Parameters at 32 colours: UNet {params['unet']:,}, CNN {params['cnn']:,}, CNN at nf={nf} "
        f"{params[f'cnn nf={nf}']:,} ({params[f'cnn nf={nf}'] / params['unet'] - 1:+.1%} against the UNet).\n"
    ]

    def table(names: list[str]) -> list[str]:
        head = [
            "| | " + " | ".join(LABELS[m] for m in MEASURES) + " | colourfulness of the truth |",
            "|---|" + "---|" * (len(MEASURES) + 1),
        ]
        body = []
        for n in names:
            s = summary[n]
            cells = [fmt(*s[m]) + ("*" if m == "psnr" and s["psnr_pooled"] else "") for m in MEASURES]
            body.append(f"| {s['description']} | " + " | ".join(cells) + f" | {s['colourfulness_truth']:.2f} |")
        return head + body + [""]

    lines += ["## Test-split results (mean ± sd over seeds)\n"]
    for cls in CLASSES:
        lines += [f"### {cls}\n"]
        lines += table([f"{r} ({cls})" for r in REFERENCE_ROWS] + [n for n, r in rows.items() if r["class"] == cls])
    real = sum(d["real"] for d in differences)
    nominal = sum(d["nominal"] and not d["real"] for d in differences)
    lines += [
        "## Differences (A − B; for CE and ΔE2000 lower is better)\n",
        f"{len(differences)} differences read together: {real} significant (q < {Q_REAL}), {nominal} nominal only, "
        f"{len(differences) - real - nominal} within noise.\n",
        "| comparison | measure | A − B | 95% interval | p | q | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in differences:
        verdict = "within noise"
        if d["real"]:
            verdict = f"significant: {'A' if d['better'] == d['a'] else 'B'} better"
        elif d["nominal"]:
            verdict = "nominal only"
        lines.append(
            f"| {d['comparison']} | {LABELS[d['measure']]} | {d['difference']:+.3f} | "
            f"[{d['low']:+.3f}, {d['high']:+.3f}] | {d['p']:.2g} | {d['q']:.2g} | {verdict} |"
        )
    lines += ["", "## In plain words\n", *plain_words(differences), ""]
    (out / "experiments.md").write_text("\n".join(lines))
    print("\n".join(lines))


def plain_words(differences: list[dict]) -> list[str]:
    """One sentence per comparison: which measures moved beyond the noise, and which way."""
    by = {}
    for d in differences:
        by.setdefault(d["comparison"], []).append(d)
    out = []
    for title, ds in by.items():
        real = [d for d in ds if d["real"]]
        noise = [LABELS[d["measure"]] for d in ds if not d["real"]]  # nominal-only differences are not real either
        wins_a = [LABELS[d["measure"]] for d in real if d["better"] == d["a"]]
        wins_b = [LABELS[d["measure"]] for d in real if d["better"] == d["b"]]
        parts = []
        if wins_a:
            parts.append(f"A is better on {', '.join(wins_a)}")
        if wins_b:
            parts.append(f"B is better on {', '.join(wins_b)}")
        if noise:
            parts.append(f"no significant difference on {', '.join(noise)}")
        out.append(f"- **{title}**: " + "; ".join(parts) + ".")
    return out


if __name__ == "__main__":
    main()

"""Colour that looks like colour: chroma-only models against the palette classifier, on photos and CIFAR-10.

    COLORLIB_DATA=... python -m experiments.colour [--runs runs/colour] [--out docs] [--stage all] [--workers 2]
    ... --stage test    # once, after the choice: the test split
    ... --stage ship    # then: the chosen run into colorlib/pretrained/, with its temperature

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
3. A candidate is feasible on a set if it keeps at least 60% of the set's colourfulness, reaches a hue
   agreement of at least 0.55, and is closer to the truth than the grey picture by ΔE2000. The choice is
   the candidate feasible on both sets with the lowest relative ΔE2000: the sum over the two sets of its
   ΔE2000 divided by the grey picture's.
4. If no candidate is feasible on both sets: among the candidates closer than the grey picture on both
   sets by ΔE2000, the one nearest to feasibility — the largest of min(colourfulness / 0.60, hue / 0.55)
   over both sets — with ties going to the lower relative ΔE2000. The report says it is a fallback. If no
   candidate is closer than the grey picture on both sets either, the current default stays (T = 0.38).
5. The photos' honest figures are leave-one-out: the rule re-applied with each photo left out (its photo
   measures from the other seven), the left-out photo scored with that choice.
6. The frontier figure draws every candidate's ΔE2000 against its colourfulness on both sets (one line
   per run through its temperatures), the grey picture and the thresholds.

The runs (RUNS) share one recipe: all ten classes, holdout split, seed 0, 10 epochs of one-cycle Adam to
a peak lr of 0.16, batch 100, mirrored halves. They differ in the chroma bins (all64-ab: k-means in ab;
all-ab: Zhang's 10-unit grid, 169 bins found in the training pixels), class rebalancing (none, λ = 0.25,
0.5 or 0.75), width (nf 32 or 64) and, for one, random resized crops. The current default trained 30 epochs
without mirroring: the comparison gives it the longer training.

How the rule came to be: rule 3 first asked only for the colourfulness and the hue agreement (the issue's
item 6). A provisional scoring of the first two runs (chroma64, chroma64_rebalance; the others untrained)
showed it choosing a model further from the truth than grey on the holdout (chroma64_rebalance at T 0.38:
ΔE2000 11.19 against grey's 10.52, colourfulness 96%, hue agreement 0.66), which the issue's done-when
forbids ("beats the grey picture on mean ΔE2000 ... on both sets at once"). So rule 3 gained "closer than
the grey picture"; the amendment was written then, before any of the other runs was scored; it adds a
condition the issue states and makes no candidate feasible that was not before. Two runs were added to RUNS at
the same time, from that scoring: λ = 0.25, meant to lie between the two seen, and random resized crops
(`--zoom 0.6`, the issue's augmentation item) on the rebalanced 64-bin model. λ = 0.25 does not lie
between them: in w ∝ ((1 − λ)·p̃ + λ/K)⁻¹ a smaller λ weights rare colours more (λ = 1 is no
rebalancing), and it came out more colourful and further than λ = 0.5. So after the second provisional
scoring (of four runs; the grid and nf-64 runs not yet trained) λ = 0.75, the one between,
was added; it adds a candidate and changes no rule.

The choice is made once all of RUNS but DEFERRED have trained. A report on fewer (`--only`, or runs still
training) says at its top that it is provisional and which runs it lacks.

Amendment 3 (written before either grid run was scored; the nf-64 runs untrained): the two nf-64 runs
cost about 300–400 s an epoch here, one thread each, so about an hour side by side after the grid runs,
which does not fit the session that makes the choice. They are DEFERRED: they stay in RUNS, train on
(resumable) and are reported once scored, but the choice is made without them; when they are scored the
rule is applied again with them, and if it then chooses one of them, the default follows. This takes out
two candidates whose results nobody has seen.

Resumable: every run is a run folder under --runs trained with `resume=True`; runs train (and are scored) `--workers` at a
time, one thread each (the figures are holdout measures, not times).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from colorlib.colorize import colorize
from colorlib.data import ColorData, grey_rgb, load_cifar10, photos, split_holdout, with_luma
from colorlib.export import export_onnx
from colorlib.inference import outputs
from colorlib.metrics import colourfulness_per_image, difference, hue_agreement_counts, per_image_scores
from colorlib.models import num_parameters
from colorlib.palette import decode_output
from colorlib.pretrained import resolve
from colorlib.runs import load_run
from colorlib.selection import COLOUR_FLOORS, choose_colour
from colorlib.selection import colour_feasible as _feasible
from colorlib.selection import colour_figures as _figures  # one rule: chapter 10's exercise checks against it
from colorlib.selection import colour_photo_summary as photo_summary
from colorlib.selection import colour_summary as summary
from colorlib.train import TrainConfig, train

from .experiments import machine

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
    "chroma64_rebalance0.25": dict(palette="all64-ab", rebalance=0.25),
    "chroma64_rebalance_zoom": dict(palette="all64-ab", rebalance=0.5, zoom=0.6),
    "chroma64_rebalance0.75": dict(palette="all64-ab", rebalance=0.75),
}
DEFERRED = ("chroma64_nf64", "chroma64_nf64_rebalance")  # amendment 3: the choice does not wait for them
TEMPERATURES = (0.1, 0.2, 0.38, 0.6, 1.0)
MIN_COLOURFULNESS, MIN_HUE = COLOUR_FLOORS["colourfulness"], COLOUR_FLOORS["hue"]  # rule 3, in colorlib.selection
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


def finished(runs: Path, name: str) -> bool:
    """Whether run `name` under `runs` has trained all the epochs it planned."""
    history, planned = runs / name / "history.json", runs / name / "config.json"
    if not history.exists():
        return False
    return len(json.loads(history.read_text())) == json.loads(planned.read_text())["train"]["epochs"]


def candidates(runs: Path, names: list[str] | None = None) -> dict[str, str]:
    """Run label -> run folder or shipped name: the current default, then every finished run of `names` (all RUNS)."""
    out = {f"default ({DEFAULT_RUN})": DEFAULT_RUN}
    out |= {name: str(runs / name) for name in names or RUNS if finished(runs, name)}
    return out


def _picture_measures(predicted: np.ndarray, truth: np.ndarray) -> dict:
    """ΔE2000 per picture, colourfulness per picture (and the truth's), hue agreement counts per picture."""
    agree, coloured = hue_agreement_counts(predicted, truth)
    return {
        "delta_e": per_image_scores(predicted, truth)["delta_e"],
        "colourfulness": colourfulness_per_image(predicted),
        "truth_colourfulness": colourfulness_per_image(truth),
        "hue_agree": agree,
        "hue_coloured": coloured,
    }


def _holdout_pictures(run, images: np.ndarray) -> dict[float, np.ndarray]:
    """The run's colourisation of `images` at every T of TEMPERATURES, on their own lightness (one forward pass)."""
    data = ColorData.from_images(images, run.palette)
    out = {t: [] for t in TEMPERATURES}
    for i, logits in outputs(run.model, data.grey, 100):
        grey, truth = data.grey[i : i + 100, 0], images[i : i + 100]
        for t in TEMPERATURES:
            decoded = decode_output(logits.permute(0, 2, 3, 1), run.model.config.objective, run.palette, "annealed-mean", t, grey)
            out[t].append(with_luma(decoded, truth))
    return {t: np.concatenate(v) for t, v in out.items()}


def _score_run(job: tuple[str, str]) -> tuple[str, dict, dict]:
    """One run's measures at every T: (label, its cost, {candidate label: measures}); one thread, so runs go side by side."""
    torch.set_num_threads(1)
    label, where = job
    holdout = split_holdout(load_cifar10("all", "train"))[1].images
    run = load_run(resolve(where) if where == DEFAULT_RUN else where)
    coloured = _holdout_pictures(run, holdout)
    out = {}
    for t in TEMPERATURES:
        photo_rows = {}
        for name, photo in photos().items():
            picture = colorize(run, photo, decoding="annealed-mean", temperature=t, precision=PRECISION)
            photo_rows[name] = _per_photo(picture, photo)
        out[f"{label}, T {t:g}"] = {
            "run": label,
            "temperature": t,
            "holdout": summary(_picture_measures(coloured[t], holdout)),
            "photos": photo_rows,
        }
    return label, cost(run), out


def score_all(runs: Path, names: list[str], workers: int = 1) -> dict:
    """Every candidate's measures on the holdout (aggregated) and on each photo, with the grey picture's."""
    holdout = split_holdout(load_cifar10("all", "train"))[1].images
    pictures = photos()
    result = {
        "grey": {
            "holdout": summary(_picture_measures(grey_rgb(holdout), holdout)),
            "photos": {n: _per_photo(grey_rgb(p), p) for n, p in pictures.items()},
        },
        "candidates": {},
        "costs": {},
    }
    jobs = list(candidates(runs, names).items())
    done = map(_score_run, jobs) if workers == 1 else mp.get_context("spawn").Pool(workers).imap(_score_run, jobs)
    for label, run_cost, scored in tqdm(done, total=len(jobs), desc="runs"):
        result["costs"][label] = run_cost
        result["candidates"] |= scored
    return result


def cost(run) -> dict:
    """What a model costs to ship and use: its parameters, the size of its ONNX file (`colorlib export-onnx`) and
    the median seconds of `colorize` on a 1024×1024 photo (fp32, one thread, beside the other scoring process)."""
    import time

    photo = np.random.default_rng(0).integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
    seconds = []
    for _ in range(4):  # the first warms up
        start = time.perf_counter()
        colorize(run, photo, precision=PRECISION)
        seconds.append(time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as folder:
        path = export_onnx(run, Path(folder) / "model.onnx")
        return {
            "parameters": num_parameters(run.model),
            "onnx_bytes": path.stat().st_size,
            "bins": run.palette.num_colors,
            "colorize_1mpx_seconds": float(np.median(seconds[1:])),
        }


def _per_photo(predicted: np.ndarray, truth: np.ndarray) -> dict:
    m = _picture_measures(predicted[None], truth[None])
    return {k: float(v[0]) for k, v in m.items()}


CURRENT = f"default ({DEFAULT_RUN}), T 0.38"  # the current default as a candidate: its run at colorize's T
SHOWN = {"current default": f"{DEFAULT_RUN} (the default the rule measured against)"}  # how reports name it


def choose(scores: dict, names: list[str]) -> tuple[str, str]:
    """Rules 3 and 4 on the photos `names`: (the chosen candidate, "feasible", "fallback" or "kept")."""
    chosen, how = choose_colour({c: _figures(v, scores["grey"], names) for c, v in scores["candidates"].items()})
    return chosen or CURRENT, how


def leave_one_out(scores: dict) -> dict:
    """Rule 5: each photo scored by the choice made without it."""
    names = list(scores["grey"]["photos"])
    picks = {n: choose(scores, [m for m in names if m != n])[0] for n in names}
    rows = {n: scores["candidates"][picks[n]]["photos"][n] for n in picks}
    return {"picks": picks, **photo_summary(rows, names), "per_photo": rows}


def test_scores(scores: dict, runs: Path) -> dict:
    """The test split of all classes, once: the choice, the current default at T 0.38 and the grey picture,
    with paired t-intervals of the choice's ΔE2000 against each (`colorlib.metrics.difference`)."""
    images = load_cifar10("all", "test").images
    chosen = scores["candidates"][scores["choice"]["candidate"]]
    rows = {"grey picture": grey_rgb(images)}
    for label, cand in (("choice", chosen), ("current default", scores["candidates"][CURRENT])):
        where = candidates(runs)[cand["run"]]
        run = load_run(resolve(where) if where == DEFAULT_RUN else where)
        rows[label] = _holdout_pictures(run, images)[cand["temperature"]]
    measures = {k: _picture_measures(v, images) for k, v in rows.items()}
    out = {k: summary(m) for k, m in measures.items()}
    for other in ("grey picture", "current default"):
        out[f"choice - {other}, ΔE2000"] = difference(measures["choice"]["delta_e"], measures[other]["delta_e"])
    out["images"] = len(images)
    return out


def shipped_name(config: dict) -> str:
    """The name a chroma run ships under in colorlib/pretrained: e.g. unet_all64_ab_rebalance."""
    t, k = config["train"], config["model"]["num_colors"]
    return f"{t['arch']}_all{k}_ab" + (f"_nf{t['nf']}" if t["nf"] != 32 else "") + ("_rebalance" if t.get("rebalance") else "")


def ship(scores: dict, runs: Path, folder: Path) -> str | None:
    """Copy the chosen run into `folder` (colorlib/pretrained/) with the temperature chosen with it; its shipped name
    (None when the rule kept the current default). pretrained.DEFAULT_RUN is then set to it by hand."""
    chosen = scores["candidates"][scores["choice"]["candidate"]]
    if scores["choice"]["by"] == "kept":
        return None
    src = Path(candidates(runs)[chosen["run"]])
    config = json.loads((src / "config.json").read_text())
    name = shipped_name(config)
    dst = folder / name
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    for f in ("history.json", "weights.pt", "snapshots.npz", "loss.png"):  # not checkpoint.pt: only resuming needs it
        shutil.copy2(src / f, dst / f)
    config["command"] = config["command"].rsplit(" --out ", 1)[0] + f" --out colorlib/pretrained/{name}"
    config["decoding"] = {"temperature": chosen["temperature"], "chosen_by": "experiments/colour.py"}
    (dst / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return name


def _row(label: str, f: dict) -> str:
    h, p = f["holdout"], f["photos"]
    ok = all(_feasible(s) for s in f.values())
    return (
        f"| {label} | {h['delta_e']:.2f} | {h['colourfulness']:.0%} | {h['hue']:.2f} | "
        f"{p['delta_e']:.2f} | {p['colourfulness']:.0%} | {p['hue']:.2f} | {'yes' if ok else 'no'} |"
    )


HISTORY = """\
## How the rule came to be

The rule (the docstring of `experiments/colour.py`) was written down before any of its runs was
scored. It was amended three times, each amendment written before the runs it judged were scored;
runs were also added after looking, which is the history's weak spot. In order:

1. **"Closer than the grey picture" joins rule 3.** Rule 3 first asked only for colourfulness and
   hue agreement. A provisional scoring of the first two runs (chroma64, chroma64_rebalance; the
   others untrained) showed it choosing a model further from the truth than grey on the holdout:
   chroma64_rebalance at T 0.38, ΔE2000 11.19 against grey's 10.52, with colourfulness 96% and hue
   agreement 0.66. The issue's done-when forbids that ("beats the grey picture on mean ΔE2000 ... on
   both sets at once"), so rule 3 gained the condition. It was written then, before any other run
   was scored; it adds a condition the issue states and makes no candidate feasible that was not
   feasible before.
2. **Runs added after looking.** With that amendment, two runs joined RUNS on the strength of the
   same scoring: λ = 0.25, meant to lie between the two runs seen, and random resized crops
   (`--zoom 0.6`) on the rebalanced 64-bin model. λ = 0.25 does not lie between them: in
   w ∝ ((1 − λ)·p̃ + λ/K)⁻¹ a smaller λ weights rare colours more (λ = 1 is no rebalancing), and it
   came out more colourful and further from the truth than λ = 0.5. So after a second provisional
   scoring, of four runs (the grid and nf-64 runs not yet trained), λ = 0.75, the one between, was
   added. It adds a candidate and changes no rule, but it is the run chosen in the end: its holdout
   and photo figures were chosen knowing part of the results. The test split, scored once after the
   choice, is the figure that does not depend on this history.
3. **The two wider networks deferred.** Written before either grid run was scored, with the nf-64
   runs untrained: those two runs cost 300–400 s an epoch here, one thread each, which does not fit
   the session that makes the choice. They stay in RUNS, train on and are reported once scored, but
   the choice is made without them; when they are scored the rule is applied again with them, and
   if it then chooses one of them, the default follows. This takes out two candidates whose results
   nobody has seen.

The choice is made once every run but the deferred ones has trained; a report on fewer says at its
top that it is provisional.
"""  # the rule's amendments (see the docstring), so docs/colour.md carries them


def markdown(scores: dict) -> str:
    """docs/colour.md: every candidate on both sets, the choice, its leave-one-out and test figures."""
    names = list(scores["grey"]["photos"])
    scored = {v["run"] for v in scores["candidates"].values()}
    grey = {"candidates": {}, "holdout": scores["grey"]["holdout"], "photos": scores["grey"]["photos"]}
    lines = [
        "# Colour that looks like colour: chroma-only models against the palette classifier",
        "",
        f"Written by `python -m experiments.colour` ({scores['machine']}); the rule is in its docstring.",
        *(
            [
                f"**Provisional**: the rule chooses once every run but {' and '.join(DEFERRED)} has trained; not yet scored: "
                f"{', '.join(missing)}."
            ]
            if (missing := [n for n in RUNS if n not in scored and n not in DEFERRED])
            else []
        ),
        *(
            [
                f"Chosen without {', '.join(deferred)} (amendment 3 in the rule: deferred, not yet trained); the rule is "
                "applied again when they are."
            ]
            if (deferred := [n for n in DEFERRED if n not in scored])
            else []
        ),
        "Every row is on the input's own lightness. Holdout: the 5,000 CIFAR-10 training pictures of all",
        "classes the runs validate on; photos: the eight shipped photographs, all eight (in-sample; the",
        "leave-one-out figures follow). Colourfulness: the ratio of the means to the originals'; hue",
        f"agreement: pooled over the holdout's pixels, the mean over photos. Feasible: colourfulness ≥ {MIN_COLOURFULNESS:.0%},",
        f"hue agreement ≥ {MIN_HUE} and ΔE2000 below the grey picture's, on both sets.",
        "",
        "| candidate | holdout ΔE2000 | colourfulness | hue agreement "
        "| photos ΔE2000 | colourfulness | hue agreement | feasible |",
        "|---|---|---|---|---|---|---|---|",
        _row("grey picture", _figures(grey, scores["grey"], names)),
    ]
    lines += [_row(c, _figures(v, scores["grey"], names)) for c, v in scores["candidates"].items()]
    lines += [
        "",
        "| run | palette colours or chroma bins | parameters | ONNX file | colorize, 1024² photo |",
        "|---|---|---|---|---|",
    ]
    for run, c in scores.get("costs", {}).items():
        seconds = f"{c['colorize_1mpx_seconds']:.2f} s" if "colorize_1mpx_seconds" in c else "—"
        lines.append(f"| {run} | {c['bins']} | {c['parameters']:,} | {c['onnx_bytes'] / 1024:.0f} KiB | {seconds} |")
    lines += [
        "",
        "colorize: the median of three, fp32 on one thread, while another scoring process ran on the other core "
        f"({scores.get('machine', 'machine not recorded')}); at a 48-pixel working side the network is a small part of it.",
    ]
    choice = scores.get("choice")
    if choice:
        loo = choice["leave_one_out"]
        grey_photos = photo_summary(scores["grey"]["photos"], names)
        lines += [
            "",
            f"**Choice: {choice['candidate']}**"
            + {
                "feasible": " (feasible on both sets: rule 3)",
                "fallback": " — no candidate is feasible on both sets: the fallback of rule 4.",
                "kept": " — no candidate is feasible, nor closer than grey on both sets: the current default stays (rule 4).",
            }[choice["by"]]
            + (
                f" Shipped as `{choice['shipped']}` (`colorlib.pretrained.DEFAULT_RUN`, the temperature in its config)."
                if choice.get("shipped")
                else ""
            ),
            "",
            f"Leave-one-photo-out (rule 5): ΔE2000 {loo['delta_e']:.2f} against grey's {grey_photos['delta_e']:.2f}, "
            f"colourfulness {loo['colourfulness']:.0%}, hue agreement {loo['hue_mean']:.2f}; "
            "the choices made without each photo: " + ", ".join(f"{n}: {c}" for n, c in loo["picks"].items()),
        ]
        ref = [scores["grey"]["photos"][n]["delta_e"] for n in names]
        diff = difference([loo["per_photo"][n]["delta_e"] for n in names], ref)
        closer = sum(loo["per_photo"][n]["delta_e"] < scores["grey"]["photos"][n]["delta_e"] for n in names)
        lines.append(
            f"Its ΔE2000 − grey's over the eight photos: {diff['difference']:+.2f} [{diff['low']:+.2f}, {diff['high']:+.2f}] "
            f"(paired t, n = 8), closer on {closer} of 8."
        )
    test = scores.get("test")
    if test:
        lines += [
            "",
            f"## The test split, once ({test['images']:,} pictures of all classes)",
            "",
            "| | ΔE2000 | colourfulness (ratio of means) | mean of ratios | hue agreement |",
            "|---|---|---|---|---|",
        ]
        for k in ("grey picture", "current default", "choice"):
            r = test[k]
            ratios = f"{r['colourfulness']:.0%} | {r['colourfulness_mean_of_ratios']:.0%}"
            lines.append(f"| {SHOWN.get(k, k)} | {r['delta_e']:.2f} | {ratios} | {r['hue_pooled']:.2f} |")
        for other in ("grey picture", "current default"):
            d = test[f"choice - {other}, ΔE2000"]
            lines.append(
                f"\nChoice − {SHOWN.get(other, other)}, ΔE2000: {d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}] "
                "(95% paired t)."
            )
    lines += ["", HISTORY.rstrip("\n")]
    return "\n".join(lines) + "\n"


def frontier_figure(scores: dict):
    """ΔE2000 against colourfulness on each set, one line per run through its temperatures."""
    from matplotlib.figure import Figure

    names = list(scores["grey"]["photos"])
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    axes = fig.subplots(1, 2)
    runs: dict[str, list] = {}
    for v in scores["candidates"].values():
        runs.setdefault(v["run"], []).append((v["temperature"], _figures(v, scores["grey"], names)))
    grey = {"holdout": scores["grey"]["holdout"], "photos": photo_summary(scores["grey"]["photos"], names)}
    for ax, where in zip(axes, ("holdout", "photos"), strict=True):
        for run, points in runs.items():
            points.sort()
            x = [f[where]["colourfulness"] for _, f in points]
            y = [f[where]["delta_e"] for _, f in points]
            ax.plot(x, y, "o-", label=run, markersize=4)
            ax.annotate(f"T {points[-1][0]:g}", (x[-1], y[-1]), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.axhline(grey[where]["delta_e"], color="grey", linestyle="--", label="grey picture")
        ax.axvline(MIN_COLOURFULNESS, color="black", linestyle=":", label=f"{MIN_COLOURFULNESS:.0%} of the colourfulness")
        title = "CIFAR-10 holdout, all classes" if where == "holdout" else "the eight photographs (all eight)"
        ax.set(xlabel="colourfulness (ratio of the means to the originals')", ylabel="mean ΔE2000 (lower is closer)", title=title)
    axes[0].legend(fontsize=7)
    return fig


def _load(runs: Path, label: str):
    where = candidates(runs)[label]
    return load_run(resolve(where) if where == DEFAULT_RUN else where)


def grids(scores: dict, runs: Path, side: int = 128) -> dict:
    """Figures a person looks at (item 7): the photos and two holdout pictures of each class, as the
    original, the grey picture, the current default and the choice colour them (each on its own lightness)."""
    from PIL import Image

    from colorlib.data import CLASSES
    from colorlib.plot import rows_figure

    chosen = scores["candidates"][scores["choice"]["candidate"]]
    rows = {"before": (scores["candidates"][CURRENT]["run"], 0.38), "choice": (chosen["run"], chosen["temperature"])}
    models = {k: (_load(runs, label), t) for k, (label, t) in rows.items()}

    def thumb(picture: np.ndarray) -> np.ndarray:  # the centre square, at `side` pixels
        h, w = picture.shape[:2]
        m = min(h, w)
        square = picture[(h - m) // 2 : (h - m) // 2 + m, (w - m) // 2 : (w - m) // 2 + m]
        return np.asarray(Image.fromarray(square).resize((side, side), Image.LANCZOS))

    pictures = list(photos().values())
    photo_rows = {"original": [thumb(p) for p in pictures], "grey picture": [thumb(grey_rgb(p)) for p in pictures]}
    for k, (run, t) in models.items():
        photo_rows[f"{k}: {rows[k][0]}, T {t:g}"] = [
            thumb(colorize(run, p, decoding="annealed-mean", temperature=t, precision=PRECISION)) for p in pictures
        ]
    holdout = split_holdout(load_cifar10("all", "train"))
    pick = np.concatenate([np.flatnonzero(holdout[1].labels == c)[:2] for c in range(len(CLASSES))])
    cifar = holdout[1].images[pick]
    cifar_rows = {"original": cifar, "grey picture": grey_rgb(cifar)}
    for k, (run, t) in models.items():
        cifar_rows[f"{k}: {rows[k][0]}, T {t:g}"] = _holdout_pictures(run, cifar)[t]
    return {
        "photos": rows_figure({k: np.stack(v) for k, v in photo_rows.items()}, scale=0.5),
        "cifar": rows_figure(cifar_rows, "two holdout pictures of each class", scale=1.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "colour")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stage", choices=("train", "score", "report", "test", "ship", "all"), default="all")
    parser.add_argument("--ship-to", type=Path, default=ROOT / "colorlib" / "pretrained", help="where --stage ship puts the run")
    parser.add_argument("--only", nargs="+", choices=list(RUNS), help="a subset of the runs (default: all)")
    parser.add_argument("--max-epochs", type=int, help="cap every run's epochs (a smoke test; not a search)")
    args = parser.parse_args()
    names = args.only or list(RUNS)
    stages = ("train", "score", "report") if args.stage == "all" else (args.stage,)
    if "train" in stages:
        train_all(args.runs, names, args.workers, args.max_epochs)
    args.out.mkdir(parents=True, exist_ok=True)
    record = args.out / "colour.json"
    if "score" in stages:
        scores = score_all(args.runs, names, args.workers)
        scores["machine"] = machine()
        record.write_text(json.dumps(scores, indent=1) + "\n")
    if "ship" in stages:  # after --stage test: the choice into colorlib/pretrained/
        scores = json.loads(record.read_text())
        scores["choice"]["shipped"] = ship(scores, args.runs, args.ship_to)
        record.write_text(json.dumps(scores, indent=1) + "\n")
        print(f"shipped as {scores['choice']['shipped']}; set colorlib.pretrained.DEFAULT_RUN to it")
    if "report" in stages or "test" in stages:
        scores = json.loads(record.read_text())
        names = list(scores["grey"]["photos"])
        choice, how = choose(scores, names)
        before = scores.get("choice", {})
        shipped = {"shipped": before["shipped"]} if "shipped" in before and before["candidate"] == choice else {}
        scores["choice"] = {"candidate": choice, "by": how, "leave_one_out": leave_one_out(scores), **shipped}
        if "test" in stages:  # once, after the choice
            scores["test"] = test_scores(scores, args.runs)
        record.write_text(json.dumps(scores, indent=1) + "\n")
        (args.out / "colour.md").write_text(markdown(scores))
        frontier_figure(scores).savefig(args.out / "colour_frontier.png", dpi=110)
        for name, figure in grids(scores, args.runs).items():
            figure.savefig(args.out / f"colour_{name}.png", dpi=110)
        print(markdown(scores))


if __name__ == "__main__":
    main()

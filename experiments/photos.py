"""Colouring real photographs: the working scale and decoding chosen by measurement, and the palette model with them.

    COLORLIB_DATA=... python -m experiments.photos [--out docs]

The test set is the eight photographs installed packages ship (`colorlib.data.photos()`), with
their true colours, and CIFAR-10's test pictures of all ten classes. For each candidate model (the
all-class models of `experiments/pretrained_runs.py --general`) and each pipeline — working scale
(the network's view of the photo: its own size, or a shorter side of 32 to 128 pixels) × decoding
(argmax or annealed mean), always on the photo's own lightness below its own size — it measures
ΔE2000 and colourfulness per photo. The choice is the model and pipeline with the lowest mean
ΔE2000 among those whose mean photo share of colourfulness is at least 40%; its honest estimate is
leave-one-photo-out (choose on seven photos, score the eighth). Then the table: the grey picture,
the original way (the horse UNet at the photo's own size, argmax), every single-class UNet and
every all-class model on the chosen pipeline, and two references on the photo's own lightness: the
truth snapped to the palette, and the best palette colour per pixel by ΔE2000 (the floor for argmax
decoding on the photo's lightness). The headline comparison, the leave-one-out choice against the
grey picture, is a paired t-interval over the eight photos (valid at n = 8, where a percentile
bootstrap is too narrow) with the exact Wilcoxon signed-rank p beside it. Every model runs in fp32,
so the figures are the same on every CPU (bf16 autocast, colorize's default where a CPU has it,
moves them in the second decimal). Writes docs/photos.md, docs/photos.json and docs/photos.png.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import colorlib
from colorlib.data import CLASSES, grey_rgb, photos, with_luma
from colorlib.metrics import best_palette_colours, colourfulness, difference, image_scores, per_image_scores, score
from colorlib.plot import rows_figure
from colorlib.pretrained import FOLDER, pretrained_names
from colorlib.selection import MIN_COLOURFULNESS
from colorlib.selection import choose_on_photos as choose  # one rule: chapter 09's exercise checks against it

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = ["unet_all32", "unet_all32_lab", "cnn_all32"]
SCALES: list[str | int] = ["native", 32, 48, 64, 96, 128]
DECODINGS = ["argmax", "annealed-mean"]
PRECISION = "fp32"  # the same figures on any CPU; bf16 autocast (colorize's "auto" on CPUs that have it) differs slightly


def pipeline_name(scale, decoding) -> str:
    return f"{'own size' if scale == 'native' else f'shorter side {scale}'}, {decoding}"


def photo_scores(run, pictures: dict, **how) -> dict[str, dict[str, float]]:
    """ΔE2000, PSNR, SSIM and colourfulness of `run` on each photo, colourised as `how` says."""
    out = {}
    for name, photo in pictures.items():
        coloured = colorlib.colorize(run, photo, precision=PRECISION, **how)
        each = per_image_scores(coloured[None], photo[None])
        out[name] = {k: float(v[0]) for k, v in each.items()}
    return out


def reference(pictures: dict, palette) -> dict[str, dict[str, dict[str, float]]]:
    rows = {"grey picture": {}, "palette truth + own lightness": {}, "best palette colour + own lightness": {}}
    for name, photo in pictures.items():
        for row, picture in (
            ("grey picture", grey_rgb(photo)),
            ("palette truth + own lightness", with_luma(palette.saturate(photo), photo)),
            ("best palette colour + own lightness", best_palette_colours(photo, palette, keep_luma=True)),
        ):
            each = per_image_scores(picture[None], photo[None])
            rows[row][name] = {k: float(v[0]) for k, v in each.items()}
    return rows


def mean(per_photo: dict, key: str) -> float:
    return float(np.mean([v[key] for v in per_photo.values()]))


HEADLINE = {
    "chosen pipeline, leave-one-photo-out choice": "chosen pipeline, leave one photo out (honest)",
    "the original way: horse UNet/32, own size, argmax": "the original way: horse UNet/32, own size, argmax",
}


def compare(rows: dict, names: list[str], default_name: str) -> dict[str, dict]:
    """Per-photo ΔE2000 differences against the grey picture: t-interval, Wilcoxon p, photos better."""
    from scipy import stats

    grey = np.array([rows["grey picture"][n]["delta_e"] for n in names])
    labels = {**HEADLINE, f"{default_name}, chosen pipeline": "chosen pipeline, chosen on all eight (in-sample)"}
    out = {}
    for label, shown in labels.items():
        model = np.array([rows[label][n]["delta_e"] for n in names])
        out[shown] = {
            **difference(model, grey),
            "wilcoxon_p": float(stats.wilcoxon(model, grey).pvalue),
            "better_on": int((model < grey).sum()),
            "n": len(names),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument("--data", help="folder holding cifar-10-batches-py/ (default: $COLORLIB_DATA)")
    # Fewer photos and scales only to try the script quickly (tests/test_experiments.py)
    parser.add_argument("--photos", type=int, help="the first N photos (default: all eight)")
    parser.add_argument("--scales", nargs="+", help="working scales to try (default: native 32 48 64 96 128)")
    args = parser.parse_args()
    global SCALES
    SCALES = [s if s == "native" else int(s) for s in args.scales] if args.scales else SCALES
    out, start = Path(args.out), time.perf_counter()
    pictures = dict(list(photos().items())[: args.photos])
    truth_colour = {n: colourfulness(p) for n, p in pictures.items()}
    runs = {name: colorlib.load_run(FOLDER / name) for name in CANDIDATES if name in pretrained_names()}

    grid = {}  # (model, scale, decoding) → per-photo scores
    for name, run in tqdm(runs.items(), desc="scale × decoding", unit="model"):
        for scale in SCALES:
            for decoding in DECODINGS:
                grid[name, scale, decoding] = photo_scores(run, pictures, scale=scale, decoding=decoding)
    names = list(pictures)
    chosen = choose(grid, truth_colour, names)
    held_out = {}  # leave one photo out: choose on the others, score it
    for n in names:
        key = choose(grid, truth_colour, [m for m in names if m != n])
        held_out[n] = {"choice": list(map(str, key)), **grid[key][n]}
    print("chosen:", chosen)
    write(out, pictures, runs, grid, chosen, held_out, truth_colour, args, start)


def write(out, pictures, runs, grid, chosen, held_out, truth_colour, args, start) -> None:
    default_name, scale, decoding = chosen
    how = {"scale": scale, "decoding": decoding}
    rows = reference(pictures, colorlib.load_palette("all32"))
    horse = colorlib.pretrained("unet", "horse", 32)
    rows["the original way: horse UNet/32, own size, argmax"] = photo_scores(horse, pictures, scale="native", decoding="argmax")
    for cls in CLASSES:
        rows[f"{cls} UNet/32, chosen pipeline"] = photo_scores(colorlib.pretrained("unet", cls, 32), pictures, **how)
    for name in runs:
        rows[f"{name}, chosen pipeline"] = grid[name, scale, decoding]
        rows[f"{name}, own size, argmax"] = grid[name, "native", "argmax"]
    rows["chosen pipeline, leave-one-photo-out choice"] = {
        n: {k: v for k, v in s.items() if k != "choice"} for n, s in held_out.items()
    }

    # CIFAR-10 test pictures of all ten classes: 32×32, so every pipeline sees them at their own size
    cifar = colorlib.load_cifar10("all", "test", args.data).images
    cifar_rows = {}
    grey = grey_rgb(cifar)  # some CIFAR pictures are grey already: image_scores pools their PSNR (marked *)
    cifar_rows["grey picture"] = {**image_scores(grey, cifar), "colourfulness": colourfulness(grey)}
    default = runs[default_name]
    for label, run, kw in (
        ("the original way: horse UNet/32, argmax", horse, {}),
        (f"chosen pipeline: {default_name}, {decoding}, own lightness", default, {"decoding": decoding, "keep_luma": True}),
    ):
        s = score(run.model, run.palette, cifar, **kw)
        cifar_rows[label] = {"delta_e": s["delta_e"], "psnr": s["psnr"], "ssim": s["ssim"], "colourfulness": s["colourfulness"]}
    cifar_truth = colourfulness(cifar)
    comparisons = compare(rows, list(pictures), default_name)

    truth_mean = float(np.mean(list(truth_colour.values())))
    doc = {
        "photos": list(pictures),
        "truth_colourfulness": truth_colour,
        "chosen": list(map(str, chosen)),
        "grid": {" | ".join(map(str, k)): v for k, v in grid.items()},
        "rows": rows,
        "held_out": held_out,
        "cifar": cifar_rows,
        "cifar_truth_colourfulness": cifar_truth,
        "comparisons": comparisons,
        "precision": PRECISION,
    }
    (out / "photos.json").write_text(json.dumps(doc, indent=1) + "\n")

    names = list(pictures)
    lines = [
        "# Colouring photographs\n",
        "Generated by `python -m experiments.photos`. Eight photographs that installed packages ship "
        "(`colorlib.data.photos()`: scikit-image's astronaut, chelsea, coffee, rocket and motorcycle, scikit-learn's "
        "china and flower, matplotlib's grace_hopper), each scored against its true colours, and CIFAR-10's 10,000 "
        "test pictures. ΔE2000 (lower is better) and colourfulness (Hasler & Süsstrunk; the originals': "
        f"{truth_mean:.1f} on average) per photo. A *share* of the originals' colourfulness is the mean over photos "
        "of each photo's ratio (so it is not the mean colourfulness divided by the originals' mean).\n",
        "## The choice\n",
        f"Candidates: {', '.join(runs)}; pipelines: working scale {', '.join(map(str, SCALES))} × decoding "
        f"{', '.join(DECODINGS)}. Rule: the lowest mean ΔE2000 among pipelines whose mean photo share "
        f"(each photo's colourfulness over its original's, averaged) is at least {MIN_COLOURFULNESS:.0%}. "
        f"Chosen on all eight: **{default_name}, "
        f"{pipeline_name(scale, decoding)}**. Leave one photo out (choose on seven, score the eighth) gives the "
        "honest estimate in the row *chosen pipeline, leave-one-photo-out choice*. The default model has since changed: "
        "`experiments/colour.py` chose a chroma-only model on these photos and the CIFAR-10 holdout "
        "([colour.md](colour.md)); it keeps this working scale and decoding.\n",
        "## Mean ΔE2000 of every pipeline (all eight photos)\n",
        "| model | " + " | ".join(pipeline_name(s, d) for s in SCALES for d in DECODINGS) + " |",
        "|---|" + "---|" * (len(SCALES) * len(DECODINGS)),
    ]
    for name in runs:
        cells = [f"{mean(grid[name, s, d], 'delta_e'):.2f}" for s in SCALES for d in DECODINGS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Photographs\n",
        "| | mean ΔE2000 | PSNR | SSIM | colourfulness (share of the originals') | " + " | ".join(names) + " |",
        "|---|---|---|---|---|" + "---|" * len(names),
    ]
    for label, per in rows.items():
        ratio = np.mean([per[n]["colourfulness"] / truth_colour[n] for n in names])
        cells = [
            f"{mean(per, 'delta_e'):.2f}",
            f"{mean(per, 'psnr'):.2f}",
            f"{mean(per, 'ssim'):.3f}",
            f"{mean(per, 'colourfulness'):.1f} ({ratio:.0%})",
        ] + [f"{per[n]['delta_e']:.2f}" for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Better than grey? (ΔE2000, eight photos)\n",
        "Each row: the mean of the per-photo differences model − grey (negative: the model is closer to the true "
        "colours), a 95% paired t-interval (`colorlib.metrics.difference`; at n = 8 a percentile bootstrap is too "
        "narrow, as its coverage falls short of 95% for so few values), the exact Wilcoxon signed-rank p (no "
        "normality assumed) and on how many photos the model is better. Only the leave-one-out row is an honest "
        "estimate for a photo the choice has not seen: the in-sample row chose the pipeline on the very photos it "
        "is scored on.\n",
        "| model − grey picture | mean difference | 95% t-interval | t p | Wilcoxon p | better on |",
        "|---|---|---|---|---|---|",
    ]
    for label, c in comparisons.items():
        lines.append(
            f"| {label} | {c['difference']:+.2f} | [{c['low']:+.2f}, {c['high']:+.2f}] | {c['p']:.2f} | "
            f"{c['wilcoxon_p']:.2f} | {c['better_on']} of {c['n']} |"
        )
    honest = comparisons[HEADLINE["chosen pipeline, leave-one-photo-out choice"]]
    shown = (
        "the interval excludes 0: on photos like these the choice is closer than grey"
        if honest["high"] < 0
        else "the interval spans 0: they do not show that the choice beats the grey picture on ΔE2000 for photos in "
        f"general, only that on {honest['better_on']} of these {honest['n']} it comes closer"
    )
    lines += [
        "",
        "What this shows and does not: eight photos are a handful, not a sample of all photographs, and "
        f"{shown}. Colourfulness is another matter: the grey picture has none.",
        "",
        f"## CIFAR-10 test pictures, all ten classes (colourfulness of the originals: {cifar_truth:.1f})\n",
        "| | ΔE2000 | PSNR | SSIM | colourfulness |",
        "|---|---|---|---|---|",
    ]
    for label, r in cifar_rows.items():
        star = "*" if r.get("psnr_pooled") else ""
        lines.append(f"| {label} | {r['delta_e']:.2f} | {r['psnr']:.2f}{star} | {r['ssim']:.3f} | {r['colourfulness']:.1f} |")
    lines += [
        "",
        "\\* PSNR pooled over all pixels: some CIFAR pictures are grey already, so the grey picture reproduces them "
        "exactly (infinite per-picture PSNR).",
        "",
        "![original, grey, the original way, the chosen pipeline](photos.png)",
        "",
    ]
    (out / "photos.md").write_text("\n".join(lines))
    print("\n".join(lines))

    from PIL import Image, ImageOps

    figure_rows = {"original": [], "grey": [], "the original way": [], default_name: []}
    for photo in pictures.values():
        shown = {
            "original": photo,
            "grey": grey_rgb(photo),
            "the original way": colorlib.colorize(horse, photo, scale="native", precision=PRECISION),
            default_name: colorlib.colorize(default, photo, precision=PRECISION, **how),
        }
        for row, picture in shown.items():  # each photo's centre square at 160 × 160, so the cells line up
            figure_rows[row].append(np.asarray(ImageOps.fit(Image.fromarray(picture), (160, 160))))
    fig = rows_figure({k: np.stack(v) for k, v in figure_rows.items()}, scale=0.35)
    fig.savefig(out / "photos.png", dpi=100)
    print(f"wrote {out / 'photos.md'}, photos.json and photos.png in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

"""How good a colourisation is: over palette indices (cross-entropy, pixel and balanced accuracy)
and over the pictures themselves (PSNR, SSIM, CIEDE2000, colourfulness), with reference rows: the
grey input (no colour at all), the palette truth (the truth snapped to the palette: what a
classifier is trained to predict) and the best palette colour per pixel by ΔE2000 (the ceiling of
ΔE2000 for a palette classifier decoded by argmax), each also on the input's own lightness.
Regression models (`objective="regress"`) have no palette classes: their cross-entropy and
accuracies are None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import ColorData
from .errors import ColorlibError
from .inference import colourise, objective, outputs, predict  # noqa: F401 - objective, predict re-exported
from .palette import TEMPERATURE, Palette, _keys_to_rgb, _rgb_keys, under_lightness
from .pixels import grey_rgb, luma, with_luma


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Mean cross-entropy over every pixel (logits N×K×H×W, targets N×H×W)."""
    return F.cross_entropy(logits.float(), targets.long()).item()


def pixel_accuracy(predicted: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of pixels whose predicted palette index (N×H×W, or logits N×K×H×W) is right."""
    if predicted.dim() == targets.dim() + 1:
        predicted = predicted.argmax(1)
    return (predicted == targets.to(predicted.device)).float().mean().item()


def evaluate(
    model: nn.Module,
    grey: torch.Tensor,
    targets: torch.Tensor,
    batch_size: int = 100,  # small batches stay in cache: faster than large ones on CPUs
    device: torch.device | str | None = None,
    exact: bool = True,
) -> dict[str, float | int]:
    """The validation loss of `model` (in eval mode) over all pixels of all images.

    Classifiers: `targets` are palette indices N×H×W; gives cross-entropy and pixel accuracy.
    Regression models: `targets` are the uint8 RGB pictures N×H×W×3; gives the mean squared error
    of colours in [0, 1]. `exact=True` scores the same on every CPU (float64 there); training's
    validation passes False and runs in the model's own dtype, as its steps do.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    regress = objective(model) == "regress"
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    for i, out in outputs(model, grey, batch_size, device, exact):
        y = targets[i : i + batch_size].to(device)
        flat = out.permute(0, 2, 3, 1).reshape(-1, out.shape[1])  # N·H·W × C: no copy if channels_last
        if regress:
            loss_sum += F.mse_loss(flat, y.reshape(-1, 3).float() / 255, reduction="sum").double()
            continue
        loss_sum += F.cross_entropy(flat, y.reshape(-1).long(), reduction="sum").double()
        correct += (flat.argmax(1) == y.reshape(-1)).sum()
    if regress:
        return {"mse": loss_sum.item() / targets.numel(), "images": len(grey)}
    pixels = targets.numel()
    return {
        "cross_entropy": loss_sum.item() / pixels,
        "pixel_accuracy": correct.item() / pixels,
        "images": len(grey),
    }


def quantization_error(images: np.ndarray, palette: Palette) -> float:
    """Mean Euclidean RGB distance (0–255 scale) between each pixel and its palette colour."""
    saturated = palette.saturate(images).astype(np.float32)
    return float(np.sqrt(((images.astype(np.float32) - saturated) ** 2).sum(-1)).mean())


def balanced_accuracy(predicted: np.ndarray | torch.Tensor, targets: np.ndarray | torch.Tensor, num_colors: int) -> float:
    """Mean over palette colours of the fraction of that colour's pixels predicted right.

    Colours absent from `targets` are left out. Unlike pixel accuracy, a model that paints
    everything the commonest colour scores about 1/K here.
    """
    p = torch.as_tensor(np.asarray(predicted)).reshape(-1).long()
    t = torch.as_tensor(np.asarray(targets)).reshape(-1).long()
    total = torch.bincount(t, minlength=num_colors).double()
    hits = torch.bincount(t[p == t], minlength=num_colors).double()
    present = total > 0
    return (hits[present] / total[present]).mean().item()


def colourfulness_per_image(images: np.ndarray) -> np.ndarray:
    """Hasler & Süsstrunk (2003) colourfulness of each uint8 RGB image (..., H, W, 3), flattened to one value per image.

    rg = R − G, yb = (R + G)/2 − B, M = √(σ_rg² + σ_yb²) + 0.3·√(μ_rg² + μ_yb²); grey pictures score 0.
    """
    x = np.asarray(images, dtype=np.float64).reshape(-1, *np.shape(images)[-3:])
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    sigma = np.sqrt(rg.var(axis=(1, 2)) + yb.var(axis=(1, 2)))
    mu = np.sqrt(rg.mean(axis=(1, 2)) ** 2 + yb.mean(axis=(1, 2)) ** 2)
    return sigma + 0.3 * mu


def delta_e_map(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """CIEDE2000 ΔE of every pixel of uint8 RGB pictures (..., H, W, 3) against the originals: (..., H, W).
    The one place the series turns pictures into ΔE2000 (chapter 06 maps it, every score averages it)."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    return deltaE_ciede2000(rgb2lab(np.asarray(truth)), rgb2lab(np.asarray(predicted)))


def delta_e_per_image(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Mean CIEDE2000 ΔE of each uint8 RGB picture N×H×W×3 against the originals: `per_image_scores`' delta_e
    without its PSNR and SSIM, for a cell that needs only closeness (chapter 09's live sub-grid)."""
    return delta_e_map(predicted, truth).mean(axis=(-2, -1))


def colourfulness(images: np.ndarray) -> float:
    """Hasler & Süsstrunk colourfulness (`colourfulness_per_image`) averaged over images."""
    return float(colourfulness_per_image(images).mean())


def colourfulness_ratio(predicted: np.ndarray, truth: np.ndarray) -> float:
    """The share of the originals' colourfulness a colourisation keeps: the ratio of the means over pictures.

    Pictures weigh by their own colourfulness, so near-grey originals cannot inflate it (compare
    `colourfulness_mean_of_ratios`). Grey predictions score 0; the truth itself 1.
    """
    if np.shape(predicted) != np.shape(truth):
        raise ColorlibError(
            f"a colourfulness ratio needs predictions shaped as the originals, got {np.shape(predicted)} and {np.shape(truth)}"
        )
    truth_mean = colourfulness(truth)
    if truth_mean == 0:
        raise ColorlibError("the originals are all grey (colourfulness 0): a share of their colourfulness is undefined")
    return colourfulness(predicted) / truth_mean


def colourfulness_mean_of_ratios(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Each picture's colourfulness over its original's, averaged over pictures whose original is not grey."""
    p, t = colourfulness_per_image(predicted), colourfulness_per_image(truth)
    if p.shape != t.shape:
        raise ColorlibError(f"colourfulness ratios need as many predictions as originals, got {len(p)} and {len(t)}")
    coloured = t > 0
    if not coloured.any():
        raise ColorlibError("the originals are all grey (colourfulness 0): a share of their colourfulness is undefined")
    return float((p[coloured] / t[coloured]).mean())


HUE_TRUTH_CHROMA = 20.0  # pixels count for hue agreement where the truth's C*ab exceeds this: clearly coloured
HUE_MIN_CHROMA = 10.0  # a prediction names a hue only where its own C*ab exceeds this (grey names none)
HUE_TOLERANCE = 45.0  # degrees of h_ab: an eighth of the hue circle either way


def hue_agreement_counts(predicted: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per picture (N×H×W×3 uint8 RGB): (pixels agreeing in hue, clearly coloured pixels); see `hue_agreement`."""
    from skimage.color import rgb2lab

    predicted, truth = np.asarray(predicted), np.asarray(truth)
    if (
        predicted.shape != truth.shape
        or predicted.dtype != np.uint8
        or truth.dtype != np.uint8
        or predicted.ndim < 3
        or predicted.shape[-1] != 3
    ):
        shapes = f"{predicted.shape} and {truth.shape}"
        raise ColorlibError(f"hue agreement needs two uint8 RGB arrays (..., 3) of one shape, got {shapes}")
    p, t = rgb2lab(predicted.reshape(-1, *predicted.shape[-3:])), rgb2lab(truth.reshape(-1, *truth.shape[-3:]))
    chroma_p, chroma_t = np.hypot(p[..., 1], p[..., 2]), np.hypot(t[..., 1], t[..., 2])
    gap = np.abs(np.arctan2(p[..., 2], p[..., 1]) - np.arctan2(t[..., 2], t[..., 1]))
    gap = np.degrees(np.minimum(gap, 2 * np.pi - gap))  # the shorter way round the circle
    coloured = chroma_t > HUE_TRUTH_CHROMA
    agree = coloured & (chroma_p > HUE_MIN_CHROMA) & (gap <= HUE_TOLERANCE)
    return agree.sum(axis=(1, 2)), coloured.sum(axis=(1, 2))


def hue_agreement(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Among the truth's clearly coloured pixels (CIELAB C*ab > 20), the share where the prediction has a
    hue (C*ab > 10) within 45° of the truth's h_ab, pooled over all pictures. The grey picture scores 0.
    """
    agree, coloured = hue_agreement_counts(predicted, truth)
    if coloured.sum() == 0:
        raise ColorlibError("no pixel of the originals has CIELAB chroma above 20: hue agreement is undefined")
    return float(agree.sum() / coloured.sum())


def per_image_scores(predicted: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    """PSNR (dB), SSIM, mean CIEDE2000 ΔE and colourfulness of each uint8 RGB picture N×H×W×3 against the originals.

    A picture reproduced exactly has infinite PSNR. SSIM is scikit-image's `structural_similarity`
    as it is by default: a uniform 7×7 window (odd and smaller for pictures under 7 pixels a side),
    each RGB channel's SSIM averaged, data range 255 — not Wang et al.'s Gaussian window (σ = 1.5)
    on luminance. Pictures with a side under 3 have no SSIM (no window fits): NaN.
    """
    from skimage.metrics import structural_similarity

    predicted, truth = np.asarray(predicted), np.asarray(truth)
    if predicted.shape != truth.shape or predicted.dtype != np.uint8 or truth.dtype != np.uint8 or predicted.ndim != 4:
        raise ColorlibError(f"image scores need two uint8 N×H×W×3 arrays of one shape, got {predicted.shape} and {truth.shape}")
    mse = ((predicted.astype(np.float64) - truth) ** 2).mean(axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        psnr = 10 * np.log10(255.0**2 / mse)
    side = min(truth.shape[1:3])
    win = min(7, side if side % 2 else side - 1)  # SSIM's window is odd and fits the picture
    ssim = np.array(
        [
            structural_similarity(t, p, data_range=255, channel_axis=-1, win_size=win)
            for p, t in zip(predicted, truth, strict=True)
        ]
        if win >= 3
        else [np.nan] * len(truth)
    )
    delta_e = delta_e_per_image(predicted, truth)
    return {"psnr": psnr, "ssim": ssim, "delta_e": delta_e, "colourfulness": colourfulness_per_image(predicted)}


def image_scores(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float | bool]:
    """PSNR (dB), SSIM and mean CIEDE2000 ΔE of uint8 RGB pictures N×H×W×3, each the mean over pictures.

    PSNR is the per-picture mean, as colourisation papers report it. Where some picture is reproduced
    exactly (infinite PSNR: the grey baseline on a picture that is already grey) the PSNR over all
    pixels pooled is given instead, and `psnr_pooled` is True. SSIM is None for pictures with a side
    under 3, where it is undefined (see `per_image_scores`), so no mean is NaN.
    """
    each = per_image_scores(predicted, truth)
    pooled = not np.isfinite(each["psnr"]).all()
    if pooled:
        with np.errstate(divide="ignore"):
            psnr = 10 * np.log10(255.0**2 / ((np.asarray(predicted, np.float64) - truth) ** 2).mean())
    else:
        psnr = each["psnr"].mean()
    ssim = each["ssim"][np.isfinite(each["ssim"])]  # one shape: every picture has an SSIM, or none has
    return {
        "psnr": float(psnr),
        "psnr_pooled": bool(pooled),
        "ssim": float(ssim.mean()) if ssim.size else None,
        "delta_e": float(each["delta_e"].mean()),
    }


def score(
    model: nn.Module,
    palette: Palette,
    images: np.ndarray,
    decoding: str = "argmax",
    temperature: float = TEMPERATURE,
    keep_luma: bool = False,
    batch_size: int = 100,
    per_image: bool = False,
) -> dict:
    """Every measure of `model` colourising uint8 RGB `images` (N×H×W×3, sides divisible by 4).

    Accuracies compare the decoded picture snapped back to the palette with the palette truth,
    so every decoding is judged alike; cross-entropy is of the logits. A regression model has
    neither (None). `keep_luma=True` keeps each input's own lightness (`data.with_luma`).
    `per_image=True` adds "per_image": each picture's cross-entropy, PSNR, SSIM, ΔE2000 and
    colourfulness as arrays (for paired comparisons such as `difference`).
    """
    data = ColorData.from_images(images, palette)
    predicted, ce = colourise(model, palette, data, decoding, temperature, keep_luma, batch_size)
    result = {
        "cross_entropy": None if ce is None else float(ce.mean()),
        **_picture_scores(predicted, data, palette, accuracies=ce is not None),
    }
    if per_image:
        result["per_image"] = {"cross_entropy": ce, **per_image_scores(predicted, data.images)}
    return result


def colourise_images(model: nn.Module, palette: Palette, images: np.ndarray, **how) -> np.ndarray:
    """`model`'s colourisation of uint8 RGB `images` N×H×W×3, decoded as `score` decodes it (`how`: its
    decoding, temperature, keep_luma and batch_size)."""
    return colourise(model, palette, ColorData.from_images(images, palette), **how)[0]


def _picture_scores(predicted: np.ndarray, data: ColorData, palette: Palette, accuracies: bool = True) -> dict:
    # A picture snapped back to an ab palette need not give back its bin (the chroma shown depends on the
    # lightness, clipped to sRGB), so chroma bins have no picture accuracies: the run's history has the bins'.
    accuracies = accuracies and palette.space != "ab"
    indices = palette.quantize(predicted) if accuracies else None
    return {
        "pixel_accuracy": (torch.from_numpy(indices) == data.targets).double().mean().item() if accuracies else None,
        "balanced_accuracy": balanced_accuracy(indices, data.targets, palette.num_colors) if accuracies else None,
        **image_scores(predicted, data.images),
        "colourfulness": colourfulness(predicted),
        "colourfulness_truth": colourfulness(data.images),
        "images": len(data),
    }


def best_palette_colours(images: np.ndarray, palette: Palette, keep_luma: bool = False) -> np.ndarray:
    """Per pixel, the palette colour with the lowest CIEDE2000 ΔE against the truth (first index on ties).

    With `keep_luma=True` each palette colour is first put on the pixel's own lightness (`with_luma`),
    as a model scored with keep_luma is; an ab palette's bins are always decoded on it (`under_lightness`).
    The mean ΔE2000 of this picture is the lowest any palette classifier decoded by argmax can reach (no
    ceiling for PSNR or SSIM, nor for the annealed mean, whose colours leave the palette). Solved once per
    distinct colour of `images`.
    """
    from skimage.color import deltaE_ciede2000, rgb2lab

    rgb = np.ascontiguousarray(images)
    if rgb.dtype != np.uint8 or rgb.shape[-1:] != (3,):
        raise ColorlibError(f"best_palette_colours needs uint8 RGB (..., 3), got {rgb.dtype} {rgb.shape}")
    distinct, inverse = np.unique(_rgb_keys(rgb), return_inverse=True)
    colours = _keys_to_rgb(distinct)
    truth_lab = rgb2lab(colours[:, None, :])[:, 0]  # M×3
    if palette.space == "ab":  # chroma bins exist only on a lightness: every bin decoded on every level
        keep_luma = True
        levels = np.arange(256) / 255
        on_luma = np.stack([under_lightness(np.broadcast_to(p, (256, 2)), levels) for p in palette.points])
        candidates_lab = rgb2lab(on_luma.reshape(-1, 1, 3)).reshape(len(palette.colors), 256, 3)
        column = luma(colours)
    elif keep_luma:  # every palette colour on every lightness 0..255: K×256 candidates
        lumas = np.arange(256, dtype=np.uint8)
        greys = np.repeat(lumas[:, None], 3, -1)
        on_luma = np.stack([with_luma(np.broadcast_to(c, (256, 3)).copy(), greys) for c in palette.colors])  # K×256×3
        candidates_lab = rgb2lab(on_luma.reshape(-1, 1, 3)).reshape(len(palette.colors), 256, 3)
        column = luma(colours)  # each distinct colour's own lightness picks its candidates
    else:
        on_luma, candidates_lab, column = None, rgb2lab(palette.colors[:, None, :])[:, 0], None
    best = np.empty(len(colours), np.int64)
    for i in range(0, len(colours), 1 << 15):  # bounded memory: 32,768 colours × K at a time
        part = slice(i, i + (1 << 15))
        cand = candidates_lab[:, column[part]] if keep_luma else candidates_lab[:, None, :]  # K×m×3 (or K×1×3)
        cand = np.broadcast_to(cand, (len(palette.colors), len(truth_lab[part]), 3))
        delta = deltaE_ciede2000(np.broadcast_to(truth_lab[part], cand.shape), cand)  # K×m
        best[part] = delta.argmin(0)
    chosen = on_luma[best, column] if keep_luma else palette.colors[best]
    return chosen[inverse].reshape(rgb.shape)


REFERENCE_ROWS = (
    "grey baseline",
    "palette truth",
    "palette truth + input luma",
    "best palette colour",
    "best palette colour + input luma",
)


def reference_scores(images: np.ndarray, palette: Palette, per_image: bool = False) -> dict[str, dict]:
    """The rows every results table needs (REFERENCE_ROWS): the grey input as the answer; the palette
    truth (the truth snapped to the palette: what a classifier learns to predict); the best palette
    colour per pixel by ΔE2000 (`best_palette_colours`: the ΔE2000 ceiling of argmax decoding); the
    last two also on the input's own lightness (the ceiling for models scored with `keep_luma`)."""
    data = ColorData.from_images(images, palette)
    snapped = palette.saturate(data.images)
    pictures = {
        "grey baseline": grey_rgb(data.images),
        "palette truth": snapped,
        "palette truth + input luma": with_luma(snapped, data.images),
        "best palette colour": best_palette_colours(data.images, palette),
        "best palette colour + input luma": best_palette_colours(data.images, palette, keep_luma=True),
    }
    rows = {}
    for name, predicted in pictures.items():
        rows[name] = {"cross_entropy": None, **_picture_scores(predicted, data, palette)}
        if per_image:
            rows[name]["per_image"] = {"cross_entropy": None, **per_image_scores(predicted, data.images)}
    return rows


def compare(
    models: Mapping[str, tuple[nn.Module, Palette]],
    images: np.ndarray,
    decodings: Mapping[str, Mapping] | None = None,
    references: Mapping[str, Palette] | None = None,
) -> dict[str, dict[str, float | int | None]]:
    """Rows of a results table: the grey baseline and each reference palette's rows (`reference_scores`),
    then every model under every decoding (name → keyword arguments of `score`, e.g. {"decoding": "annealed-mean"}).
    """
    rows: dict[str, dict[str, float | int | None]] = {}
    for i, (name, palette) in enumerate((references or {}).items()):
        refs = reference_scores(images, palette)
        if i == 0:  # the grey picture is the same whatever the palette; only its accuracies use one
            rows["grey baseline"] = refs["grey baseline"]
        for row in REFERENCE_ROWS[1:]:  # "palette truth (horse32) + input luma", ...
            base, _, luma_part = row.partition(" + ")
            rows[f"{base} ({name})" + (f" + {luma_part}" if luma_part else "")] = refs[row]
    for name, (model, palette) in models.items():
        for how, kwargs in (decodings or {"argmax": {}}).items():
            rows[f"{name}, {how}"] = score(model, palette, images, **kwargs)
    return rows


def cross_class_matrix(
    models: Mapping[str, tuple[nn.Module, Palette]],
    images: Mapping[str, np.ndarray],
    metric: str = "cross_entropy",
) -> np.ndarray:
    """`metric` of every model (rows) on every class's images (columns): who generalises to what."""
    if metric not in ("cross_entropy", "pixel_accuracy"):
        raise ColorlibError(f"cross_class_matrix measures cross_entropy or pixel_accuracy, not {metric!r}")
    out = np.empty((len(models), len(images)))
    prepared: dict[tuple, ColorData] = {}  # models sharing a palette share its targets: quantise each class once
    for i, (model, palette) in enumerate(models.values()):
        if objective(model) == "regress":
            raise ColorlibError("cross_class_matrix compares classifiers; a regression model has no cross-entropy")
        for j, (name, pictures) in enumerate(images.items()):
            key = (palette.space, palette.colors.tobytes(), name)
            if key not in prepared:
                prepared[key] = ColorData.from_images(pictures, palette)
            data = prepared[key]
            out[i, j] = evaluate(model, data.grey, data.targets)[metric]
    return out


COLUMNS = {
    "cross_entropy": "CE",
    "pixel_accuracy": "pixel acc",
    "balanced_accuracy": "balanced acc",
    "psnr": "PSNR",
    "ssim": "SSIM",
    "delta_e": "ΔE2000",
    "colourfulness": "colourfulness",
    "colourfulness_truth": "(truth)",
}


def _cell(row: Mapping, key: str, digits: int) -> str:
    if row.get(key) is None:
        return "—"
    return f"{row[key]:.{digits}f}" + ("*" if key == "psnr" and row.get("psnr_pooled") else "")


def format_table(rows: Mapping[str, Mapping[str, float | int | None]], markdown: bool = False, digits: int = 3) -> str:
    """Score rows (name → `score` result) as an aligned text table, or a Markdown one.

    "—" marks a measure that does not apply (a regression model's cross-entropy); a PSNR with "*"
    is pooled over all pixels (see `image_scores`).
    """
    cells = [[name] + [_cell(row, k, digits) for k in COLUMNS] for name, row in rows.items()]
    header = ["", *COLUMNS.values()]
    note = (
        ["* PSNR pooled over all pixels: some picture is reproduced exactly"]
        if any(r.get("psnr_pooled") for r in rows.values())
        else []
    )
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in cells] + (["", *note] if note else []))
    widths = [max(len(r[i]) for r in [header, *cells]) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))  # noqa: E731
    return "\n".join([fmt(r) for r in [header, *cells]] + note)


def difference(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> dict[str, float]:
    """The mean difference a − b of two models on the same N pictures, with a `level` t-interval and its p-value.

    `a` and `b` are S_a×N and S_b×N per-picture values, one row per training seed (one row: a single
    run, or a deterministic reference such as the grey picture). The variance of the difference adds
    the pictures' (of the per-picture difference of seed means, N − 1 degrees of freedom) and each
    model's seeds' (of its seed means, S − 1 degrees of freedom); Welch–Satterthwaite gives the
    degrees of freedom of the sum. So few seeds widen the interval as they should (resampling three
    seeds does not), and one row of each is the paired t-interval, valid at small N where a bootstrap
    is too narrow. With one seed per model the seeds' variation is not in the interval: it holds for
    these runs only. tests/test_metrics.py checks the coverage by simulation.
    """
    from scipy import stats

    a, b = np.atleast_2d(np.asarray(a, np.float64)), np.atleast_2d(np.asarray(b, np.float64))
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ColorlibError(f"difference needs S×N values on the same N pictures, got shapes {a.shape} and {b.shape}")
    n = a.shape[1]
    if n < 2 or not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ColorlibError(
            f"difference needs finite values on at least 2 pictures, got {n} (and finite: "
            f"{bool(np.isfinite(a).all() and np.isfinite(b).all())})"
        )
    per_picture = a.mean(0) - b.mean(0)
    parts = [(per_picture.var(ddof=1) / n, n - 1)]  # (variance of the mean, degrees of freedom)
    parts += [(m.mean(1).var(ddof=1) / len(m), len(m) - 1) for m in (a, b) if len(m) > 1]
    variance = sum(v for v, _ in parts)
    diff = float(per_picture.mean())
    if variance == 0:  # identical pictures: no uncertainty at all
        return {"difference": diff, "low": diff, "high": diff, "p": 1.0 if diff == 0 else 0.0, "df": math.inf}
    df = variance**2 / sum(v**2 / d for v, d in parts if v > 0)
    half = stats.t.ppf(0.5 + level / 2, df) * math.sqrt(variance)
    p = 2 * stats.t.sf(abs(diff) / math.sqrt(variance), df)
    return {"difference": diff, "low": diff - half, "high": diff + half, "p": float(p), "df": float(df)}


def false_discovery(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini–Hochberg q-values of p-values read together (scipy): a difference is called significant where q < 0.05,
    so that among the differences called significant, about 5% or fewer are expected to be noise."""
    from scipy import stats

    return stats.false_discovery_control(np.asarray(p_values, np.float64))


def colour_distance(counts: np.ndarray) -> np.ndarray:
    """C×C total-variation distances between the colour shares of the rows of `counts` (C×K, one row per class):
    the share of pixels that must change colour to turn one row's colours into another's, 0 to 1."""
    share = np.asarray(counts, np.float64)
    share = share / share.sum(axis=1, keepdims=True)
    return 0.5 * np.abs(share[:, None] - share[None]).sum(axis=-1)

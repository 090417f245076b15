"""How good a colourisation is: over palette indices (cross-entropy, pixel and balanced accuracy)
and over the pictures themselves (PSNR, SSIM, CIEDE2000, colourfulness), with two reference rows:
the grey input (no colour at all) and the palette oracle (the best any palette classifier can do).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import ColorData, grey_rgb, with_luma
from .errors import ColorlibError
from .palette import TEMPERATURE, Palette, check_decoding


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Mean cross-entropy over every pixel (logits N×K×H×W, targets N×H×W)."""
    return F.cross_entropy(logits.float(), targets.long()).item()


def pixel_accuracy(predicted: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of pixels whose predicted palette index (N×H×W, or logits N×K×H×W) is right."""
    if predicted.dim() == targets.dim() + 1:
        predicted = predicted.argmax(1)
    return (predicted == targets.to(predicted.device)).float().mean().item()


def _logits(model: nn.Module, grey: torch.Tensor, batch_size: int, device: torch.device):
    """(start index, float logits) batch by batch, with `model` in eval mode and restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for i in range(0, len(grey), batch_size):
                yield i, model(grey[i : i + batch_size].to(device)).float()
    finally:
        model.train(was_training)


def evaluate(
    model: nn.Module,
    grey: torch.Tensor,
    targets: torch.Tensor,
    batch_size: int = 100,  # small batches stay in cache: faster than large ones on CPUs
    device: torch.device | str | None = None,
) -> dict[str, float | int]:
    """Cross-entropy and pixel accuracy of `model` (in eval mode) over all pixels of all images."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    ce_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    for i, logits in _logits(model, grey, batch_size, device):
        y = targets[i : i + batch_size].to(device).long()
        flat = logits.permute(0, 2, 3, 1).reshape(-1, logits.shape[1])  # N·H·W × K: no copy if channels_last
        ce_sum += F.cross_entropy(flat, y.reshape(-1), reduction="sum").double()
        correct += (flat.argmax(1) == y.reshape(-1)).sum()
    pixels = targets.numel()
    return {
        "cross_entropy": ce_sum.item() / pixels,
        "pixel_accuracy": correct.item() / pixels,
        "images": len(grey),
    }


def predict(model: nn.Module, grey: torch.Tensor, batch_size: int = 100) -> torch.Tensor:
    """Most likely palette index per pixel (uint8, on the CPU) for grey images N×1×H×W."""
    device = next(model.parameters()).device
    return torch.cat([logits.argmax(1).to(torch.uint8).cpu() for _, logits in _logits(model, grey, batch_size, device)])


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


def colourfulness(images: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003) colourfulness of uint8 RGB images (..., H, W, 3), averaged over images.

    rg = R − G, yb = (R + G)/2 − B, M = √(σ_rg² + σ_yb²) + 0.3·√(μ_rg² + μ_yb²); grey pictures score 0.
    """
    x = np.asarray(images, dtype=np.float64).reshape(-1, *np.shape(images)[-3:])
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    sigma = np.sqrt(rg.var(axis=(1, 2)) + yb.var(axis=(1, 2)))
    mu = np.sqrt(rg.mean(axis=(1, 2)) ** 2 + yb.mean(axis=(1, 2)) ** 2)
    return float((sigma + 0.3 * mu).mean())


def image_scores(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """PSNR (dB), SSIM and mean CIEDE2000 ΔE of uint8 RGB pictures N×H×W×3 against the originals.

    PSNR is over all pixels together (a picture that is already grey would give a grey prediction
    infinite PSNR on its own); SSIM is per picture over the colour channels, then averaged.
    """
    from skimage.color import deltaE_ciede2000, rgb2lab
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    predicted, truth = np.asarray(predicted), np.asarray(truth)
    if predicted.shape != truth.shape or predicted.dtype != np.uint8 or truth.dtype != np.uint8 or predicted.ndim != 4:
        raise ColorlibError(f"image_scores needs two uint8 N×H×W×3 arrays of one shape, got {predicted.shape} and {truth.shape}")
    with np.errstate(divide="ignore"):  # identical sets have infinite PSNR
        psnr = peak_signal_noise_ratio(truth, predicted, data_range=255)
    side = min(truth.shape[1:3])
    win = min(7, side if side % 2 else side - 1)  # SSIM's window is odd and fits the picture
    ssim = [structural_similarity(t, p, data_range=255, channel_axis=-1, win_size=win)
            for p, t in zip(predicted, truth, strict=True)] if win >= 3 else [np.nan]  # fmt: skip
    delta_e = deltaE_ciede2000(rgb2lab(truth), rgb2lab(predicted))
    return {"psnr": float(psnr), "ssim": float(np.mean(ssim)), "delta_e": float(delta_e.mean())}


def score(
    model: nn.Module,
    palette: Palette,
    images: np.ndarray,
    decoding: str = "argmax",
    temperature: float = TEMPERATURE,
    keep_luma: bool = False,
    batch_size: int = 100,
) -> dict[str, float | int | None]:
    """Every measure of `model` colourising uint8 RGB `images` (N×H×W×3, sides divisible by 4).

    Accuracies compare the decoded picture snapped back to the palette with the palette truth,
    so every decoding is judged alike; cross-entropy is of the logits. `keep_luma=True` keeps each
    input's own lightness (`data.with_luma`).
    """
    check_decoding(decoding, temperature)
    data = ColorData.from_images(images, palette)
    device = next(model.parameters()).device
    ce_sum, decoded = 0.0, []
    for i, logits in _logits(model, data.grey, batch_size, device):
        y = data.targets[i : i + batch_size].to(device).long()
        ce_sum += F.cross_entropy(logits, y, reduction="sum").item()
        decoded.append(palette.decode_logits(logits.permute(0, 2, 3, 1), decoding, temperature))
    predicted = np.concatenate(decoded)
    if keep_luma:
        predicted = with_luma(predicted, data.images)
    return {"cross_entropy": ce_sum / data.targets.numel(), **_picture_scores(predicted, data, palette)}


def _picture_scores(predicted: np.ndarray, data: ColorData, palette: Palette) -> dict[str, float | int]:
    indices = palette.quantize(predicted)
    return {
        "pixel_accuracy": (torch.from_numpy(indices) == data.targets).double().mean().item(),
        "balanced_accuracy": balanced_accuracy(indices, data.targets, palette.num_colors),
        **image_scores(predicted, data.images),
        "colourfulness": colourfulness(predicted),
        "colourfulness_truth": colourfulness(data.images),
        "images": len(data),
    }


def reference_scores(images: np.ndarray, palette: Palette) -> dict[str, dict[str, float | int | None]]:
    """The two rows every results table needs: the grey input as the answer, and the palette oracle."""
    data = ColorData.from_images(images, palette)
    return {
        "grey baseline": {"cross_entropy": None, **_picture_scores(grey_rgb(data.images), data, palette)},
        "palette oracle": {"cross_entropy": None, **_picture_scores(palette.saturate(data.images), data, palette)},
    }


def compare(
    models: Mapping[str, tuple[nn.Module, Palette]],
    images: np.ndarray,
    decodings: Mapping[str, Mapping] | None = None,
    references: Mapping[str, Palette] | None = None,
) -> dict[str, dict[str, float | int | None]]:
    """Rows of a results table: the grey baseline and each reference palette's oracle, then every
    model under every decoding (name → keyword arguments of `score`, e.g. {"decoding": "annealed-mean"}).
    """
    rows: dict[str, dict[str, float | int | None]] = {}
    for i, (name, palette) in enumerate((references or {}).items()):
        refs = reference_scores(images, palette)
        if i == 0:  # the grey picture is the same whatever the palette; only its accuracies use one
            rows["grey baseline"] = refs["grey baseline"]
        rows[f"palette oracle ({name})"] = refs["palette oracle"]
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
        for j, (name, pictures) in enumerate(images.items()):
            key = (palette.space, palette.colors.tobytes(), name)
            if key not in prepared:
                prepared[key] = ColorData.from_images(pictures, palette)
            data = prepared[key]
            out[i, j] = evaluate(model, data.grey, data.targets)[metric]
    return out


COLUMNS = {"cross_entropy": "CE", "pixel_accuracy": "pixel acc", "balanced_accuracy": "balanced acc", "psnr": "PSNR",
           "ssim": "SSIM", "delta_e": "ΔE2000", "colourfulness": "colourfulness", "colourfulness_truth": "(truth)"}  # fmt: skip


def format_table(rows: Mapping[str, Mapping[str, float | int | None]], markdown: bool = False, digits: int = 3) -> str:
    """Score rows (name → `score` result) as an aligned text table, or a Markdown one."""
    cells = [[name] + ["—" if row.get(k) is None else f"{row[k]:.{digits}f}" for k in COLUMNS] for name, row in rows.items()]
    header = ["", *COLUMNS.values()]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in cells])
    widths = [max(len(r[i]) for r in [header, *cells]) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))  # noqa: E731
    return "\n".join(fmt(r) for r in [header, *cells])

"""How good a colourisation is: per-pixel cross-entropy and pixel accuracy over palette indices."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .palette import Palette


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Mean cross-entropy over every pixel (logits N×K×H×W, targets N×H×W)."""
    return F.cross_entropy(logits.float(), targets.long()).item()


def pixel_accuracy(predicted: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of pixels whose predicted palette index (N×H×W, or logits N×K×H×W) is right."""
    if predicted.dim() == targets.dim() + 1:
        predicted = predicted.argmax(1)
    return (predicted == targets.to(predicted.device)).float().mean().item()


@torch.no_grad()
def evaluate(
    model: nn.Module,
    grey: torch.Tensor,
    targets: torch.Tensor,
    batch_size: int = 100,  # small batches stay in cache: faster than large ones on CPUs
    device: torch.device | str | None = None,
) -> dict[str, float | int]:
    """Cross-entropy and pixel accuracy of `model` (in eval mode) over all pixels of all images."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    ce_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    for i in range(0, len(grey), batch_size):
        x = grey[i : i + batch_size].to(device)
        y = targets[i : i + batch_size].to(device).long()
        logits = model(x).float()
        flat = logits.permute(0, 2, 3, 1).reshape(-1, logits.shape[1])  # N·H·W × K: no copy if channels_last
        ce_sum += F.cross_entropy(flat, y.reshape(-1), reduction="sum").double()
        correct += (flat.argmax(1) == y.reshape(-1)).sum()
    model.train(was_training)
    pixels = targets.numel()
    return {
        "cross_entropy": ce_sum.item() / pixels,
        "pixel_accuracy": correct.item() / pixels,
        "images": len(grey),
    }


@torch.no_grad()
def predict(model: nn.Module, grey: torch.Tensor, batch_size: int = 100) -> torch.Tensor:
    """Most likely palette index per pixel (uint8, on the CPU) for grey images N×1×H×W."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = [model(grey[i : i + batch_size].to(device)).argmax(1).to(torch.uint8).cpu()
           for i in range(0, len(grey), batch_size)]  # fmt: skip
    model.train(was_training)
    return torch.cat(out)


def quantization_error(images: np.ndarray, palette: Palette) -> float:
    """Mean Euclidean RGB distance (0–255 scale) between each pixel and its palette colour."""
    saturated = palette.saturate(images).astype(np.float32)
    return float(np.sqrt(((images.astype(np.float32) - saturated) ** 2).sum(-1)).mean())

"""Running a network over grey images: batch by batch, in eval mode, without gradients, decoded to
colour. metrics, colorize and the widgets (through colorize) all run models here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import ColorData
from .models import eval_mode
from .palette import TEMPERATURE, Palette, check_decoding, decode_output
from .pixels import with_luma


def objective(model: nn.Module) -> str:
    """What `model`'s output means: "classify" (logits over a palette), "chroma" (over an ab palette's
    chroma bins) or "regress" (RGB in [0, 1])."""
    return getattr(getattr(model, "config", None), "objective", "classify")


def outputs(
    model: nn.Module,
    grey: torch.Tensor,
    batch_size: int = 100,
    device: torch.device | None = None,
    exact: bool = True,
    amp: torch.dtype | None = None,
) -> Iterator[tuple[int, torch.Tensor]]:
    """(start index, float output) batch by batch, with `model` in eval mode and restored afterwards.

    `exact` on a CPU runs a float64 copy of the model: fp32 convolutions round differently in AVX2, AVX-512
    and AMX kernels, so a score's last digits would depend on the CPU; in float64 they do not. It costs
    about 10% in `metrics.score`, where the picture measures dominate, and about 2× in `evaluate` alone.
    GPUs, training's validation and colorize (`exact=False`) run the model as it is, under autocast to
    `amp` if given.
    """
    device = device if device is not None else next(model.parameters()).device
    if exact and device.type == "cpu":
        model, grey = copy.deepcopy(model).double(), grey.double()
    with eval_mode(model), torch.no_grad(), torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None):
        for i in range(0, len(grey), batch_size):
            yield i, model(grey[i : i + batch_size].to(device)).float()


def predict(model: nn.Module, grey: torch.Tensor, batch_size: int = 100, exact: bool = True) -> torch.Tensor:
    """For grey images N×1×H×W, on the CPU: the most likely palette index per pixel (uint8 N×H×W),
    or for a regression model its colour (uint8 RGB N×H×W×3). `exact` as for `outputs`."""
    regress = objective(model) == "regress"
    if len(grey) == 0:  # no pictures (a run that keeps no snapshots): an empty answer of the right shape
        return torch.empty((0, *grey.shape[2:], *((3,) if regress else ())), dtype=torch.uint8)
    batches = outputs(model, grey, batch_size, exact=exact)
    if regress:
        return torch.cat([torch.from_numpy(decode_output(out.permute(0, 2, 3, 1), "regress")) for _, out in batches])
    return torch.cat([out.argmax(1).to(torch.uint8).cpu() for _, out in batches])


def colourise(
    model: nn.Module,
    palette: Palette,
    data: ColorData,
    decoding: str = "argmax",
    temperature: float = TEMPERATURE,
    keep_luma: bool = False,
    batch_size: int = 100,
) -> tuple[np.ndarray, np.ndarray | None]:
    """(decoded pictures, each picture's mean cross-entropy, or None for a regression model)."""
    check_decoding(decoding, temperature)
    regress = objective(model) == "regress"
    ce, decoded = [], []
    for i, out in outputs(model, data.grey, batch_size):
        if not regress:
            y = data.targets[i : i + batch_size].to(out.device).long()
            ce.append(F.cross_entropy(out, y, reduction="none").double().mean((1, 2)).cpu().numpy())
        grey = data.grey[i : i + batch_size, 0]  # an ab palette's chroma goes under it
        decoded.append(decode_output(out.permute(0, 2, 3, 1), objective(model), palette, decoding, temperature, grey))
    predicted = np.concatenate(decoded)
    if keep_luma:
        predicted = with_luma(predicted, data.images)
    return predicted, None if regress else np.concatenate(ce)

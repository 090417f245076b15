"""Pixel colour arithmetic on uint8 RGB, written once: BT.601 luma, the grey input, a colour put on
another picture's lightness (`with_luma`, `round_to_luma`), and colour values in [0, 1] back to uint8 RGB.

Everything that makes a grey picture or keeps a lightness calls these (the browser's colouriser
re-implements `luma` and `with_luma`; tests/test_site.py keeps it equal).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import DataError

if TYPE_CHECKING:  # torch loads only for a model's output
    import torch

# ITU-R BT.601 luma in 16-bit fixed point, exactly as Pillow's convert("L") computes it.
LUMA_WEIGHTS = np.array([19595, 38470, 7471], np.uint32)


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of uint8 RGB (..., 3) as float32 (...) in [0, 1]; equals Pillow's "L" / 255."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise DataError(f"to_grey expects uint8 RGB with a last axis of 3, got {rgb.dtype} {rgb.shape}")
    luma = (rgb.astype(np.uint32) @ LUMA_WEIGHTS + 0x8000) >> 16
    return luma.astype(np.float32) / np.float32(255)


def grey_rgb(rgb: np.ndarray) -> np.ndarray:
    """The model's grey input as uint8 RGB (R = G = B = luma): the "no colour" picture."""
    return np.repeat(np.rint(to_grey(rgb) * 255).astype(np.uint8)[..., None], 3, axis=-1)


def luma(rgb: np.ndarray) -> np.ndarray:
    """Exact BT.601 luma of uint8 RGB (..., 3) as integers 0..255 (uint8): Pillow's convert("L")."""
    return ((np.asarray(rgb).astype(np.uint32) @ LUMA_WEIGHTS + 0x8000) >> 16).astype(np.uint8)


def with_luma(colour: np.ndarray, source: np.ndarray) -> np.ndarray:
    """`colour`'s chroma on `source`'s lightness: uint8 RGB whose luma (`luma`, Pillow's "L") is the source's, exactly.

    Zhang et al. keep the input's lightness and predict only colour. Each pixel becomes its own
    luma Y plus its offset from its own grey, paled only as far as 0..255 needs and rounded onto Y
    exactly (`round_to_luma`); a pixel already at Y is kept as it is.
    """
    colour, source = np.asarray(colour), np.asarray(source)
    if colour.shape != source.shape or colour.dtype != np.uint8 or source.dtype != np.uint8 or colour.shape[-1:] != (3,):
        raise DataError(f"with_luma needs two uint8 RGB arrays of one shape, got {colour.shape} and {source.shape}")
    out = np.empty(colour.shape, np.uint8)
    flat_out, flat_c, flat_s = out.reshape(-1, 3), colour.reshape(-1, 3), source.reshape(-1, 3)
    for i in range(0, len(flat_c), 1 << 20):  # bounded memory on large photos
        c, y = flat_c[i : i + (1 << 20)], luma(flat_s[i : i + (1 << 20)])
        f = c.astype(np.float32)
        offset = f - (f @ (LUMA_WEIGHTS.astype(np.float32) / 65536))[:, None]  # from its own grey: luma 0 (weights sum to 1)
        settled = _onto_luma(y, offset)
        same = luma(c) == y
        settled[same] = c[same]  # the colour already has this lightness: keep it as it is
        flat_out[i : i + (1 << 20)] = settled
    return out


def round_to_luma(target: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Float RGB `target` (S×3, inside 0..255, its luma `y` up to rounding) as uint8 RGB whose luma is exactly `y`
    (uint8, shape S): each pixel rounded to the nearest of its 8 roundings down or up that has that luma."""
    target, y = np.asarray(target), np.asarray(y)
    if y.dtype != np.uint8 or target.shape != (*y.shape, 3):
        raise DataError(
            f"round_to_luma needs a float RGB target of shape {(*y.shape, 3)} (got {target.shape}) and y as uint8 "
            f"luma (got {y.dtype} {y.shape}): target = y + s·offset, y = luma(images)"
        )
    flat = np.clip(target.reshape(-1, 3).astype(np.float32), 0, 255)
    return _round_to_luma(flat, y.reshape(-1)).reshape(target.shape)


# The 8 ways to round a colour down or up per channel; one of them always has the exact luma.
_CORNERS = np.array([[(k >> 2) & 1, (k >> 1) & 1, k & 1] for k in range(8)], np.int64)


def _onto_luma(y: np.ndarray, chroma: np.ndarray) -> np.ndarray:
    """M uint8 lumas plus M×3 float32 offsets from grey (luma 0) as M×3 uint8 colours of exactly those lumas: each
    offset paled toward grey (hue kept) only as far as 0..255 needs, then rounded (`round_to_luma`)."""
    yf = y.astype(np.float32)[:, None]
    s = np.minimum(1.0, _room(yf, chroma))
    return _round_to_luma(np.clip(yf + s * chroma, 0, 255), y)


def _room(yf: np.ndarray, chroma: np.ndarray) -> np.ndarray:
    """Each pixel's largest scale of `chroma` (…×3) that keeps yf + scale·chroma inside 0..255 (…×1; inf at grey)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(chroma > 0, (255 - yf) / chroma, np.where(chroma < 0, -yf / chroma, np.inf)).min(-1, keepdims=True)


def _round_to_luma(target: np.ndarray, y: np.ndarray) -> np.ndarray:
    """M×3 float32 targets in 0..255 and M uint8 lumas as M×3 uint8 colours of exactly those lumas."""
    out = np.rint(target).astype(np.uint8)
    off = np.flatnonzero(luma(out) != y)  # plain rounding missed Y by one: search the 8 roundings
    if off.size:
        t = target[off]
        cands = np.minimum(np.floor(t).astype(np.int64)[:, None, :] + _CORNERS[None], 255)  # m×8×3
        exact = ((cands.astype(np.uint32) @ LUMA_WEIGHTS + 0x8000) >> 16) == y[off, None]
        dist = np.where(exact, ((cands - t[:, None, :]) ** 2).sum(-1), np.inf)
        out[off] = cands[np.arange(off.size), dist.argmin(axis=1)]
    return out


def rgb_from_unit(values: torch.Tensor) -> np.ndarray:
    """uint8 RGB (..., 3) from colour values in [0, 1] (a regression head's output), clipped to range."""
    import torch

    return (values.float().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()

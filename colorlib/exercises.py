"""Checks for the notebooks' exercises: each runs your answer against colorlib's own code and says
whether it is right, CS231n-style.

    from colorlib.exercises import check_cross_entropy
    check_cross_entropy(my_cross_entropy)   # prints "✓ Right: …", "✗ Not yet: …" with a hint, or "○ Your turn: …"

A check never raises and returns nothing (so a notebook shows only its verdict): an unfinished
answer (`raise NotImplementedError`) or one that crashes is reported as not right yet, so a
notebook still runs top to bottom. `progress()` lists every check's latest verdict in this kernel.
With the environment variable COLORLIB_STRICT set, a chapter stops where it would use the library's
code in place of yours (`mine_if_right` raises ExerciseError), as a CS231n pipeline does.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .data import luma
from .errors import ExerciseError
from .metrics import colourfulness_per_image, difference
from .models import SKIPS, Block, build, num_parameters
from .palette import Palette, load_palette
from .runs import Run
from .selection import (  # noqa: F401 - the rules, re-exported: chapters import them from here
    COLOUR_FLOORS,
    MIN_COLOURFULNESS,
    choose_colour,
    choose_on_photos,
    colour_feasible,
    colour_figures,
    leave_one_out,
    rule3,
    rule_figures,
)

_UNFINISHED = "the exercise is not done yet: replace `raise NotImplementedError` with your code"


_VERDICTS: dict[str, str] = {}  # check's name → the mark of its latest verdict in this kernel ("✓", "✗" or "○")


def _record(mark: str) -> None:
    """Remember `mark` for the outermost check_* of this module on the call stack (a check may call another)."""
    name, frame = None, sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name.startswith("check_") and frame.f_globals.get("__name__") == __name__:
            name = frame.f_code.co_name
        frame = frame.f_back
    if name:
        _VERDICTS[name] = mark


def _report(ok: bool, message: str) -> None:
    # An untouched scaffold is the learner's turn, not a mistake: a saved chapter read on GitHub or the site shows
    # "○ Your turn" there, and "✗" only where an attempt went wrong.
    if not ok and message == _UNFINISHED:
        return _turn(message)
    _record("✓" if ok else "✗")
    print(("✓ Right: " if ok else "✗ Not yet: ") + message)


def _turn(message: str) -> None:
    """The verdict on a scaffold still as given (a placeholder answer): what to do, not what went wrong."""
    _record("○")
    print("○ Your turn: " + message)


def progress() -> None:
    """Print the latest verdict of every exercise checked in this kernel, and how many are right."""
    if not _VERDICTS:
        print("○ No exercise has been checked in this kernel yet: run the chapter from the top")
        return
    right = sum(mark == "✓" for mark in _VERDICTS.values())
    print(f"{right} of {len(_VERDICTS)} exercise{'s' * (len(_VERDICTS) != 1)} right in this kernel")
    for name, mark in _VERDICTS.items():
        print(f"  {mark} {name.removeprefix('check_').replace('_', ' ')}")


def _attempt(fn: Callable, *args):
    """(result, None), or (None, why it failed) if `fn` is unfinished or raises."""
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, _UNFINISHED
    except Exception as e:  # noqa: BLE001 - the learner's code: any failure is reported, not raised
        return None, f"your function raised {type(e).__name__}: {e}"


def _as_numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


# -- 01 · palettes ------------------------------------------------------------------------------


def check_nearest_colour(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    """`fn(pixels M×3 uint8, colours K×3 uint8)` → the index of each pixel's nearest colour (squared RGB distance)."""
    rng = np.random.default_rng(1)
    palette = load_palette("horse16")
    extremes = np.array([[0, 0, 0], [255, 255, 255]], np.uint8)
    pixels = np.concatenate([rng.integers(0, 256, (2000, 3), dtype=np.uint8), palette.colors, extremes])
    got, error = _attempt(fn, pixels.copy(), palette.colors.copy())
    if error:
        return _report(False, error)
    got = _as_numpy(got).reshape(-1)
    expected = palette.quantize(pixels)
    if got.shape != expected.shape:
        return _report(False, f"expected one index per pixel, shape {expected.shape}; got shape {got.shape}")
    wrong = np.flatnonzero(got != expected)
    if wrong.size:
        i = wrong[0]
        hint = " (uint8 arithmetic wraps around: convert to int or float before subtracting)" if pixels[i].max() > 200 else ""
        return _report(
            False,
            f"{wrong.size} of {len(pixels)} pixels differ, e.g. {pixels[i].tolist()}: you say "
            f"{int(got[i])}, the nearest is {int(expected[i])}{hint}",
        )
    return _report(True, f"all {len(pixels)} pixels get their nearest palette colour, as Palette.quantize does")


def check_small_palette(palette: Palette, images: np.ndarray, beat: float) -> None:
    """A palette of at most 8 colours whose quantisation error on `images` is below `beat`."""
    from .metrics import quantization_error

    if not isinstance(palette, Palette):
        return _report(False, f"expected a colorlib.Palette, got {type(palette).__name__}")
    if palette.num_colors > 8:
        return _report(False, f"the palette has {palette.num_colors} colours; the exercise allows at most 8")
    error = quantization_error(images, palette)
    if {tuple(c) for c in palette.colors.tolist()} == {(r, g, b) for r in (0, 255) for g in (0, 255) for b in (0, 255)}:
        return _turn("`my_palette` is still the eight corners: fit a palette of at most 8 colours on pixels like these")
    if error >= beat:
        return _report(False, f"its error is {error:.2f}, not below {beat:.2f}: fit it on pixels like these")
    return _report(True, f"{palette.num_colors} colours, error {error:.2f} < {beat:.2f}")


def kmeans(pixels: np.ndarray, centres: np.ndarray, iterations: int = 10) -> np.ndarray:
    """Plain k-means (Lloyd's algorithm) from the given `centres`: `iterations` rounds of giving each pixel its
    nearest centre, then moving each centre to the mean of its pixels. Returns the K×3 float centres."""
    return _kmeans(pixels, centres, iterations)


def _kmeans(pixels, centres, iterations: int, pick=np.argmin, whole: bool = False, grey: bool = False) -> np.ndarray:
    """`kmeans`, or with one of the usual slips: the farthest centre (`pick=np.argmax`), centres cut to whole
    numbers before measuring (`whole`), or each mean taken over the channels too (`grey`)."""
    pixels = np.asarray(pixels, np.float64)
    centres = np.array(centres, np.float64)  # a copy: the caller's start is left alone
    for _ in range(iterations):
        measured = np.trunc(centres) if whole else centres
        nearest = pick(((pixels[:, None, :] - measured[None]) ** 2).sum(-1), axis=1)
        for k in range(len(centres)):
            if np.any(nearest == k):  # a centre no pixel chose stays put: the mean of no pixels is undefined
                centres[k] = pixels[nearest == k].mean() if grey else pixels[nearest == k].mean(0)
    return centres


def _kmeans_case() -> tuple[np.ndarray, np.ndarray]:
    """400 seeded pixels around four browns, greens and creams, and four of them as the start: six rounds
    of k-means leave the centres still moving, so every slip below gives other centres."""
    rng = np.random.default_rng(3)
    base = np.array([[60, 50, 40], [140, 110, 80], [90, 130, 60], [200, 190, 170]], float)
    pixels = np.clip(np.rint(base[rng.integers(0, 4, 400)] + rng.normal(0, 35, (400, 3))), 0, 255).astype(np.uint8)
    return pixels, pixels[:4].astype(np.float64)


def check_kmeans(fn: Callable[[np.ndarray, np.ndarray, int], np.ndarray]) -> None:
    """`fn(pixels M×3 uint8, centres K×3, iterations)` → the K×3 centres after that many rounds of k-means."""
    pixels, start = _kmeans_case()
    rounds = 6
    got, error = _attempt(fn, pixels.copy(), start.copy(), rounds)
    if error:
        if "broadcast" in error:
            error += " (a centre is the mean of its pixels over axis 0, the pixels: pixels[nearest == k].mean(axis=0))"
        return _report(False, error)
    try:
        whole = _as_numpy(got).dtype.kind in "iub"
        got = _as_numpy(got).astype(np.float64)
    except (TypeError, ValueError):
        return _report(False, f"return the centres, one K×3 array; got {type(got).__name__}")
    if got.shape != start.shape:
        hint = (
            " (that is one number per pixel: return the centres, not each pixel's nearest one)"
            if got.shape == (len(pixels),)
            else ""
        )
        return _report(False, f"return the {len(start)}×3 centres, got shape {got.shape}{hint}")
    close = lambda a, b: np.allclose(a, b, rtol=0, atol=1e-6)  # noqa: E731
    right = _kmeans(pixels, start, rounds)
    if not close(got, right):
        slips = [
            (
                start,
                "your centres never moved: after giving each pixel its nearest centre, set each centre to the mean of its pixels",
            ),
            (_kmeans(pixels, start, 1), f"you ran one round: repeat assign-then-move {rounds} times (`iterations`)"),
            (_kmeans(pixels, start, rounds - 1), f"you ran {rounds - 1} rounds for iterations={rounds}"),
            (_kmeans(pixels, start, rounds + 1), f"you ran {rounds + 1} rounds for iterations={rounds}"),
            (_kmeans(pixels, start, 10), f"you ran 10 rounds: run as many as the `iterations` argument says ({rounds} here)"),
            (
                _kmeans(pixels, start, rounds, pick=np.argmax),
                "you gave each pixel its farthest centre: take the argmin of the distances",
            ),
            (
                _kmeans(pixels, start, rounds, whole=True),
                "you measured the distances to the centres cut to whole numbers (my_nearest's int conversion does "
                "that): after the first round the centres are fractions, so measure in float",
            ),
            (
                _kmeans(pixels, start, rounds, grey=True),
                "every centre came out grey: .mean() averaged the channels too; .mean(axis=0) averages the pixels and "
                "keeps R, G and B apart",
            ),
            (
                np.broadcast_to(pixels.mean(0), start.shape),
                "every centre is the mean of all the pixels: average only the pixels nearest to that centre",
            ),
        ]
        for wrong, hint in slips:
            if close(got, wrong):
                return _report(False, hint)
        if not np.isfinite(got).all():
            return _report(False, "some of your centres are NaN or infinite, although every centre here keeps some pixels")
        if whole:
            return _report(
                False,
                "your centres are whole numbers: a mean is a fraction, and uint8 arithmetic wraps around (3 − 5 gives "
                "254), so work in float: centres = np.array(centres, dtype=float)",
            )
        gap = float(np.abs(got - right).max())
        return _report(
            False,
            f"after {rounds} rounds your centres differ from k-means' by up to {gap:.3g}: each round gives every pixel its "
            "nearest centre (argmin of the squared distance), then moves each centre to the mean of its pixels",
        )
    # A fifth centre, magenta, is nearest to no pixel: the mean of its pixels does not exist.
    far = np.vstack([start, [255.0, 0.0, 255.0]])
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # the mean of no pixels warns; the verdict says it
        warnings.simplefilter("ignore")
        got, error = _attempt(fn, pixels.copy(), far.copy(), 3)
    if error:
        return _report(False, f"with a centre no pixel chooses, {error}")
    right = _kmeans(pixels, far, 3)
    try:
        got = _as_numpy(got).astype(np.float64)
    except (TypeError, ValueError):
        got = np.empty(0)
    if got.shape != right.shape:
        return _report(False, f"with {len(far)} centres, return {len(far)}×3 centres; got shape {got.shape}")
    if not close(got, right):
        if not np.isfinite(got).all():
            return _report(
                False,
                "a centre that no pixel chooses became NaN (the mean of no pixels): leave such a centre where it is, "
                "e.g. `if np.any(nearest == k):` before moving it",
            )
        if close(got[:-1], right[:-1]):
            return _report(
                False,
                f"a centre no pixel chooses should stay where it is; you moved [255, 0, 255] to {got[-1].round(1).tolist()}",
            )
        return _report(
            False,
            "with a centre no pixel chooses, your centres differ from the exercise's rule, which leaves that centre "
            "where it is (scikit-learn moves it to a far pixel instead: a fine rule too, but another one)",
        )
    return _report(
        True,
        f"the same centres as k-means after {rounds} rounds (scikit-learn's KMeans from the same start gives them too), "
        "and a centre no pixel chooses stays put",
    )


# -- 02 · the CNN -------------------------------------------------------------------------------


def check_cross_entropy(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """`fn(logits N×K×H×W, targets N×H×W)` → the mean per-pixel cross-entropy, as F.cross_entropy."""
    g = torch.Generator().manual_seed(2)
    cases = [
        (torch.randn(2, 5, 3, 4, generator=g), torch.randint(0, 5, (2, 3, 4), generator=g)),
        (torch.randn(1, 32, 8, 8, generator=g) * 3, torch.randint(0, 32, (1, 8, 8), generator=g)),
        (torch.randn(2, 4, 2, 2, generator=g) * 400, torch.randint(0, 4, (2, 2, 2), generator=g)),
    ]
    for i, (logits, targets) in enumerate(cases):
        got, error = _attempt(fn, logits.clone(), targets.clone())
        if error:
            return _report(False, error)
        got = torch.as_tensor(got, dtype=torch.float64)
        expected = F.cross_entropy(logits.double(), targets)
        if got.numel() != 1:
            return _report(False, f"expected one number (the mean over every pixel), got shape {tuple(got.shape)}")
        if not torch.isfinite(got):
            return _report(
                False,
                "the result is not finite for logits of a few hundred: subtract each pixel's largest "
                "logit before exponentiating (log-sum-exp)",
            )
        if not torch.allclose(got.reshape(()), expected, rtol=1e-4, atol=1e-5):
            hint = " (the softmax runs over the colour axis, dim=1)" if i == 0 else ""
            return _report(False, f"got {got.item():.5f}, F.cross_entropy gives {expected.item():.5f}{hint}")
    return _report(True, "equal to F.cross_entropy, also for very large logits")


def check_cross_entropy_grad(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """`fn(logits N×K×H×W, targets N×H×W)` → ∂L/∂logits of the mean per-pixel cross-entropy, by hand.

    Compared with autograd's gradient of F.cross_entropy; the answer runs without autograd.
    """
    g = torch.Generator().manual_seed(5)
    logits = torch.randn(2, 5, 3, 4, generator=g, dtype=torch.float64) * 2
    targets = torch.randint(0, 5, (2, 3, 4), generator=g)
    n, k, h, w = logits.shape
    pixels = n * h * w
    given = logits.clone()
    with torch.no_grad():  # by hand: autograd would have nothing to differentiate
        got, error = _attempt(fn, given, targets.clone())
    if error:
        if "grad" in error:
            error += " (compute the gradient by hand: softmax minus one-hot, over N·H·W; no autograd)"
        return _report(False, error)
    if not torch.equal(given, logits):
        return _report(False, "your function changed the logits in place (e.g. `logits -= …` or `.exp_()`): work on a copy")
    leaf = logits.clone().requires_grad_()
    (expected,) = torch.autograd.grad(F.cross_entropy(leaf, targets), leaf)
    got = torch.as_tensor(_as_numpy(got), dtype=torch.float64)
    if got.shape != logits.shape:
        if got.shape == (n, h, w, k):
            return _report(
                False,
                f"shape {tuple(got.shape)} has the colours last: F.one_hot puts them there, "
                "so permute(0, 3, 1, 2) its result back to N×K×H×W",
            )
        return _report(False, f"return the logits' shape {tuple(logits.shape)} (N×K×H×W), got {tuple(got.shape)}")
    if torch.allclose(got, expected, rtol=1e-6, atol=1e-9):
        return _report(True, "equal to autograd's gradient of F.cross_entropy")
    onehot = F.one_hot(targets, k).permute(0, 3, 1, 2).double()
    scale = float((got * expected).sum() / (expected * expected).sum())  # least-squares ratio to the right answer
    if torch.allclose(got, scale * expected, rtol=1e-6, atol=1e-9):
        if scale < 0:
            return _report(False, "wrong sign: the gradient is softmax − one-hot, not one-hot − softmax")
        if np.isclose(scale, pixels):
            return _report(False, f"{pixels}× too large: the loss is a mean, so divide by N·H·W = {pixels} (not a sum)")
        if np.isclose(scale, h * w):
            return _report(False, f"{h * w}× too large: divide by N·H·W = {pixels}, every pixel of every picture, not by N alone")
        return _report(False, f"{scale:.4g}× the right gradient: divide softmax − one-hot by N·H·W = {pixels}")
    scaled = got * pixels
    for dim in (0, 2, 3):
        if torch.allclose(scaled, logits.softmax(dim) - onehot, atol=1e-7):
            return _report(False, f"your softmax runs over dim={dim}: it must run over the colour axis, dim=1")
    if torch.allclose(scaled, logits.log_softmax(1) - onehot, atol=1e-7):
        return _report(False, "that is the log-softmax: the gradient uses the probabilities themselves, softmax(dim=1)")
    rest = logits.softmax(1) - scaled  # what the answer used as its one-hot
    if torch.allclose(rest, rest.round(), atol=1e-7) and abs(rest.sum().item() - pixels) < 1e-6:
        return _report(
            False,
            "your one-hot is along the wrong axis: the 1 must sit at the true colour on dim 1 "
            "(F.one_hot puts it last: permute(0, 3, 1, 2), not view or reshape)",
        )
    worst = (got - expected).abs().max().item()
    return _report(
        False,
        f"differs from autograd's gradient by up to {worst:.3g}: it is (softmax over dim 1 − one-hot of the targets "
        f"on dim 1) / (N·H·W)",
    )


def check_block_parameters(fn: Callable[[int, int, int], int]) -> None:
    """`fn(cin, cout, kernel)` → the number of parameters of one Conv → BatchNorm → ReLU block."""
    for cin, cout, k in ((1, 32, 3), (64, 3, 3), (32, 64, 5)):
        got, error = _attempt(fn, cin, cout, k)
        if error:
            return _report(False, error)
        expected = num_parameters(Block(cin, cout, k))
        if got != expected:
            return _report(
                False,
                f"for {cin} → {cout} channels, kernel {k}: you say {got}, the block has {expected} "
                "(count the convolution's weights and biases, and BatchNorm's two per channel)",
            )
    return _report(True, "the count is right for every block shape tried")


def train_loop(
    model: torch.nn.Module,
    grey: torch.Tensor,
    targets: torch.Tensor,
    epochs: int = 6,
    batch_size: int = 100,
    max_lr: float = 1e-2,
    seed: int = 0,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> list[float]:
    """Chapter 02's training loop, written out: Adam with a one-cycle schedule to `max_lr`; the loss of every step.

    Each epoch takes the pictures in the order `torch.randperm(len(grey), generator=g)` gives (`g` seeded with
    `seed` once, before the first epoch), in batches of `batch_size` (the last may be smaller). `loss(output,
    targets)` is the criterion: cross-entropy over palette indices unless given (chapter 11 gives a regression's).
    """
    criterion = loss or (lambda output, y: F.cross_entropy(output, y.long()))
    g = torch.Generator().manual_seed(seed)
    steps_per_epoch = -(-len(grey) // batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=max_lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=epochs * steps_per_epoch)
    model.train()  # BatchNorm normalises with each batch's own statistics while training
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(grey), generator=g)
        for start in range(0, len(grey), batch_size):
            batch = order[start : start + batch_size]
            value = criterion(model(grey[batch]), targets[batch])
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            scheduler.step()  # after every step: the schedule counts steps, not epochs
            losses.append(value.item())
    return losses


def check_train_loop(fn: Callable[..., Sequence[float]]) -> None:
    """`fn(model, grey, targets, epochs, batch_size, max_lr, seed)` trains `model` as `train_loop` does; its step losses."""
    import copy

    g = torch.Generator().manual_seed(4)
    grey, targets = torch.rand(250, 1, 16, 16, generator=g), torch.randint(0, 8, (250, 16, 16), generator=g)
    torch.manual_seed(0)
    model = build("cnn", 8, nf=8)
    reference = copy.deepcopy(model)
    expected = train_loop(reference, grey, targets, 2, 100, 1e-2, 0)
    got, error = _attempt(fn, model, grey.clone(), targets.clone(), 2, 100, 1e-2, 0)
    if error:
        return _report(False, error)
    try:
        got = [float(v) for v in got]
    except TypeError:
        return _report(False, f"return the list of every step's loss (floats); got {type(got).__name__}")
    if len(got) != len(expected):
        return _report(
            False,
            f"250 pictures in batches of 100 for 2 epochs are {len(expected)} steps (the last batch of each epoch "
            f"has 50); you returned {len(got)} losses",
        )
    if not np.isclose(got[0], expected[0], rtol=1e-5):
        return _report(
            False,
            "the first step's loss differs: make g = torch.Generator().manual_seed(seed) once, take each epoch's "
            "order from torch.randperm(len(grey), generator=g), and train in model.train() mode",
        )
    drift = next((i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if not np.isclose(a, b, rtol=1e-4)), None)
    if drift is not None:
        return _report(
            False,
            f"your losses drift from step {drift}: use Adam and OneCycleLR(optimizer, max_lr=max_lr, total_steps="
            "epochs × steps per epoch), zero the gradients and call scheduler.step() after every optimizer.step()",
        )
    pairs = zip(model.parameters(), reference.parameters(), strict=True)
    if not all(torch.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in pairs):
        return _report(False, "the losses match but the model's weights do not: train the model you were given, in place")
    return _report(True, f"the same {len(expected)} step losses and the same weights as colorlib's train_loop")


def _cnn_block_slip(name: str, block: torch.nn.Module, ref: torch.nn.Sequential, nf: int) -> str | None:
    """A hint naming how `block` differs from the library's block `ref` (its resampling read off `ref`), or None."""
    nn = torch.nn
    resample = "down" if isinstance(ref[2], nn.MaxPool2d) else "up" if isinstance(ref[-1], nn.Upsample) else None
    leaves = [m for m in block.modules() if not list(m.children())]
    kinds = [type(m).__name__ for m in leaves]
    at = lambda *types: next((i for i, m in enumerate(leaves) if isinstance(m, types)), None)  # noqa: E731
    convs = [m for m in leaves if isinstance(m, nn.Conv2d)]
    if resample == "up" and at(nn.ConvTranspose2d) is not None:
        return (
            f"{name} doubles with a transposed convolution: the library's up blocks use "
            "nn.Upsample(scale_factor=2, mode='nearest'), which has no parameters"
        )
    if len(convs) != 1:
        return f"{name} holds {len(convs)} nn.Conv2d: a block has one, Conv2d → BatchNorm2d → ReLU, then its resampling"
    conv, want = convs[0], ref[0]
    if (conv.in_channels, conv.out_channels) != (want.in_channels, want.out_channels):
        return (
            f"{name}'s convolution maps {conv.in_channels} → {conv.out_channels} channels, the library's {want.in_channels} → "
            f"{want.out_channels} (with nf = {nf}: down1 1 → nf, down2 nf → 2nf, refactor 2nf → 2nf, up1 2nf → nf, up2 nf → 3)"
        )
    if conv.kernel_size != want.kernel_size:
        return f"{name}'s convolution has a {conv.kernel_size[0]}×{conv.kernel_size[1]} kernel: every convolution here is 3×3"
    if conv.stride != (1, 1):
        how = "halve with nn.MaxPool2d(2) before the ReLU" if resample == "down" else "only down blocks halve (max-pool)"
        return f"{name}'s convolution has stride {conv.stride[0]}: the library's convolutions keep stride 1 and {how}"
    if conv.padding not in ((1, 1), "same"):
        return (
            f"{name}'s convolution has padding={conv.padding[0] if isinstance(conv.padding, tuple) else conv.padding}: "
            "with padding=1 a 3×3 convolution keeps the height and width, so only pooling and upsampling change them"
        )
    bn, relu = at(nn.BatchNorm2d), at(nn.ReLU)
    if bn is None:
        return f"{name} has no nn.BatchNorm2d: each block is Conv2d → BatchNorm2d(cout) → ReLU, then its resampling"
    if relu is None:
        return f"{name} has no nn.ReLU: each block is Conv2d → BatchNorm2d(cout) → ReLU, then its resampling"
    if relu < bn:
        return (
            f"{name} applies the ReLU before BatchNorm ({' → '.join(kinds)}): the order is Conv2d → BatchNorm2d → ReLU, "
            "so BatchNorm normalises what the convolution gives and the ReLU cuts the negatives after"
        )
    if bn < at(nn.Conv2d):
        return f"{name} runs {' → '.join(kinds)}: the order is Conv2d → BatchNorm2d → ReLU, then its resampling"
    avg, pool, up = at(nn.AvgPool2d, nn.AdaptiveAvgPool2d), at(nn.MaxPool2d), at(nn.Upsample)
    if resample == "down":
        if avg is not None:
            return f"{name} average-pools: the library keeps the largest value of each 2×2 block, nn.MaxPool2d(2)"
        if pool is None:
            return f'{name} does not halve the picture: a "down" block ends with nn.MaxPool2d(2)'
        if leaves[pool].kernel_size not in (2, (2, 2)) or leaves[pool].stride not in (2, (2, 2)):
            return f"{name} pools with kernel {leaves[pool].kernel_size}: halve with nn.MaxPool2d(2)"
    elif resample == "up":
        if avg is not None or pool is not None:
            return f'{name} pools: an "up" block doubles the picture, with nn.Upsample(scale_factor=2, mode="nearest")'
        if up is None:
            return f'{name} does not double the picture: an "up" block ends with nn.Upsample(scale_factor=2, mode="nearest")'
        if leaves[up].mode != "nearest":
            return f"{name} upsamples with mode={leaves[up].mode!r}: the library copies each value to a 2×2 block, 'nearest'"
        if leaves[up].scale_factor not in (2, 2.0, (2, 2), (2.0, 2.0)):
            return f"{name} upsamples by {leaves[up].scale_factor or leaves[up].size}: double the size, scale_factor=2"
    elif any(i is not None for i in (avg, pool, up)):
        return f"{name} changes the size: the bottleneck keeps 8×8, block(2 * nf, 2 * nf) without resampling"
    for i in (avg, pool, up):
        if i is not None and i < bn:
            return f"{name} resamples before BatchNorm ({' → '.join(kinds)}): resample last, after Conv2d → BatchNorm2d → ReLU"
    return None


def _names_slip(mine: torch.nn.Module, library: torch.nn.Module, assign: str, why_order: str) -> str | None:
    """A hint if `mine` lacks one of the library's module names (`assign` says what to do) or assigns them in
    another order (`why_order` says why it matters), else None."""
    names = [n for n, _ in library.named_children()]
    children = [n for n, _ in mine.named_children()]
    missing = [n for n in names if n not in children]
    if missing:
        return f"no module named {', '.join(missing)}: {assign} (the library's names, so its weights load)"
    order = [n for n in children if n in names]
    if order != names:
        return (
            f"your modules are assigned in the order {', '.join(order)}: assign them in the order {', '.join(names)}{why_order}"
        )
    return None


def _cnn_slip(mine: torch.nn.Module, library: torch.nn.Module, num_colors: int, nf: int) -> str | None:
    """A hint naming the first way `mine`'s modules differ from the library's CNN, or None."""
    names = [n for n, _ in library.named_children()]
    children = dict(mine.named_children())
    plain = [n for n in names if n not in children and hasattr(mine, n)]
    if plain:
        what = type(getattr(mine, plain[0])).__name__
        return f"self.{plain[0]} is a {what}, not a module: block returns nn.Sequential(*layers), and final is an nn.Conv2d"
    slip = _names_slip(
        mine,
        library,
        "assign self.down1, self.down2, self.refactor, self.up1, self.up2 and self.final in __init__",
        " (a state_dict lists them in that order, and the library's weights load by it)",
    )
    if slip:
        return slip
    for name in names[:-1]:
        slip = _cnn_block_slip(name, children[name], getattr(library, name), nf)
        if slip:
            return slip
    final = children["final"]
    if not isinstance(final, torch.nn.Conv2d):
        return f"final is a {type(final).__name__}: it is one nn.Conv2d(3, num_colors, 3, padding=1), no BatchNorm or ReLU"
    if final.out_channels != num_colors:
        return (
            f"final gives {final.out_channels} channels for num_colors = {num_colors}: one score per palette colour, "
            "nn.Conv2d(3, num_colors, …) with the argument, not a constant or nf"
        )
    if final.in_channels != 3:
        return f"final reads {final.in_channels} channels: it reads up2's 3"
    if final.kernel_size != (3, 3) or final.padding not in ((1, 1), "same"):
        k, pad = final.kernel_size, final.padding[0] if isinstance(final.padding, tuple) else final.padding
        return f"final is a {k[0]}×{k[1]} convolution with padding={pad}: the library's is 3×3 with padding=1"
    return None


def _mine_and_library(
    kind: str, label: str, cls: Callable[..., torch.nn.Module], num_colors: int, nf: int
) -> tuple[torch.nn.Module | None, torch.nn.Module, str, str | None]:
    """The learner's `label` built as `cls()` (or with num_colors and nf), the library's `kind` beside it in eval mode,
    the prefix naming that build in a message, and the one-line problem if the learner's did not build a module."""
    where = "" if nf == 32 else f"{label}(num_colors={num_colors}, nf={nf}): "
    with torch.random.fork_rng(devices=[]):  # building either model leaves the notebook's random numbers alone
        library = build(kind, num_colors, nf=nf).eval()
        mine, error = _attempt(cls) if nf == 32 else _attempt(lambda: cls(num_colors=num_colors, nf=nf))
    if error:
        keep = f" (keep the signature {label}(num_colors=32, nf=32))" if "TypeError" in error and where else ""
        return None, library, where, where + error + keep
    if not isinstance(mine, torch.nn.Module):
        made = type(mine).__name__
        return None, library, where, f"{where}{label}() gave a {made}: subclass nn.Module and call super().__init__() first"
    return mine, library, where, None


def _module_verdict(
    kind: str, label: str, cls: Callable[..., torch.nn.Module], slip_of: Callable, hints: tuple[str, str, str]
) -> tuple[bool, str]:
    """(right?, the one-line reason) for `check_cnn` and `check_unet`: the learner's `label` against the library's
    `kind` for two sizes, first by `slip_of`'s layer checks, then, given the library's weights, by its logits in eval
    mode. `hints`: what forward must do, what to fix when the logits differ, and the verdict when right."""
    forward, differ, right = hints
    g = torch.Generator().manual_seed(6)
    for num_colors, nf in ((32, 32), (16, 8)):
        mine, library, where, problem = _mine_and_library(kind, label, cls, num_colors, nf)
        if problem:
            return False, problem
        slip = slip_of(mine, library, num_colors, nf)
        if slip:
            return False, where + slip
        ours = [(n, tuple(t.shape)) for n, t in mine.state_dict().items()]
        theirs = [(n, tuple(t.shape)) for n, t in library.state_dict().items()]
        if ours != theirs:
            i = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), min(len(ours), len(theirs)))
            yours = f"{ours[i][0]} {ours[i][1]}" if i < len(ours) else "nothing"
            want = f"{theirs[i][0]} {theirs[i][1]}" if i < len(theirs) else "nothing"
            return False, f"{where}entry {i} of your state_dict is {yours}, the library's {want}: build it as the spec says"
        with torch.no_grad():  # weights and BatchNorm statistics unlike a fresh model's, so eval mode matters
            for m in library.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5, generator=g)
                    m.bias.uniform_(-0.3, 0.3, generator=g)
                    m.running_mean.uniform_(-0.2, 0.2, generator=g)
                    m.running_var.uniform_(0.5, 2.0, generator=g)
        mine.load_state_dict(library.state_dict())
        grey = torch.rand(4, 1, 32, 32, generator=g)
        with torch.no_grad():
            expected = library(grey)
            got, error = _attempt(mine.eval(), grey)
        if error:
            return False, where + error + ("" if "not done" in error else f" ({forward})")
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            return False, f"{where}expected logits of shape {tuple(expected.shape)}, got {shape}: {forward}"
        if not torch.allclose(got, expected, rtol=1e-5, atol=1e-6):
            for f in (torch.softmax, torch.log_softmax):
                if torch.allclose(got, f(expected, 1), rtol=1e-5, atol=1e-6):
                    return False, f"{where}you return a {f.__name__}: return the logits (F.cross_entropy takes the softmax)"
            return False, f"{where}with the library's weights your logits differ from the library's: {differ}"
    return True, right


def _cnn_verdict(cls: Callable[..., torch.nn.Module]) -> tuple[bool, str]:
    """(right?, the one-line reason) for `check_cnn`."""
    chain = "forward chains down1 → down2 → refactor → up1 → up2 → final, each once, and returns final's output"
    right = "the library's modules, names and shapes in order, and with its weights its logits (also for 16 colours, nf = 8)"
    return _module_verdict("cnn", "MyCNN", cls, _cnn_slip, (chain, chain, right))


def check_cnn(cls: Callable[..., torch.nn.Module]) -> None:
    """`cls(num_colors=32, nf=32)` → chapter 02's CNN: the library's modules, names and shapes in order, and, given
    its weights, its logits in eval mode; tried with the defaults and with 16 colours, nf = 8."""
    try:
        _report(*_cnn_verdict(cls))
    except Exception as e:  # noqa: BLE001 - the learner's module: any failure is reported, not raised
        _report(False, f"your model raised {type(e).__name__}: {e}")


# -- 03 · the UNet ------------------------------------------------------------------------------


def check_skip_parameters(predictions: Mapping[str, int]) -> None:
    """Your predicted parameter count of the 32-colour UNet less each skip (keys: down2, down1, grey)."""
    if set(predictions) != set(SKIPS):
        return _report(False, f"give one prediction for each skip: {', '.join(SKIPS)}")
    if not any(predictions.values()):
        return _turn("write your three predictions in `my_counts`, then run the cell")
    for skip in SKIPS:
        expected = num_parameters(build("unet", 32, skips=[s for s in SKIPS if s != skip] or "none"))
        if predictions[skip] != expected:
            way = "too high" if predictions[skip] > expected else "too low"
            return _report(
                False,
                f"without the {skip} skip you say {predictions[skip]:,}, which is {way}. Which layer "
                "loses input channels, and how many weights does each input channel have there?",
            )
    return _report(True, "each skip's cost in parameters is right")


def check_unet_forward(unet: Callable[[], torch.nn.Module]) -> None:
    """`unet()` → chapter 03's UNet with your `forward`: given the library's weights, it must give the library's logits."""
    library = build("unet", 32).eval()
    mine, error = _attempt(unet)
    if error:
        return _report(False, error)
    if [(n, p.shape) for n, p in mine.state_dict().items()] != [(n, p.shape) for n, p in library.state_dict().items()]:
        return _report(False, "its layers differ from the library's UNet: keep the blocks as the cell defines them")
    mine.load_state_dict(library.state_dict())
    grey = torch.rand(4, 1, 32, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        got, error = _attempt(mine.eval(), grey)
        expected = library(grey)
    if error:
        hint = "" if "not done" in error else " (each torch.cat joins tensors of the same height and width, along dim=1)"
        return _report(False, error + hint)
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        shape = getattr(got, "shape", type(got).__name__)
        return _report(False, f"expected logits of shape {tuple(expected.shape)}, got {shape}")
    if not torch.equal(got, expected):
        return _report(
            False,
            "the logits differ from the library's: put each skip first in its torch.cat ([d2, r], [d1, u1], "
            "[grey, u2]), and give the final convolution the grey input itself",
        )
    return _report(True, "with the library's weights your UNet gives exactly the library's logits: the three skips are right")


# the layers a skip feeds: (what the CNN's layer reads, the skip, the extra channels in terms of nf)
_SKIP_FED = {
    "up1": ("the bottleneck's 2 * nf", "down2", "2 * nf"),
    "up2": ("up1's nf", "down1", "nf"),
    "final": ("up2's 3", "grey", "1"),
}


def _unet_slip(mine: torch.nn.Module, library: torch.nn.Module, num_colors: int, nf: int) -> str | None:
    """A hint naming the first way `mine`'s modules differ from the library's UNet, or None."""
    nn = torch.nn
    names = [n for n, _ in library.named_children()]
    children = dict(mine.named_children())
    slip = _names_slip(mine, library, "after the three given blocks, assign self.up1, self.up2 and self.final", "")
    if slip:
        return slip
    for name in names:
        ref = getattr(library, name)
        want = ref if isinstance(ref, nn.Conv2d) else ref[0]
        convs = [m for m in children[name].modules() if isinstance(m, nn.Conv2d)]
        if len(convs) != 1:
            return f"{name} holds {len(convs)} nn.Conv2d: a block has one, and final is one nn.Conv2d"
        conv = convs[0]
        if conv.in_channels != want.in_channels:
            if name in _SKIP_FED:
                reads, skip, extra = _SKIP_FED[name]
                return (
                    f"{name} reads {conv.in_channels} channels, the library's {want.in_channels} (nf = {nf}): it reads "
                    f"{reads} and the {skip} skip's {extra}, joined by torch.cat"
                )
            return f"{name} reads {conv.in_channels} channels, the library's {want.in_channels}: keep the given blocks as given"
        if conv.out_channels != want.out_channels:
            if name == "final":
                return f"final gives {conv.out_channels} channels for num_colors = {num_colors}: one score per palette colour"
            return (
                f"{name} gives {conv.out_channels} channels, the library's {want.out_channels} (nf = {nf}): a skip widens "
                "only the input of the layer it feeds; each layer gives the CNN's channels"
            )
        if name != "final":
            slip = _cnn_block_slip(name, children[name], ref, nf)
            if slip:
                return slip
        elif not isinstance(children[name], nn.Conv2d):
            return f"final is a {type(children[name]).__name__}: it is one nn.Conv2d, no BatchNorm or ReLU"
        elif conv.kernel_size != (3, 3) or conv.padding not in ((1, 1), "same"):
            return "final is a 3×3 convolution with padding=1, as in the CNN"
    return None


def _unet_verdict(cls: Callable[..., torch.nn.Module]) -> tuple[bool, str]:
    """(right?, the one-line reason) for `check_unet`."""
    joins = "each torch.cat joins tensors of the same height and width, along dim=1"
    differ = (
        "put each skip first in its torch.cat ([d2, r], [d1, u1], [grey, u2]), and give the final convolution the grey "
        "input itself"
    )
    right = "the library's layers, and with its weights its logits (also for 16 colours, nf = 8): the three skips are right"
    return _module_verdict("unet", "MyUNet", cls, _unet_slip, (joins, differ, right))


def check_unet(cls: Callable[..., torch.nn.Module]) -> None:
    """`cls(num_colors=32, nf=32)` → chapter 03's UNet, `__init__` and `forward`: the library's layers, names and
    shapes in order, and, given its weights, its logits in eval mode; tried also with 16 colours, nf = 8."""
    try:
        _report(*_unet_verdict(cls))
    except Exception as e:  # noqa: BLE001 - the learner's module: any failure is reported, not raised
        _report(False, f"your model raised {type(e).__name__}: {e}")


# -- 04 · CNN vs UNet ---------------------------------------------------------------------------


def evaluate_loop(
    model: torch.nn.Module, grey: torch.Tensor, targets: torch.Tensor, batch_size: int = 100
) -> tuple[float, float]:
    """Chapter 04's evaluation, colorlib's answer: (mean per-pixel cross-entropy, pixel accuracy) of `model` over all
    pictures, as training scores its holdout (`metrics.evaluate`: eval mode, no gradients, the model's mode restored)."""
    from .metrics import evaluate

    scores = evaluate(model, grey, targets, batch_size, exact=False)
    return scores["cross_entropy"], scores["pixel_accuracy"]


_EVALUATION_CASE: list[tuple[torch.nn.Module, torch.Tensor, torch.Tensor]] = []  # built once, never changed: copies are scored


def _evaluation_case() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A small seeded CNN in training mode with BatchNorm running statistics, 10 grey 8×8 pictures and uint8 targets
    over 8 colours; the last two pictures' targets are the colours it finds least likely, so a short last batch stands out."""
    if not _EVALUATION_CASE:
        _EVALUATION_CASE.append(_build_evaluation_case())
    return _EVALUATION_CASE[0]


def _build_evaluation_case() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(12)
        model = build("cnn", 8, nf=4)
    g = torch.Generator().manual_seed(12)
    with torch.no_grad():
        model.final.weight.mul_(4)  # confident logits: the pictures' cross-entropies lie far apart
        for _ in range(4):  # running statistics from darker pictures than the scored ones: eval and train mode differ
            model(torch.rand(10, 1, 8, 8, generator=g) * 0.6)
        grey = torch.rand(10, 1, 8, 8, generator=g)
        least_likely = model.eval()(grey).argmin(1)
    targets = torch.randint(0, 8, (10, 8, 8), generator=g)
    targets[8:] = least_likely[8:]
    return model.train(), grey, targets.to(torch.uint8)


def _evaluate_verdict(fn: Callable[[torch.nn.Module, torch.Tensor, torch.Tensor, int], tuple[float, float]]) -> tuple[bool, str]:
    """(right?, the one-line reason) for `check_evaluate`."""
    import copy

    model, grey, targets = _evaluation_case()
    batch, pixels = 4, targets.numel()
    ce, acc = evaluate_loop(model, grey, targets, batch)  # in eval mode, restored after: the case is left as it was
    # the usual slips' numbers: each batch's mean, averaged or added up
    per_batch = np.array([evaluate_loop(model, grey[i : i + batch], targets[i : i + batch]) for i in (0, 4, 8)])
    seen: list[tuple[bool, bool, int]] = []  # per forward pass: BatchNorm in training mode?, gradients on?, pictures

    def record(module: torch.nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        batchnorm_training = any(m.training for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d))
        seen.append((batchnorm_training, torch.is_grad_enabled(), len(inputs[0])))

    mine = copy.deepcopy(model)  # in training mode, as a model is between epochs
    mine.register_forward_hook(record)
    got, error = _attempt(fn, mine, grey.clone(), targets.clone(), batch)
    if error:
        hint = " (targets are uint8 palette indices: F.cross_entropy wants them as .long())" if "Byte" in error else ""
        return False, error + hint
    if isinstance(got, Mapping):
        return False, "return a tuple of two numbers, (cross_entropy, pixel_accuracy), not a dict"
    try:
        got_ce, got_acc = (float(v) for v in got)
    except (TypeError, ValueError, RuntimeError):
        return False, f"return two numbers, (cross_entropy, pixel_accuracy); got {type(got).__name__}"
    if not seen:
        return False, "your function never ran the model: call model(grey[i : i + batch_size]) for each batch"
    if any(training for training, _, _ in seen):
        return False, (
            "the model ran in training mode, where BatchNorm normalises each batch by its own statistics (and updates "
            "its running ones): call model.eval() before the forward passes"
        )
    if any(grad for _, grad, _ in seen):
        return False, (
            "the forward passes recorded gradients: wrap them in `with torch.no_grad():` (evaluation never calls "
            "backward, and the graph would hold every batch's activations in memory)"
        )
    if [n for _, _, n in seen] != [4, 4, 2]:
        return False, (
            f"10 pictures in batches of batch_size = 4 are three forward passes of 4, 4 and 2 pictures; yours were "
            f"{[n for _, _, n in seen]}: run grey[i : i + batch_size] for i in range(0, len(grey), batch_size)"
        )
    close = lambda a, b: bool(np.isclose(a, b, rtol=1e-4, atol=1e-6))  # noqa: E731  fp32 sums in any order
    uneven = (
        "the last batch holds 2 pictures, not 4, so averaging the batches' means counts its pixels double: add up "
        "the pixels' losses (reduction='sum') and the right pixels over all batches, then divide by the number of pixels"
    )
    if not close(got_ce, ce):
        if close(got_ce, ce * pixels):
            hint = "that is the sum over all pixels: divide by the number of pixels, targets.numel()"
        elif close(got_ce, per_batch[:, 0].sum()):
            hint = "you added up the batches' mean cross-entropies: the result is a mean over all pixels"
        elif close(got_ce, per_batch[:, 0].mean()):
            hint = uneven
        else:
            hint = "F.cross_entropy of the logits (colours on dim 1) against targets.long(), over every pixel of every picture"
        return False, f"your cross-entropy is {got_ce:.4f}, colorlib's {ce:.4f}: {hint}"
    if not close(got_acc, acc):
        if close(got_acc, 100 * acc):
            hint = "that is a percentage: return the fraction, between 0 and 1"
        elif close(got_acc, acc * pixels):
            hint = "that is the count of right pixels: divide it by the number of pixels"
        elif close(got_acc, per_batch[:, 1].mean()) or close(got_acc, per_batch[:, 1].sum()):
            hint = uneven
        elif close(got_acc, 1 - acc):
            hint = "that is the share of wrong pixels: count the pixels whose predicted colour equals the target"
        else:
            hint = "the share of all pixels whose most likely colour, logits.argmax(1), equals the target"
        return False, f"your pixel accuracy is {got_acc:.4f}, colorlib's {acc:.4f}: {hint}"
    if not mine.training:
        return False, (
            "the numbers are right, but the model was in training mode and your function left it in eval mode: "
            "remember was_training = model.training first, and end with model.train(was_training)"
        )
    given_eval = copy.deepcopy(model).eval()
    _, error = _attempt(fn, given_eval, grey.clone(), targets.clone(), batch)
    if error:
        return False, f"given a model in eval mode, {error}"
    if given_eval.training:
        return False, (
            "given a model in eval mode your function left it in training mode: restore the mode the model had, "
            "model.train(was_training) with was_training = model.training read before model.eval()"
        )
    return True, (
        "the cross-entropy and pixel accuracy of colorlib's evaluation over 10 pictures in batches of 4, 4 and 2, "
        "in eval mode without gradients, and each model left in its own mode (train, then eval)"
    )


def check_evaluate(fn: Callable[[torch.nn.Module, torch.Tensor, torch.Tensor, int], tuple[float, float]]) -> None:
    """`fn(model, grey, targets, batch_size)` → (mean per-pixel cross-entropy, pixel accuracy) over all pictures,
    as `evaluate_loop` gives them: in eval mode, without gradients, the model left in the mode it was given."""
    _report(*_evaluate_verdict(fn))


def accepts_evaluate(fn: Callable[[torch.nn.Module, torch.Tensor, torch.Tensor, int], tuple[float, float]]) -> bool:
    """Whether `check_evaluate` would say ✓ to `fn` (printing nothing): the chapter then scores with your function."""
    return _evaluate_verdict(fn)[0]


def check_mean_sd(fn: Callable[[Sequence[float]], tuple[float, float]]) -> None:
    """`fn(values)` → (mean, sd) of one configuration's scores over its seeds, the sd with n − 1 (ddof=1)."""
    cases = [[1.645, 1.621, 1.593, 1.647, 1.570], [11.19, 11.02, 11.31], [0.5, 0.5, 0.5, 0.5]]
    for values in cases:
        got, error = _attempt(fn, list(values))
        if error:
            return _report(False, error)
        try:
            mean, sd = (float(v) for v in got)
        except (TypeError, ValueError):
            return _report(False, f"return two numbers, (mean, sd); got {got!r}")
        x = np.asarray(values, np.float64)
        right = (x.mean(), x.std(ddof=1))
        if np.allclose((mean, sd), right):
            continue
        hints = [
            ((x.mean(), x.std()), "that sd divides by n: over a few seeds divide by n − 1 (np.std(values, ddof=1))"),
            ((x.std(ddof=1), x.mean()), "return the mean first, then the sd"),
            ((x.mean(), x.var(ddof=1)), "that is the variance: the sd is its square root"),
        ]
        hint = next((h for pair, h in hints if np.allclose((mean, sd), pair)), "mean = sum / n; sd = √(Σ (x − mean)² / (n − 1))")
        return _report(
            False, f"for {values} the answer is {right[0]:.4f} ± {right[1]:.4f}, you say {mean:.4f} ± {sd:.4f}: {hint}"
        )
    return _report(
        True, f"{cases[0]} gives {np.mean(cases[0]):.3f} ± {np.std(cases[0], ddof=1):.3f}, as NumPy's mean and std(ddof=1)"
    )


# -- 05 · how sure is a difference ------------------------------------------------------------


def _interval_answer(fn: Callable, *args) -> tuple[tuple[float, float, float] | None, str | None]:
    """The learner's (difference, low, high) from `fn(*args)` as floats, or the one-line problem."""
    got, error = _attempt(fn, *args)
    if error:
        return None, error
    try:
        diff, low, high = (float(v) for v in got)
    except (TypeError, ValueError):
        return None, f"return three numbers, (difference, low, high); got {got!r}"
    return (diff, low, high), None


def check_difference(fn: Callable[[np.ndarray, np.ndarray], tuple[float, float, float]]) -> None:
    """`fn(a, b)` → (mean of a − b, low, high): the 95% paired t-interval of two models scored on the same pictures."""
    rng = np.random.default_rng(4)
    hard = rng.gamma(4.0, 2.5, 12)  # how hard each picture is, shared by both models: the pairing matters
    a, b = hard + rng.normal(0.3, 0.4, 12), hard + rng.normal(0.0, 0.4, 12)
    answer, problem = _interval_answer(fn, a.copy(), b.copy())
    if problem:
        return _report(False, problem)
    diff, low, high = answer
    right = difference(a, b)
    d, n = a - b, len(a)
    if not np.isclose(diff, right["difference"]):
        return _report(False, f"the mean of a − b is {right['difference']:.4f}, you say {diff:.4f}")
    if np.isclose(high - low, right["high"] - right["low"]):
        return _report(True, f"{diff:+.3f} [{low:+.3f}, {high:+.3f}] on {n} pictures, as colorlib.metrics.difference")
    from scipy import stats

    t, z = stats.t.ppf(0.975, n - 1), stats.norm.ppf(0.975)
    unpaired = t * np.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
    hints = [
        (
            2 * z * d.std(ddof=1) / np.sqrt(n),
            f"1.96 is the normal's quantile; with {n} pictures use t with n − 1 degrees "
            "of freedom, scipy.stats.t.ppf(0.975, n - 1)",
        ),
        (2 * t * d.std() / np.sqrt(n), "use the sample standard deviation of the differences (ddof=1)"),
        (2 * t * d.std(ddof=1), "the interval is for the mean: divide the standard deviation by √n"),
        (
            2 * unpaired,
            "that treats a and b as independent; they are the same pictures, so use the per-picture "
            "differences a − b (how hard a picture is cancels out)",
        ),
    ]
    hint = next(
        (h for width, h in hints if np.isclose(high - low, width, rtol=1e-3)),
        "the half-width is t(0.975, n − 1) · sd(a − b) / √n",
    )
    return _report(
        False, f"the interval is [{right['low']:+.3f}, {right['high']:+.3f}], you say [{low:+.3f}, {high:+.3f}]: {hint}"
    )


def _q_slips(p: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """What the usual slips in Benjamini–Hochberg q-values give for `p`, each with its hint."""
    m, order = len(p), np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)

    def back(sorted_q: np.ndarray) -> np.ndarray:
        q = np.empty(m)
        q[order] = sorted_q
        return q

    running = np.minimum.accumulate(ranked[::-1])[::-1]
    wrong_end = p[order] * m / np.arange(m, 0, -1)
    return [
        (running.clip(max=1), "these are in sorted order: put each q back where its p was in the input"),
        (
            back(ranked.clip(max=1)),
            "not monotone, a larger p got a smaller q: take the running minimum from the largest rank down",
        ),
        (back(ranked), "not monotone, and above 1: take the running minimum from the largest rank down, and cap at 1"),
        (
            back(np.minimum.accumulate(ranked).clip(max=1)),
            "the running minimum goes from the largest rank down, not from the smallest up",
        ),
        (
            back(np.minimum.accumulate(wrong_end[::-1])[::-1].clip(max=1)),
            "rank 1 is the smallest p: sort ascending, so p·m/rank divides the smallest p by 1 and the largest by m",
        ),
        (
            back(wrong_end.clip(max=1)),
            "rank 1 is the smallest p (sort ascending), and take the running minimum from the largest rank down",
        ),
    ]


def check_q_values(fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """`fn(p)` → the Benjamini–Hochberg q-values of p-values, in the input's order: as `metrics.false_discovery`."""
    from .metrics import false_discovery

    rng = np.random.default_rng(5)
    cases = [
        np.array([0.04, 0.3, 0.001, 0.04, 0.02, 0.95, 0.012, 0.9]),  # unsorted, a tie; 0.9 · 8/7 is above 1
        np.array([0.001, 0.008, 0.039, 0.041, 0.6]),
        np.concatenate([rng.uniform(0, 0.02, 6), rng.uniform(0, 1, 14)])[rng.permutation(20)],
        np.array([0.3]),
    ]
    for p in cases:
        got, error = _attempt(fn, p.copy())
        if error:
            return _report(False, error)
        q = np.asarray(got, np.float64).ravel() if got is not None else np.array([])
        if q.shape != p.shape:
            return _report(False, f"return one q-value per p-value ({len(p)} here), in the same order; got {got!r}")
        right = false_discovery(p)
        if np.allclose(q, right):
            continue
        shown = np.round(p, 3).tolist() if len(p) <= 8 else f"{len(p)} p-values"
        hint = next(
            (h for slip, h in _q_slips(p) if np.allclose(q, slip)),
            "sort, p·m/rank, running minimum from the largest rank down, cap at 1, back in the input's order",
        )
        if hint.startswith("sort,") and (q > 1).any():
            hint = "a q-value above 1: cap at 1 (after the running minimum from the largest rank down)"
        return _report(False, f"for {shown} the q-values are {np.round(right, 4).tolist() if len(p) <= 8 else '…'}: {hint}")
    return _report(
        True, f"q-values of {len(cases)} sets of p-values (unsorted, tied, a single one), as colorlib.metrics.false_discovery"
    )


# -- 09 · your own photos -----------------------------------------------------------------------


def check_leave_one_out(fn: Callable[[Mapping, Mapping, Sequence[str]], Mapping[str, float]]) -> None:
    """`fn(grid, truth, photos)` → `leave_one_out`'s photo → ΔE2000, tried on the shipped photo results."""
    import copy

    from .results import load_results

    results = load_results("photos")
    grid, truth, photos = results["grid"], results["truth_colourfulness"], results["photos"]
    got, error = _attempt(fn, copy.deepcopy(grid), dict(truth), list(photos))
    if error:
        return _report(False, error)
    right = leave_one_out(grid, truth, photos)
    mean = float(np.mean(list(right.values())))
    if isinstance(got, int | float | np.number) or (isinstance(got, np.ndarray | torch.Tensor) and got.size == 1):
        return _report(
            False, f"you return one number ({float(got):.2f}, the mean?): return a dict photo → its ΔE2000, one per photo"
        )
    if not isinstance(got, Mapping) or set(got) != set(photos):
        keys = sorted(map(str, got)) if isinstance(got, Mapping) else type(got).__name__
        return _report(False, f"return a dict with one ΔE2000 per photo, keyed by the names in `photos`; got {keys}")
    try:
        mine = {n: float(got[n]) for n in photos}
    except (TypeError, ValueError):
        return _report(False, "each value should be one number: the left-out photo's ΔE2000 (grid[key][photo]['delta_e'])")
    if all(np.isclose(mine[n], right[n], rtol=0, atol=1e-9) for n in photos):
        everyone = choose_on_photos(grid, truth, photos)
        moved = [n for n in photos if choose_on_photos(grid, truth, [m for m in photos if m != n]) != everyone]
        return _report(
            True,
            f"mean {mean:.2f} over the {len(photos)} photos, as the shipped row; the choice on seven differs from "
            f"the one on all {len(photos)} when {' or '.join(moved) or 'no photo'} is left out",
        )
    others = lambda n: [m for m in photos if m != n]  # noqa: E731
    everyone = choose_on_photos(grid, truth, photos)
    slips = {
        "you chose on all eight photos (in-sample): choose on the other seven, without the photo you score": {
            n: grid[everyone][n]["delta_e"] for n in photos
        },
        "you ignored the colourfulness floor: choose only among combinations whose mean photo share is ≥ 40% on the seven": {
            n: grid[choose_on_photos(grid, truth, others(n), "none")][n]["delta_e"] for n in photos
        },
        "your floor divides the mean colourfulness by the originals' mean: average each photo's own share "
        "(colourfulness / truth[photo]) over the seven instead": {
            n: grid[choose_on_photos(grid, truth, others(n), "ratio of averages")][n]["delta_e"] for n in photos
        },
        "you scored the chosen combination on the seven it was chosen on: score it on the left-out photo alone": {
            n: np.mean([grid[choose_on_photos(grid, truth, others(n))][m]["delta_e"] for m in others(n)]) for n in photos
        },
    }
    for hint, values in slips.items():
        if all(np.isclose(mine[n], values[n], rtol=0, atol=1e-9) for n in photos):
            return _report(False, hint)
    n = next(n for n in photos if not np.isclose(mine[n], right[n], rtol=0, atol=1e-9))
    return _report(
        False,
        f"{n} gets {right[n]:.2f} (the combination chosen on the other seven), you say {mine[n]:.2f}: choose by the "
        "lowest mean ΔE2000 among combinations whose mean colourfulness share is ≥ 40%, then read that photo's ΔE2000",
    )


def _choose_cases() -> dict[str, tuple[Mapping, Mapping, list[str]]]:
    """Grids on which the rule's usual slips choose another key: case name → (grid, truth, photos)."""
    from .results import load_results

    results = load_results("photos")
    cases = {"the shipped grid": (results["grid"], results["truth_colourfulness"], list(results["photos"]))}

    def grid(rows: dict[str, tuple[float, list[float]]]) -> dict:  # key → (mean ΔE2000, colourfulness per photo)
        return {
            k: {n: {"delta_e": de, "colourfulness": c} for n, c in zip("pq", cs, strict=True)} for k, (de, cs) in rows.items()
        }

    truth = {"p": 10.0, "q": 100.0}
    # a keeps 80% of p and 10% of q: a mean share of 45% but a ratio of the means of 16%
    cases["shares against the ratio of means"] = (
        grid({"a": (5.0, [8, 10]), "b": (7.0, [5, 50]), "c": (3.0, [1, 1]), "d": (9.0, [6, 60])}),
        truth,
        ["p", "q"],
    )
    cases["a share of exactly 40%"] = (grid({"c": (3.0, [1, 1]), "a": (5.0, [4, 40]), "b": (7.0, [5, 50])}), truth, ["p", "q"])
    cases["no combination keeping 40%"] = (
        grid({"a": (6.0, [1, 10]), "b": (4.0, [2, 5]), "c": (8.0, [3, 20])}),
        truth,
        ["p", "q"],
    )
    return cases


_PHOTO_RULE_SLIPS = {  # the slip → choose_on_photos' keywords that make it
    "none": dict(floor="none"),
    "ratio of averages": dict(floor="ratio of averages"),
    "highest": dict(best=max),
    "strict": dict(strict=True),
    "no fallback": dict(fallback=False),
}


def _choose_slip(grid: Mapping, truth: Mapping, names: Sequence[str], slip: str) -> str | None:
    """The key a learner's rule with one slip chooses (None where that rule finds nothing to choose from)."""
    return choose_on_photos(grid, truth, names, **_PHOTO_RULE_SLIPS[slip])


def check_choose_on_photos(fn: Callable[[Mapping, Mapping, Sequence[str]], str]) -> None:
    """`fn(grid, truth, photos)` → `choose_on_photos`'s grid key, on the shipped grid and on small grids where
    the usual slips choose another key."""
    import copy

    cases = _choose_cases()
    got, errors = {}, {}
    for case, (grid, truth, names) in cases.items():
        got[case], errors[case] = _attempt(fn, copy.deepcopy(grid), dict(truth), list(names))
    first = next((e for e in errors.values() if e), None)
    if first and "not done yet" in first:
        return _report(False, first)
    if errors["no combination keeping 40%"] and not any(errors[c] for c in cases if c != "no combination keeping 40%"):
        return _report(
            False,
            f"on a grid where no combination keeps {MIN_COLOURFULNESS:.0%}, {errors['no combination keeping 40%']}: "
            "then choose among all of them",
        )
    if first:
        return _report(False, first)
    wrong_type = next((g for g in got.values() if not isinstance(g, str)), None)
    if wrong_type is not None:
        return _report(False, f"return the grid key, a string like 'unet_all32_lab | 48 | annealed-mean'; got {wrong_type!r}")
    right = {case: choose_on_photos(*cases[case]) for case in cases}
    if got == right:
        return _report(
            True,
            f"{right['the shipped grid']} on the shipped grid, and the rule's choice on {len(cases) - 1} grids "
            "where its usual slips choose otherwise",
        )
    hints = {
        "none": "you ignored the colourfulness floor: choose only among combinations whose mean photo share "
        f"is at least {MIN_COLOURFULNESS:.0%}",
        "ratio of averages": "your floor divides the mean colourfulness by the originals' mean: average each photo's "
        "own share (colourfulness / truth[photo]) instead",
        "highest": "you chose the highest mean ΔE2000: lower is closer, so take the lowest (min)",
        "strict": f"a combination whose mean photo share is exactly {MIN_COLOURFULNESS:.0%} passes the floor: use ≥, not >",
        "no fallback": f"when no combination's mean photo share reaches {MIN_COLOURFULNESS:.0%}, choose among all of them",
    }
    for slip, hint in hints.items():
        if all(got[c] == _choose_slip(*cases[c], slip) for c in cases):
            return _report(False, hint)
    case = next(c for c in cases if got[c] != right[c])
    return _report(
        False,
        f"on {case} the rule chooses {right[case]!r}, you say {got[case]!r}: the lowest mean ΔE2000 among the keys "
        f"whose mean photo share is ≥ {MIN_COLOURFULNESS:.0%} (among all if none is)",
    )


def _photo_variant(run: Run, rgb: np.ndarray, down: str = "area", up: str = "bilinear") -> np.ndarray:
    """The photo pipeline of the Lab UNet with step 1 shrinking (`down`) or step 3 upsampling (`up`) another way:
    the picture two usual slips give, for check_photo_pipeline's hints."""
    from .colorize import PHOTO_DECODING, _pipeline, working_size

    size = working_size(*rgb.shape[:2])
    return _pipeline(run.model, run.palette, rgb, size, "fp32", PHOTO_DECODING, run.temperature, True, shrink=down, upsample=up)


def _photo_slips(run: Run, rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Hint → the picture that slip gives on `rgb`: what check_photo_pipeline compares a wrong answer with."""
    from .colorize import colorize
    from .config import TEMPERATURE

    slips = {
        "you coloured at the photo's own size: the network meets textures at a scale it never saw, and the colour "
        "comes out blotchy; shrink the grey picture to working_size(h, w) first (step 1)": colorize(
            run, rgb, precision="fp32", scale="native", decoding="annealed-mean", keep_luma=True
        ),
        "you decoded by argmax, one palette colour per pixel: take the annealed mean, "
        'run.palette.decode_logits(logits, "annealed-mean", run.temperature), which hedges where the network is '
        "unsure (step 2)": colorize(run, rgb, precision="fp32", decoding="argmax"),
        'you shrank by picking pixels (nearest): average areas, F.interpolate(grey, size, mode="area"), so that '
        "fine texture does not alias into false patterns (step 1)": _photo_variant(run, rgb, down="nearest"),
        'you upsampled the colour with nearest, which leaves blocks of one colour: use mode="bilinear" so that '
        "the colour stays smooth (step 3)": _photo_variant(run, rgb, up="nearest"),
    }
    if run.temperature != TEMPERATURE:
        slips["your annealed mean uses decode_logits' default temperature: pass the run's own, run.temperature (step 2)"] = (
            colorize(run, rgb, precision="fp32", temperature=TEMPERATURE)
        )
    return slips


def check_photo_pipeline(
    fn: Callable[..., np.ndarray], run: Run | None = None, pictures: Mapping[str, np.ndarray] | None = None
) -> None:
    """`fn(run, photo, scale="auto")` → `colorlib.colorize(run, photo, scale=scale, precision="fp32")`, to within one
    level, tried with the Lab UNet on motorcycle (its working size, 71 wide, needs padding) and chelsea, or on `run`
    and `pictures`; then with scale=32 on the first picture."""
    from .colorize import colorize, working_size
    from .pixels import luma

    if run is None:
        from .pretrained import pretrained

        run = pretrained("unet", "all", 32, "lab")
    if pictures is None:
        from .data import photos

        everyone = photos()
        pictures = {n: everyone[n] for n in ("motorcycle", "chelsea")}
    for name, rgb in pictures.items():
        h, w = rgb.shape[:2]
        got, error = _attempt(fn, run, rgb.copy())
        if error:
            if "Sizes of tensors must match" in error:
                error += " (the network halves the size twice: pad the small picture to a multiple of 4, crop the output back)"
            return _report(False, error)
        got = _as_numpy(got)
        if got.shape != rgb.shape or got.dtype != np.uint8:
            hint = (
                " (the working size: upsample the colour to the photo's, step 3)" if got.shape[:2] == working_size(h, w) else ""
            )
            return _report(False, f"return uint8 RGB at the photo's own size, {rgb.shape}; got {got.dtype} {got.shape}{hint}")
        right = colorize(run, rgb, precision="fp32")
        off = np.abs(got.astype(int) - right)
        if off.max() <= 1:
            continue
        dark = np.abs(luma(got).astype(int) - luma(rgb))
        if dark.max() > 1:
            return _report(
                False,
                f"on {name} the lightness is not the photo's own ({(dark > 1).mean():.0%} of pixels' luma off by more than "
                "1 level): put the colour under it with with_luma(colour, photo) (step 4)",
            )
        slips = {hint: np.abs(got.astype(int) - picture).mean() for hint, picture in _photo_slips(run, rgb).items()}
        hint = min(slips, key=slips.get)
        if slips[hint] <= 0.25 * off.mean():
            return _report(False, f"on {name}, {hint}")
        return _report(
            False,
            f"on {name} your picture is off colorize's by up to {off.max()} levels (mean {off.mean():.2f}): check each "
            "step: area-average to working_size, pad to a multiple of 4, annealed mean at run.temperature, bilinear "
            "up to the photo's size, with_luma",
        )
    # the chapter's live sub-grid calls fn(run, photo, scale=...): check that the scale reaches step 1
    name, rgb = next(iter(pictures.items()))
    got, error = _attempt(lambda r, p: fn(r, p, scale=32), run, rgb.copy())
    if error:
        if "scale" in error:
            error += ' (take a third argument, scale="auto", and shrink to working_size(h, w, scale))'
        return _report(False, error)
    got = _as_numpy(got)
    right = colorize(run, rgb, scale=32, precision="fp32")
    if got.shape != rgb.shape or np.abs(got.astype(int) - right).max() > 1:
        return _report(
            False,
            f"on {name} with scale=32 your picture is not colorize(run, photo, scale=32)'s: shrink to "
            "working_size(h, w, scale), so that the scale you are given reaches step 1",
        )
    sizes = ", ".join(
        f"{n} ({r.shape[1]}×{r.shape[0]}, seen at {'×'.join(map(str, working_size(*r.shape[:2])[::-1]))})"
        for n, r in pictures.items()
    )
    return _report(True, f'the same pictures as colorlib.colorize(run, photo, precision="fp32") on {sizes}, within 1 level')


# -- 06 · metrics -------------------------------------------------------------------------------


def _paled(y: np.ndarray, offset: np.ndarray, cap: bool = True) -> np.ndarray:
    """y + s·offset with each pixel's largest s ≤ 1 that keeps all three channels inside 0..255 (06's step 3)."""
    from .pixels import _room  # with_luma's paling, so the check and the library share one formula

    yf = y.astype(float)[..., None]
    room = _room(yf, offset)
    return yf + (np.minimum(1.0, room) if cap else np.where(np.isfinite(room), room, 1.0)) * offset


def check_keep_luma(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    """`fn(pictures, images)` → the pictures' colour on the images' exact BT.601 luma, uint8 RGB N×H×W×3: the input's
    luma plus each pixel's offset from its own grey, paled where it leaves 0..255, rounded by `round_to_luma`."""
    from .pixels import grey_rgb, round_to_luma, with_luma

    rng = np.random.default_rng(5)
    pictures = rng.integers(40, 216, (2, 24, 24, 3), dtype=np.uint8)
    images = rng.integers(0, 256, (2, 24, 24, 3), dtype=np.uint8)  # dark and bright targets: some colours must pale
    got, error = _attempt(fn, pictures.copy(), images.copy())
    if error:
        return _report(False, error)
    got = _as_numpy(got)
    if got.shape != pictures.shape or got.dtype != np.uint8:
        return _report(False, f"return uint8 RGB of shape {pictures.shape} (round_to_luma's result); got {got.dtype} {got.shape}")
    missed = np.abs(luma(got).astype(int) - luma(images))
    off = np.abs(got.astype(int) - with_luma(pictures, images)).mean()
    if not missed.any() and off < 0.5:
        return _report(True, "the input's luma exactly on every pixel, the colour paled only where it must, as with_luma")
    y = luma(images)
    offset = pictures.astype(float) - luma(pictures)[..., None]
    with np.errstate(over="ignore"):
        wrapped = (pictures - luma(pictures)[..., None]).astype(float)  # uint8 arithmetic wraps below 0
    slips = {
        "these are the pictures with their own lightness: build each pixel on the input's luma, y = luma(images)": pictures,
        "the hue is lost: that is the grey input. Keep each pixel's offset from its own grey": grey_rgb(images),
        "your offsets wrapped around: uint8 has no negatives, so subtract in floats, "
        "pictures.astype(float) - luma(pictures)[..., None]": round_to_luma(_paled(y, wrapped), y),
        "you took the offset from the input's grey: take it from the picture's own, luma(pictures), so that it "
        "carries only colour": round_to_luma(_paled(y, pictures.astype(float) - y[..., None]), y),
        "you clipped the channels instead of paling the colour: scale each pixel's offset by the largest s ≤ 1 that "
        "keeps y + s·offset inside 0..255 in all three channels": round_to_luma(y[..., None] + offset, y),
        "you paled every pixel: s = 1 where y + offset already fits; only the pixels that leave 0..255 pale": (
            round_to_luma(y[..., None] + 0.5 * offset, y)
        ),
        "cap s at 1: the smallest room of the three channels can exceed 1, and then it stretches the colour "
        "instead of paling it": round_to_luma(_paled(y, offset, cap=False), y),
    }
    slip = next((hint for hint, wrong in slips.items() if np.abs(got.astype(int) - wrong).mean() < 0.5), None)
    if slip:
        return _report(False, slip)
    if missed.any():
        return _report(
            False,
            f"{(missed > 0).mean():.0%} of pixels miss the input's luma (by up to {missed.max()} levels): return "
            "round_to_luma(y + s·offset, y), which rounds onto y exactly",
        )
    return _report(
        False,
        f"the luma is exact, but your colours are {off:.1f} levels from with_luma's on average: s is the smallest room "
        "of the three channels, (255 − y)/offset above grey, −y/offset below it, capped at 1",
    )


def check_colourfulness(fn: Callable[[np.ndarray], float]) -> None:
    """`fn(image H×W×3 uint8)` → Hasler & Süsstrunk's colourfulness of that one picture."""
    rng = np.random.default_rng(6)
    for image in (
        rng.integers(0, 256, (16, 16, 3), dtype=np.uint8),
        np.full((8, 8, 3), 90, np.uint8),
        np.tile(np.array([200, 30, 30], np.uint8), (8, 8, 1)),
    ):
        got, error = _attempt(fn, image.copy())
        if error:
            return _report(False, error)
        expected = float(colourfulness_per_image(image[None])[0])
        if not np.isclose(float(got), expected, rtol=1e-6, atol=1e-6):
            hint = " (grey has rg = yb = 0)" if image.std() == 0 else " (σ and μ are over the pixels of rg and yb)"
            return _report(False, f"got {float(got):.4f}, expected {expected:.4f}{hint}")
    return _report(True, "equal to colorlib.metrics.colourfulness on colourful, grey and flat-red pictures")


def keep_lightness(pictures: np.ndarray, images: np.ndarray) -> np.ndarray:
    """The pictures' colour on the input images' lightness by a CIELAB swap: their L* replaced by the images' L*
    (uint8 RGB N×H×W×3 each, uint8 RGB back). Close to the input's luma, not exact: `with_luma` is."""
    from skimage.color import lab2rgb, rgb2lab

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # out-of-gamut Lab colours: lab2rgb clips them and says so
        lab = rgb2lab(pictures)
        lab[..., 0] = rgb2lab(images)[..., 0]
        rgb = lab2rgb(lab)
    return np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)


# -- 07 · decoding ------------------------------------------------------------------------------


def check_annealed_mean(fn: Callable[[torch.Tensor, np.ndarray, float], np.ndarray]) -> None:
    """`fn(logits M×K, colours K×3 uint8, T)` → the expected colour under softmax(logits / T), M×3 in 0..255."""
    palette = load_palette("horse16")
    g = torch.Generator().manual_seed(7)
    logits = torch.randn(50, palette.num_colors, generator=g) * 3
    for t in (1.0, 0.38, 0.05):
        got, error = _attempt(fn, logits.clone(), palette.colors.copy(), t)
        if error:
            return _report(False, error)
        got = _as_numpy(got).astype(float)
        expected = palette.decode_logits(logits, "annealed-mean", t).astype(float)
        if got.shape != expected.shape:
            return _report(False, f"expected shape {expected.shape}, got {got.shape}")
        if np.abs(got - expected).max() > 1:
            hint = " (divide the logits by T before the softmax)" if t != 1 else " (softmax over the colours, then weight them)"
            return _report(False, f"at T={t:g} your colours are up to {np.abs(got - expected).max():.0f} levels off{hint}")
    return _report(True, "the annealed mean matches Palette.decode_logits at T = 1, 0.38 and 0.05")


def check_rebalance_weights(fn: Callable[[torch.Tensor, torch.Tensor, float, float], torch.Tensor]) -> None:
    """`fn(share K, lab_colours K×3, λ, σ)` → Zhang et al.'s weights ((1−λ)·p̃ + λ/K)⁻¹ with Σ p̃·w = 1, p̃ = share smoothed."""
    from .train import rebalance_weights

    palette = load_palette("horse32")
    targets = torch.from_numpy(palette.quantize(np.random.default_rng(8).integers(0, 256, (4000, 3), dtype=np.uint8)))
    share = torch.bincount(targets, minlength=palette.num_colors).double() / targets.numel()
    for lam, sigma in ((0.5, 5.0), (0.2, 5.0), (0.5, 12.0)):
        got, error = _attempt(fn, share.clone(), torch.from_numpy(palette.lab_colors), lam, sigma)
        if error:
            return _report(False, error)
        got = torch.as_tensor(got, dtype=torch.float64).reshape(-1)
        expected = rebalance_weights(targets, palette, lam, sigma).double()
        if got.shape != expected.shape:
            return _report(False, f"expected one weight per colour, shape {tuple(expected.shape)}; got {tuple(got.shape)}")
        if not torch.allclose(got, expected, rtol=1e-4):
            ratio = got / expected
            hint = (
                " — only by a constant factor: normalise so that Σ p̃·w = 1, with p̃ the smoothed frequencies"
                if torch.allclose(ratio, ratio[0].expand_as(ratio), rtol=1e-4)
                else " (smooth first: p̃ = kernel @ share with the Gaussian kernel of the CIELAB distances, then p̃ / p̃.sum())"
            )
            return _report(False, f"at λ = {lam:g}, σ = {sigma:g} your weights differ from colorlib's{hint}")
    return _report(True, "equal to colorlib.train.rebalance_weights for λ = ½ and ⅕ and two smoothing widths")


def weighted_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Chapter 07's rebalanced loss: the mean over all pixels of w[target]·CE, for logits N×K×H×W and targets N×H×W:
    `colorlib.train`'s own, called, not copied."""
    from .train import _loss

    return _loss(logits, targets, "classify", weights)


def check_weighted_cross_entropy(fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """`fn(logits N×K×H×W, targets N×H×W, weights K)` → the mean over all N·H·W pixels of w[target]·CE.

    That is colorlib's training loss with rebalancing (`colorlib.train._loss`), not PyTorch's weighted "mean".
    """
    g = torch.Generator().manual_seed(10)
    for n, k, size, scale, lowest, spread in ((2, 5, 4, 1.0, 0.3, 3.0), (3, 32, 8, 3.0, 0.8, 1.2)):
        logits = torch.randn(n, k, size, size, generator=g) * scale
        targets = torch.randint(0, k, (n, size, size), generator=g)
        weights = torch.rand(k, generator=g) * spread + lowest  # a batch's pixels' weights do not average 1
        got, error = _attempt(fn, logits.clone().requires_grad_(), targets.clone(), weights.clone())
        if error:
            return _report(False, error)
        if not isinstance(got, torch.Tensor):
            return _report(False, f"return a torch tensor (training calls loss.backward() on it), not a {type(got).__name__}")
        if got.numel() != 1:
            hint = ": that is one value per pixel, now average them" if got.shape == targets.shape else ""
            return _report(False, f"expected one number, the mean over all N·H·W pixels; got shape {tuple(got.shape)}{hint}")
        if not got.requires_grad:
            return _report(
                False,
                "the result carries no gradient: compute it from the logits with torch operations (no .item(), "
                ".numpy() or .detach()), so that training can call loss.backward()",
            )
        got, expected = float(got.detach()), weighted_cross_entropy(logits, targets, weights).item()
        if np.isclose(got, expected, rtol=1e-4):
            continue
        if np.isclose(got, F.cross_entropy(logits, targets, weight=weights).item(), rtol=1e-4):
            hint = (
                "that is PyTorch's F.cross_entropy(..., weight=w) with its default reduction='mean', which divides "
                "Σ w[y]·CE by the sum of the pixels' weights, Σ w[y]; divide by the number of pixels instead "
                "(reduction='sum', then / targets.numel())"
            )
        elif np.isclose(got, F.cross_entropy(logits, targets).item(), rtol=1e-4):
            hint = "that is the plain cross-entropy: multiply each pixel's CE by the weight of its true colour, weights[targets]"
        else:
            hint = (
                "take each pixel's CE over the colour axis (dim=1, reduction='none'), multiply it by weights[targets], "
                "and average over all N·H·W pixels"
            )
        return _report(False, f"got {got:.5f}, colorlib's training loss is {expected:.5f}: {hint}")
    return _report(True, "equal to colorlib's weighted training loss, the mean of w[y]·CE over every pixel")


# -- 10 · a model that predicts only colour -----------------------------------------------------


def check_chroma_targets(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    """`fn(rgb, bins)` → each pixel's chroma bin: the nearest of the K×2 (a*, b*) `bins` in CIELAB's a*b* plane."""
    palette = load_palette("all64-ab")
    rng = np.random.default_rng(9)
    rgb = rng.integers(0, 256, (3, 12, 12, 3), dtype=np.uint8)
    got, error = _attempt(fn, rgb.copy(), palette.points.copy())
    if error:
        return _report(False, error)
    got = _as_numpy(got)
    if got.shape != rgb.shape[:-1]:
        return _report(False, f"return one bin index per pixel, shape {rgb.shape[:-1]}; got {got.shape}")
    right = palette.quantize(rgb)
    agree = float((got == right).mean())
    if agree > 0.999:
        return _report(
            True, f"every pixel's nearest of the {palette.num_colors} (a*, b*) bins, as the `all64-ab` palette's quantize"
        )
    from skimage.color import rgb2lab

    in_rgb = np.linalg.norm(rgb[..., None, :].astype(float) - palette.colors.astype(float), axis=-1).argmin(-1)
    lab = rgb2lab(rgb)
    with_l = np.linalg.norm(lab[..., None, :] - palette.lab_colors, axis=-1).argmin(-1)
    if (got == in_rgb).mean() > 0.999 or (got == with_l).mean() > 0.999:
        return _report(
            False, "measure nearness in CIELAB's (a*, b*) plane only: skimage.color.rgb2lab(rgb)[..., 1:] against the bins"
        )
    return _report(False, f"{agree:.0%} of pixels get the nearest bin; take the argmin of the (a*, b*) distances to all K bins")


@functools.cache
def _chroma_case() -> tuple[torch.Tensor, Palette, np.ndarray]:
    """The shipped default's logits (N×H×W×K) on four pictures shipped with it, its palette and their grey input
    (the model runs in float64 once: real logits, cheap)."""
    from .inference import outputs
    from .pixels import to_grey
    from .pretrained import DEFAULT_RUN, FOLDER
    from .runs import load_run

    run = load_run(FOLDER / DEFAULT_RUN)
    grey = to_grey(run.snapshots.images[:4])
    logits = torch.cat([out for _, out in outputs(run.model, torch.from_numpy(grey)[:, None])]).permute(0, 2, 3, 1)
    return logits.contiguous(), run.palette, grey


def check_decode_chroma(fn: Callable[[torch.Tensor, np.ndarray, np.ndarray, float], np.ndarray]) -> None:
    """`fn(logits N×H×W×K, bins K×2, grey N×H×W in [0, 1], T)` → uint8 RGB N×H×W×3: the annealed mean of the bins'
    (a*, b*) under softmax(logits / T), put under the grey input's lightness, as `Palette.decode_logits`."""
    from .palette import under_lightness
    from .pixels import luma

    logits, palette, grey = _chroma_case()
    bins = palette.points

    def mean_under(probs: torch.Tensor) -> np.ndarray:
        return under_lightness(probs.double().numpy() @ bins, grey)

    for t in (0.2, 0.5):
        got, error = _attempt(fn, logits.clone(), bins.copy(), grey.copy(), t)
        if error:
            return _report(False, error)
        got = _as_numpy(got)
        right = palette.decode_logits(logits, "annealed-mean", t, lightness=grey)
        if got.shape != right.shape:
            return _report(False, f"return uint8 RGB of shape {right.shape} (pictures, rows, columns, 3); got {got.shape}")
        off = np.abs(got.astype(int) - right.astype(int))
        if (off > 1).mean() < 0.001:
            continue
        level = np.rint(grey * 255)
        if (luma(np.clip(np.rint(got.astype(float)), 0, 255).astype(np.uint8)) != level).mean() > 0.05:  # library's luma is exact
            return _report(
                False,
                "your pictures' lightness is not the input's: put the (a*, b*) under the grey with "
                "colorlib.palette.under_lightness(ab, grey), which turns the grey into L* for you",
            )
        slips = {
            "argmax": (
                under_lightness(bins[logits.argmax(-1).numpy()], grey),
                "that is the most likely bin (argmax): take the mean of all bins' (a*, b*) weighted by softmax(logits / T)",
            ),
            "times T": (mean_under((logits * t).softmax(-1)), "divide the logits by T, don't multiply: a low T sharpens"),
            "axis 0": (mean_under((logits / t).softmax(0)), "softmax over the bins, the last axis (-1), not the pictures"),
            "axis 1": (mean_under((logits / t).softmax(1)), "softmax over the bins, the last axis (-1), not the rows"),
        }
        hint = next(
            (h for slip, h in slips.values() if (np.abs(got.astype(int) - slip.astype(int)) > 1).mean() < 0.001),
            "softmax(logits / T) over the last axis, @ bins, then under_lightness(ab, grey)",
        )
        return _report(False, f"at T = {t:g}, {(off > 1).mean():.0%} of pixels are more than a level off: {hint}")
    return _report(True, "your decoding matches the library's (Palette.decode_logits) on the default's logits at T = 0.2 and 0.5")


# -- 11 · what we learned -----------------------------------------------------------------------


def check_hue_agreement(fn: Callable[[np.ndarray, np.ndarray], float]) -> None:
    """`fn(predicted, truth)` (uint8 RGB, one shape) → colorlib.metrics.hue_agreement: among the truth's pixels
    with CIELAB chroma above 20, the share whose prediction has chroma above 10 and a hue within 45°."""
    from .data import grey_rgb
    from .metrics import hue_agreement

    rng = np.random.default_rng(9)
    truth = rng.integers(0, 256, (3, 12, 12, 3), dtype=np.uint8)
    cases = {
        "a random guess": rng.integers(0, 256, truth.shape, dtype=np.uint8),
        "the truth itself": truth.copy(),
        "the grey picture": grey_rgb(truth),
        "the truth, hues turned": truth[..., [1, 2, 0]].copy(),
    }
    for name, predicted in cases.items():
        got, error = _attempt(fn, predicted.copy(), truth.copy())
        if error:
            return _report(False, error)
        expected = hue_agreement(predicted, truth)
        if not np.isclose(float(got), expected, atol=1e-9):
            hint = {
                "the grey picture": " (a prediction with chroma 10 or less names no hue: grey never agrees)",
                "the truth, hues turned": " (hue is an angle: take the difference around the circle, at most 180°)",
            }.get(name, " (count only the truth's pixels with C*ab above 20, pooled over all pictures)")
            return _report(False, f"for {name} you say {float(got):.4f}, colorlib says {expected:.4f}{hint}")
    return _report(True, "equal to colorlib.metrics.hue_agreement on a guess, the truth, grey and turned hues")


def colour_head(final: torch.nn.Conv2d) -> torch.nn.Conv2d:
    """A regressor's last layer: the classifier's `final` conv with 3 output channels (R, G, B) instead of one
    per palette colour; same input channels, kernel and padding, so the picture keeps its size."""
    return torch.nn.Conv2d(final.in_channels, 3, final.kernel_size, padding=final.padding)


def mse_loss(output: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
    """The regressor's loss: the mean squared error between `output` N×3×H×W and the true colours `rgb`
    (uint8 N×H×W×3) scaled to [0, 1], over every pixel and channel: `colorlib.train`'s own, called, not copied."""
    from .train import _loss

    return _loss(output, rgb, "regress", None)


def mine_if_right(check: Callable[[Callable], None], mine: Callable, library: Callable) -> tuple[Callable, str]:
    """(`mine`, "yours") if `check(mine)` says right, else (`library`, "the library's"), printing nothing: a live
    cell runs your function once it passes, and the library's until then."""
    import contextlib
    import io

    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        check(mine)
    if said.getvalue().startswith("✓"):
        return mine, "yours"
    if os.environ.get("COLORLIB_STRICT"):
        name = getattr(mine, "__name__", "function")
        raise ExerciseError(
            f"COLORLIB_STRICT is set and your {name} is not right yet ({said.getvalue().strip()}); "
            "fix it and run its check again, or unset COLORLIB_STRICT to go on with the library's"
        )
    return library, "the library's"


def check_colour_head(fn: Callable[[torch.nn.Conv2d], torch.nn.Module]) -> None:
    """`fn(final)` → a new trainable layer taking `final`'s input to 3 channels (R, G, B) of the same size."""
    torch.manual_seed(0)
    final = build("unet", 8, nf=4).final
    before = {k: v.clone() for k, v in final.state_dict().items()}
    head, error = _attempt(fn, final)
    if error:
        return _report(False, error)
    changed = any(not torch.equal(v, final.state_dict()[k]) for k, v in before.items())
    if head is final or changed or final.out_channels != 8:
        return _report(False, "leave the classifier's layer as it is and return a new one: nn.Conv2d(final.in_channels, 3, …)")
    if not isinstance(head, torch.nn.Module):
        return _report(False, f"return a layer (an nn.Module such as nn.Conv2d), not {type(head).__name__}")
    x = torch.rand(2, final.in_channels, 12, 10)
    out, error = _attempt(head, x)
    if error:
        return _report(
            False,
            f"your layer cannot take what the network feeds its last layer, N×{final.in_channels}×H×W ({error}): "
            "give it final.in_channels input channels",
        )
    if not isinstance(out, torch.Tensor) or out.dim() != 4:
        return _report(False, "your layer should map N×C×H×W features to an N×3×H×W tensor")
    if out.shape[1] != 3:
        return _report(
            False,
            f"your layer gives {out.shape[1]} numbers per pixel; a regressor gives 3, the pixel's R, G and B "
            f"(the classifier's gives one per palette colour, here {final.out_channels})",
        )
    if out.shape[2:] != x.shape[2:]:
        return _report(
            False,
            f"a 12×10 input comes out {out.shape[2]}×{out.shape[3]}: keep final's kernel_size and padding so "
            "each pixel gets its own colour",
        )
    if not any(p.requires_grad for p in head.parameters()):
        return _report(False, "your layer has nothing to learn: give it weights, as nn.Conv2d has")
    return _report(
        True,
        f"a new layer from the network's {final.in_channels} last features to R, G and B at every pixel, "
        f"{num_parameters(head)} parameters where the {final.out_channels}-colour classifier's head has "
        f"{num_parameters(final)}",
    )


def _mse_slips(output: torch.Tensor, rgb: torch.Tensor) -> dict[str, torch.Tensor]:
    """A usual wrong regression loss → its value on (output, rgb)."""
    truth = rgb.permute(0, 3, 1, 2).float()
    return {
        "the true colours are 0–255 and the output 0–1: divide rgb by 255 so both are on [0, 1]": F.mse_loss(output, truth),
        "you scaled the output up to 0–255; scale the colours down instead (rgb / 255), so the loss is on [0, 1]": (
            F.mse_loss(output * 255, truth)
        ),
        "take the mean over every pixel and channel, not the sum": ((output - truth / 255) ** 2).sum(),
        "the mean squared error has no square root": F.mse_loss(output, truth / 255).sqrt(),
        "square the differences: that is the mean absolute error": F.l1_loss(output, truth / 255),
        "reshape keeps the memory order and mixes pixels with channels: use rgb.permute(0, 3, 1, 2)": (
            F.mse_loss(output, rgb.reshape(output.shape).float() / 255)
        ),
    }


def check_mse_loss(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """`fn(output, rgb)` → `mse_loss`'s value, with a gradient, on a made-up batch whose sides are not 3."""
    g = torch.Generator().manual_seed(0)
    output = torch.rand(4, 3, 6, 5, generator=g).requires_grad_()
    rgb = torch.randint(0, 256, (4, 6, 5, 3), generator=g, dtype=torch.uint8)
    with warnings.catch_warnings():  # mse_loss warns of broadcasting where the axes are mixed up; the verdict says so
        warnings.simplefilter("ignore")
        got, error = _attempt(fn, output, rgb.clone())
    if error:
        if "size" in error or "shape" in error or "dimension" in error:
            error += ". rgb is N×H×W×3 but the output N×3×H×W: rgb.permute(0, 3, 1, 2) puts the channels second"
        return _report(False, error)
    if not isinstance(got, torch.Tensor):
        why = "the optimiser needs its gradient (no .item() or numpy)"
        return _report(False, f"return a tensor, not a {type(got).__name__}: {why}")
    if got.numel() != 1:
        return _report(False, f"return one number, the mean over every pixel and channel; yours has shape {tuple(got.shape)}")
    if not got.requires_grad:
        return _report(False, "your loss has no gradient: compute it from output with torch operations, no .detach()")
    expected = mse_loss(output, rgb)
    if not torch.isclose(got.detach().float(), expected.detach(), rtol=1e-5):
        with torch.no_grad():
            hint = next(
                (h for h, v in _mse_slips(output, rgb).items() if torch.isclose(got.float(), v, rtol=1e-4)),
                "average (output − rgb / 255)² over every pixel and channel, with rgb permuted to N×3×H×W",
            )
        return _report(False, f"colorlib's loss is {expected.item():.4f}, yours {got.item():.4f}: {hint}")
    (mine,) = torch.autograd.grad(got, output)
    (right,) = torch.autograd.grad(expected, output)
    if not torch.allclose(mine, right, rtol=1e-4, atol=1e-8):
        return _report(False, "the value is right but its gradient is not: compute it from output itself, not a copy")
    return _report(True, f"{got.item():.4f}, the value and gradient of the loss colorlib.train gives a regression")


# -- 08 · class models --------------------------------------------------------------------------


def check_colour_entropy(fn: Callable[[np.ndarray], float]) -> None:
    """`fn(counts)` → the entropy in bits of the frequencies `counts` (how often each palette colour occurs)."""
    from scipy.stats import entropy

    cases = [np.array([5, 0, 5, 0]), np.array([1] * 32), np.array([7, 0, 0, 0]), np.array([3, 1, 4, 1, 5, 9, 2, 6, 0, 0])]
    for counts in cases:
        got, error = _attempt(fn, counts.copy())
        if error:
            return _report(False, error)
        try:
            got = float(_as_numpy(got))
        except (TypeError, ValueError):
            return _report(False, f"return one number, the entropy in bits; got {type(got).__name__}")
        right = float(entropy(counts, base=2))
        if np.isclose(got, right, atol=1e-9):
            continue
        p = counts / counts.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            if not np.isfinite(got):
                why = "a colour that never occurs adds 0 (p log p → 0 as p → 0): leave out the zero counts"
            elif np.isclose(got, -right):
                why = "the sign: H = −Σ p log₂ p is never negative"
            elif np.isclose(got, right * np.log(2)):
                why = "you used the natural log; bits need log base 2 (np.log2)"
            elif np.isclose(got, float(-(counts[counts > 0] * np.log2(counts[counts > 0])).sum())):
                why = "turn the counts into frequencies first: p = counts / counts.sum()"
            else:
                why = f"on counts {counts.tolist()} the entropy is {right:.3f} bits (p = {np.round(p, 3).tolist()})"
        return _report(False, f"you gave {got:.3f}: {why}")
    return _report(True, "0 bits for one colour, 5 bits for 32 equally common ones, and the cases between")


def check_runner_up(fn: Callable[[np.ndarray], list[int]], matrix: np.ndarray) -> None:
    """`fn(matrix models × classes)` → for each class (column), the row of the second-lowest value."""
    got, error = _attempt(fn, np.array(matrix))
    if error:
        return _report(False, error)
    expected = np.argsort(np.asarray(matrix), axis=0, kind="stable")[1]
    got = _as_numpy(got).reshape(-1)
    if got.shape != expected.shape or not np.array_equal(got, expected):
        return _report(False, "for each column, sort the rows by value and take the second (argsort along axis 0)")
    return _report(True, "the runner-up model of every class")


def _per_model(got, names: Sequence[str], what: str) -> tuple[np.ndarray | None, str | None]:
    """The learner's `what` as floats in the order of `names`: from a dict keyed by name, or a sequence in that order."""
    try:
        if isinstance(got, Mapping):
            missing = [n for n in names if n not in got]
            if missing:
                return None, f"your {what} has no entry for {missing[0]!r}: give one number per model of `nets`, keyed alike"
            got = [got[n] for n in names]
        values = np.array([float(v) for v in got])
    except (TypeError, ValueError):
        return None, f"your {what} should be a dict {{model name: number}}; got {type(got).__name__}"
    if len(values) != len(names):
        return None, f"your {what} has {len(values)} numbers for {len(names)} models"
    return values, None


def check_column(
    fn: Callable[[Mapping[str, torch.nn.Module], np.ndarray, Palette, str], tuple],
    nets: Mapping[str, torch.nn.Module],
    pictures: np.ndarray,
    palette: Palette,
    own: str,
) -> None:
    """`fn(nets, pictures, palette, own)` → (column, extra): each net's mean per-pixel cross-entropy on
    `pictures`, as `metrics.evaluate` gives it, and the same minus the `own` net's entry."""
    import copy

    from .data import ColorData
    from .metrics import evaluate

    names = list(nets)
    # Training-mode copies, as a model straight from training would be: a right answer puts them in eval mode.
    copies = {name: copy.deepcopy(net).train() for name, net in nets.items()}

    def steps() -> int:  # BatchNorm counts its forward passes in training mode
        return sum(int(b) for m in copies.values() for n, b in m.named_buffers() if n.endswith("num_batches_tracked"))

    before = steps()
    got, error = _attempt(fn, copies, np.array(pictures), palette, own)
    if error:
        return _report(False, error)
    if not isinstance(got, Sequence) or len(got) != 2:
        return _report(False, "return two things, (column, extra): each a dict {model name: number}")
    column, error = _per_model(got[0], names, "column")
    extra, error = (None, error) if error else _per_model(got[1], names, "extra (column minus the own model's)")
    if error:
        return _report(False, error)

    data = ColorData.from_images(pictures, palette)
    scores = [evaluate(net, data.grey, data.targets, exact=False) for net in nets.values()]
    right = np.array([s["cross_entropy"] for s in scores])
    accuracy = np.array([s["pixel_accuracy"] for s in scores])
    close = lambda a, b: np.allclose(a, b, rtol=1e-4, atol=1e-4)  # noqa: E731  float32 vs float64, any batching
    if not close(column, right):
        ratio = column[0] / right[0]
        pixels = data.targets[0].numel()
        if steps() > before:
            hint = (
                "your function ran the models in training mode, where BatchNorm normalises with the batch's own "
                "statistics (and overwrites its running averages): call model.eval() on each before scoring"
            )
        elif close(column, accuracy) or close(column, 1 - accuracy):
            hint = (
                "that is the share of pixels whose argmax colour is (or is not) right, the pixel accuracy; the matrix "
                "scores cross-entropy, −log of the probability the model gives each pixel's true colour"
            )
        elif np.isclose(ratio, pixels, rtol=1e-3) or np.isclose(ratio, pixels * len(pictures), rtol=1e-3):
            hint = "you summed the pixels' cross-entropies: take the mean over every pixel of every picture"
        elif np.isclose(ratio, 1 / np.log(2), rtol=1e-3):
            hint = "that is in bits (log base 2); cross-entropy here uses the natural log, as F.cross_entropy does"
        else:
            hint = (
                "run each model on the grey pictures (ColorData.from_images(pictures, palette).grey) and take "
                "F.cross_entropy of its logits against the palette targets (.long()); if you score in batches, "
                "sum the losses and divide by the number of pixels"
            )
        i = int(np.argmax(np.abs(column - right)))
        return _report(False, f"the {names[i]} model: you say {column[i]:.4f}, colorlib says {right[i]:.4f}: {hint}")

    j = names.index(own)
    if not close(extra, right - right[j]):
        shifted = [k for k in range(len(names)) if k != j and close(extra, right - right[k])]
        if close(extra, right):
            hint = f"that is the column itself: subtract the {own} model's entry, {right[j]:.3f}, from every entry"
        elif close(extra, right[j] - right):
            hint = "the other way round: each entry minus the own model's, so a model worse than it costs a positive amount"
        elif shifted and right[shifted[0]] == right.min():
            hint = (
                f"you subtracted the column's best entry, the {names[shifted[0]]} model's; subtract the {own} "
                f"model's, trained on these pictures, even where another model beats it (then that entry is negative)"
            )
        elif shifted:
            hint = f"you subtracted the {names[shifted[0]]} model's entry; subtract the {own} model's, trained on these pictures"
        elif close(extra, right / right[j]) or close(extra, right / right[j] - 1):
            hint = f"subtract the {own} model's entry, don't divide by it: the extra cost is in the same units as the column"
        else:
            hint = f"each entry of the column minus the {own} model's entry, {right[j]:.3f}"
        return _report(False, f"your column is right, but not the column minus the {own} model's: {hint}")
    gap = np.abs(column - right).max()
    agree = "exactly" if gap == 0 else f"largest gap {gap:.0e}"
    listed = ", ".join(f"{n} {c:.3f} {e:+.3f}".replace(" -", " −") for n, c, e in zip(names, column, extra, strict=True))
    return _report(True, f"equal to colorlib's metrics.evaluate ({agree}); entry and extra over the {own} model: {listed}")


# -- 10 · the chroma model's rule ----------------------------------------------------------------


def _rule_case() -> dict[str, dict]:
    """Ten made-up candidates (grey: ΔE2000 10 on the holdout, 20 on the photos) on which each slip chooses another."""

    def cand(h: float, hc: float, hh: float, p: float, pc: float, ph: float) -> dict:
        return {
            "holdout": {"delta_e": 10 * h, "relative": h, "colourfulness": hc, "hue": hh},
            "photos": {"delta_e": 20 * p, "relative": p, "colourfulness": pc, "hue": ph},
        }

    return {
        "A": cand(0.95, 0.60, 0.60, 0.85, 0.65, 0.58),  # the choice, exactly at the colour floor on the holdout
        "B": cand(0.99, 0.70, 0.60, 0.82, 0.70, 0.60),  # feasible; lower summed ΔE2000, higher relative
        "C": cand(0.905, 0.70, 0.60, 0.90, 0.70, 0.60),  # feasible; next after A by relative ΔE2000
        "D": cand(0.98, 0.70, 0.60, 0.95, 0.70, 0.60),  # feasible; the furthest
        "E": cand(0.80, 0.70, 0.60, 0.80, 0.70, 0.50),  # too little hue agreement on the photos
        "F": cand(0.75, 0.70, 0.60, 0.80, 0.40, 0.60),  # too little colour on the photos
        "G": cand(1.02, 0.70, 0.60, 0.40, 0.70, 0.60),  # further than grey on the holdout
        "H": cand(0.45, 0.70, 0.60, 1.01, 0.70, 0.60),  # further than grey on the photos
        "I": cand(0.70, 0.50, 0.50, 0.70, 0.70, 0.60),  # too little colour and hue on the holdout
        "J": cand(0.65, 0.30, 0.20, 0.65, 0.30, 0.20),  # grey-ish: closest, but fails both floors
    }


_RULE_SLIPS = {  # the slip → selection.rule3's keywords that make it; first match wins
    "you chose by ΔE2000 alone: first keep only the candidates that pass every condition on both sets": dict(
        floors=(), grey=False
    ),
    "you left out the colour floor: a candidate must keep at least 60% of the colourfulness on both sets": dict(floors=("hue",)),
    "you left out the hue floor: a candidate needs a hue agreement of at least 0.55 on both sets": dict(
        floors=("colourfulness",)
    ),
    'you left out "closer than grey": a candidate\'s relative ΔE2000 must be below 1 on both sets': dict(grey=False),
    "you checked the conditions on the holdout only: a candidate must pass on both sets": dict(sets=("holdout",)),
    "you checked the conditions on the photos only: a candidate must pass on both sets": dict(sets=("photos",)),
    'a candidate exactly at a floor passes ("at least"): use >=, not >': dict(strict=True),
    "you summed the ΔE2000 itself: sum the relative ΔE2000 (each set's over the grey picture's), so both sets weigh alike": dict(
        by="delta_e"
    ),
    "you took the highest relative ΔE2000 among those that pass: take the lowest (lower is closer)": dict(best=max),
}


def check_choose_colour(fn: Callable[[Mapping], str]) -> None:
    """`fn(figures)` → the candidate rule 3 chooses, tried on the shipped figures (`rule_figures()`) and on ten
    made-up candidates where each usual slip chooses another."""
    import copy

    from .results import load_results

    shipped, made_up = rule_figures(), _rule_case()
    for name, figures in (("the made-up candidates", made_up), ("the shipped candidates", shipped)):
        got, error = _attempt(fn, copy.deepcopy(figures))
        if error:
            return _report(False, error)
        if isinstance(got, tuple | list):
            return _report(False, f"return the chosen candidate's name only (a key of `figures`), not {type(got).__name__}")
        right = rule3(figures)
        if got == right:
            continue
        for hint, slip in _RULE_SLIPS.items():
            if got == rule3(figures, **slip):
                return _report(False, f"on {name} you chose {got!r} where the rule chooses {right!r}: {hint}")
        return _report(
            False,
            f"on {name} you chose {got!r} where the rule chooses {right!r}: keep the candidates that pass all three "
            "conditions on both sets, then take the lowest relative ΔE2000 summed over the two sets",
        )
    choice = load_results("colour")["choice"]["candidate"]
    return _report(True, f"{got!r}, as the shipped choice ({choice!r}); every slip tried on the made-up candidates is caught")


# -- 11 · the capstone's rule ----------------------------------------------------------------------

CAPSTONE_RULE_KEYS = ("cls", "written", "temperatures", "colourfulness_at_least", "hue_agreement_at_least", "tie_within")


def _unfilled(rule: Mapping) -> list[str]:
    """The rule's keys still holding the scaffold's `...` placeholder."""
    return [
        k for k in CAPSTONE_RULE_KEYS if k in rule and (rule[k] is Ellipsis or (isinstance(rule[k], tuple) and ... in rule[k]))
    ]


def _rule_problem(rule: object) -> str | None:
    """What keeps `rule` from being applied as written, or None."""
    import datetime
    import numbers

    from .data import CLASSES
    from .errors import did_you_mean

    if not isinstance(rule, Mapping):
        return f"write the rule as a dict, like the example, not a {type(rule).__name__}"
    missing = [k for k in CAPSTONE_RULE_KEYS if k not in rule]
    if missing:
        return f"the rule lacks {', '.join(missing)}: a rule applied as written needs all of {', '.join(CAPSTONE_RULE_KEYS)}"
    unfilled = _unfilled(rule)
    if unfilled:
        return f"fill in every `...`: {', '.join(unfilled)} still open"
    if rule["cls"] not in CLASSES:
        hint = did_you_mean(rule["cls"], CLASSES)
        return f"cls must be a CIFAR-10 class, not {rule['cls']!r};{hint} the classes are {', '.join(CLASSES)}"
    try:
        datetime.date.fromisoformat(str(rule["written"]))
    except ValueError:
        return f"date the rule as 'YYYY-MM-DD' (the day you write it, before any training), not {rule['written']!r}"
    ts = rule["temperatures"]
    real = lambda x: isinstance(x, numbers.Real) and not isinstance(x, bool)  # noqa: E731
    if not isinstance(ts, Sequence) or isinstance(ts, str) or not ts or not all(real(t) and t > 0 for t in ts):
        return f"temperatures must be one or more positive numbers, such as (0.2, 0.38), not {ts!r}"
    for key in ("colourfulness_at_least", "hue_agreement_at_least"):
        if not real(rule[key]) or not 0 < rule[key] <= 1:
            return f"{key} is a share between 0 and 1 (0.5 keeps half the originals' colourfulness), not {rule[key]!r}"
    if not real(rule["tie_within"]) or rule["tie_within"] < 0:
        return f"tie_within is the ΔE2000 gap within which two candidates count as tied (0 for none), not {rule['tie_within']!r}"
    return None


def check_capstone_rule(rule: Mapping) -> None:
    """Whether the capstone's `rule` can be applied as written: a CIFAR-10 class, a date, temperatures, two floors
    and a tie-break, each a value rather than a judgement left for later."""
    problem = _rule_problem(rule)
    if isinstance(rule, Mapping) and len(_unfilled(rule)) == len(CAPSTONE_RULE_KEYS):
        return _turn(problem)  # the scaffold as given: every value still open
    if problem:
        return _report(False, problem)
    return _report(
        True,
        f"a rule you can apply as written: {rule['cls']}, {len(rule['temperatures'])} temperature(s), colourfulness ≥ "
        f"{rule['colourfulness_at_least']:g}, hue agreement ≥ {rule['hue_agreement_at_least']:g}, ties within "
        f"{rule['tie_within']:g}; now leave it alone until the test split is scored",
    )


# -- 05 · the interval over seeds and pictures --------------------------------------------------


def seed_interval(seeds_a: Sequence[float], seeds_b: Sequence[float], s_d: float, n: int) -> tuple[float, float, float]:
    """(mean a − b, low, high): the 95% interval over seeds and pictures from each model's per-seed means and the sd
    `s_d` of the n per-picture differences, by `metrics.difference` on S×n scores built to have exactly these."""
    a, b = np.asarray(seeds_a, np.float64), np.asarray(seeds_b, np.float64)
    z = np.linspace(-1.0, 1.0, n)
    z *= s_d / z.std(ddof=1)  # mean 0 and sd s_d: each picture's departure from the mean difference
    d = difference(a[:, None] + z, np.repeat(b[:, None], n, axis=1))
    return d["difference"], d["low"], d["high"]


def _seed_half(a: np.ndarray, b: np.ndarray, s_d: float, n: int, **slip) -> float:
    """The half-width, written out, with one of `check_seed_interval`'s slips switched on."""
    from scipy import stats

    ddof, seed_n = slip.get("ddof", 1), slip.get("seed_n")
    seeds = [(x.var(ddof=ddof) / (seed_n or len(x)), len(x) - 1) for x in (a, b)]
    pictures = (s_d**2 / (1 if slip.get("pictures_whole") else n), n - 1)
    parts = ([] if slip.get("no_pictures") else [pictures]) + ([] if slip.get("no_seeds") else seeds)
    if slip.get("add_sds"):
        return stats.t.ppf(0.975, n - 1) * sum(np.sqrt(v) for v, _ in parts)
    v = sum(p for p, _ in parts)
    df = {
        "pictures": n - 1,
        "pooled": len(a) + len(b) - 2,
        "sizes": v**2 / sum(p**2 / (k + 1) for p, k in parts),
    }.get(slip.get("df"), v**2 / sum(p**2 / k for p, k in parts))
    return (stats.norm.ppf(0.975) if slip.get("z") else stats.t.ppf(0.975, df)) * np.sqrt(v)


def check_seed_interval(fn: Callable[[np.ndarray, np.ndarray, float, int], tuple[float, float, float]]) -> None:
    """`fn(seeds_a, seeds_b, s_d, n)` → (mean a − b, low, high): the 95% interval with the pictures' part s_d²/n and
    each model's seeds' part s²/S, t with Welch–Satterthwaite's degrees of freedom (see `seed_interval`)."""
    a = np.array([1.645, 1.621, 1.593, 1.647, 1.570])  # five seeds of one model, three of the other
    b, s_d, n = np.array([1.850, 1.832, 1.873]), 0.3, 400
    answer, problem = _interval_answer(fn, a.copy(), b.copy(), s_d, n)
    if problem:
        return _report(False, problem)
    diff, low, high = answer
    right = seed_interval(a, b, s_d, n)
    if not np.isclose(diff, right[0]):
        return _report(False, f"the difference is mean(seeds_a) − mean(seeds_b) = {right[0]:+.4f}, you say {diff:+.4f}")
    if np.isclose(high - low, right[2] - right[1], rtol=1e-4):
        return _report(
            True,
            f"{diff:+.3f} [{low:+.3f}, {high:+.3f}] for 5 seeds against 3 on {n} pictures, as colorlib.metrics.difference",
        )
    hints = [
        ({"no_seeds": True, "df": "pictures"}, "that is the pictures' part alone: add each model's seeds' part s²/S"),
        ({"no_pictures": True}, "that leaves out the pictures' part: add s_d²/n"),
        ({"ddof": 0}, "np.var divides by S; the seeds' variance needs ddof=1 (divide by S − 1)"),
        ({"seed_n": n}, "divide each seeds' variance by its own number of seeds S, not by the n pictures"),
        ({"seed_n": 1}, "the interval is for a mean over seeds: divide each model's s² by its S"),
        ({"pictures_whole": True}, "the pictures' part is s_d² divided by n"),
        ({"add_sds": True}, "add the three variances, then take the square root; standard deviations do not add"),
        ({"z": True}, "1.96 is the normal's quantile; few seeds need t with the Welch–Satterthwaite ν"),
        ({"df": "pictures"}, "ν is not n − 1: the seeds' parts have only S − 1 degrees of freedom each; use Welch's ν"),
        ({"df": "pooled"}, "ν is not S_a + S_b − 2: use Welch's ν = V² / Σ v_j² / ν_j"),
        ({"df": "sizes"}, "each part's degrees of freedom are its count less one: n − 1, S_a − 1, S_b − 1"),
    ]
    hint = next(
        (h for slip, h in hints if np.isclose(high - low, 2 * _seed_half(a, b, s_d, n, **slip), rtol=1e-4)),
        "V = s_d²/n + s_a²/S_a + s_b²/S_b, ν = V² / Σ v_j²/ν_j, half-width t(0.975, ν)·√V",
    )
    return _report(False, f"the interval is [{right[1]:+.3f}, {right[2]:+.3f}], you say [{low:+.3f}, {high:+.3f}]: {hint}")


# -- 11 · the verdict in words -------------------------------------------------------------------


def interval_reading(a: str, b: str, measure: str, d: Mapping) -> str:
    """The verdict on A − B's 95% interval `d` ("low", "high", "difference"): "within noise" if it includes 0, else
    "<A or B> closer" (ΔE2000: the lower) or "<A or B> more colourful" (the higher)."""
    if d["low"] <= 0 <= d["high"]:  # an end at exactly 0 still includes 0
        return "within noise"
    a_lower = d["difference"] < 0  # outside the noise case this is the interval's side
    if measure == "ΔE2000":
        return f"{a if a_lower else b} closer"
    return f"{b if a_lower else a} more colourful"


class Verdicts:
    """Chapter 11's answer sheet: `show` prints one row (A − B, its interval, the verdict by `reading`, your guess
    from `guesses`: "A", "B", "noise" or ... for none); `figure` draws every ΔE2000 row with your marks."""

    def __init__(self, reading: Callable[[str, str, str, Mapping], str], guesses: Sequence) -> None:
        self.reading, self.guesses = reading, list(guesses)
        self.right: dict[int, bool] = {}  # row → was your guess right?
        self.rows: dict[int, tuple[str, str, Mapping, str]] = {}  # row → (label, measure, difference, your mark)

    def show(self, row: int, a: str, b: str, where: str, measure: str, evidence: str, d: Mapping) -> None:
        """Print row `row`: A − B on `where`, its 95% interval `d`, the verdict and your guess beside it."""
        verdict = self.reading(a, b, measure, d)
        truth = "noise" if verdict == "within noise" else "A" if verdict.startswith(a + " ") else "B"
        guess = self.guesses[row - 1]
        if guess is not ...:
            self.right[row] = guess == truth
        mark = "(no guess)" if guess is ... else "✓ you too" if self.right[row] else f"you said {guess}"
        label = f"{a} − {b}, {where}" + (" (one run)" if evidence.startswith("1 run") else "")  # pictures-only interval
        self.rows[row] = (label, measure, d, "" if guess is ... else f"you: {guess} " + "✓✗"[not self.right[row]])
        interval = f"{d['difference']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}]"
        print(f"{row:>2} {a + ' − ' + b + ', ' + where:<52} {measure:<14} {evidence:<11} {interval:<22} {verdict:<26} {mark}")

    def tally(self) -> str:
        """How many of your guesses were right, or what to do if you made none."""
        if not self.right:
            return "○ Your turn: write your guesses in GUESSES, at the top of the chapter, and run the rows again"
        return f"your guesses: {sum(self.right.values())} of {len(self.right)} right"

    def figure(self):
        """Every ΔE2000 row so far with its interval, read by its own interval, your mark beside it; a row resting
        on one run each says so in its label, since its interval covers the pictures, not the seeds."""
        from .plot import differences_figure

        rows = {f"{row} · {label}": {k: d[k] for k in ("difference", "low", "high")}
                for row, (label, measure, d, _) in self.rows.items() if measure == "ΔE2000"}  # fmt: skip
        notes = {f"{row} · {label}": mark for row, (label, _, _, mark) in self.rows.items()}
        return differences_figure({"A − B, ΔE2000": rows}, xlabel="ΔE2000 difference (left of 0: A closer)", width=9.5,
                                  notes={"A − B, ΔE2000": notes})  # fmt: skip


def _reading_slips(a: str, b: str, measure: str, d: Mapping) -> dict[str, str | None]:
    """What each usual slip reads from one interval: hint → its verdict (None where the slip reads it right)."""
    lower, higher = (a, b) if d["difference"] < 0 else (b, a)
    word = "closer" if measure == "ΔE2000" else "more colourful"
    by_sign = f"{lower if measure == 'ΔE2000' else higher} {word}"  # the verdict with the interval ignored
    flipped = f"{higher if measure == 'ΔE2000' else lower} {word}"
    includes = d["low"] <= 0 <= d["high"]
    return {
        "an end at exactly 0 still includes 0: compare with <=, not <": by_sign
        if includes and 0 in (d["low"], d["high"])
        else None,
        "an interval that includes 0 reads 'within noise', whatever the sign of its middle": by_sign if includes else None,
        "for ΔE2000 the lower is closer; for colourfulness the higher is more colourful": flipped,
    }


def check_interval_reading(fn: Callable[[str, str, str, Mapping], str]) -> None:
    """`fn(a, b, measure, d)` → the verdict on A − B's interval, as `interval_reading` words it, tried on every case."""
    cases = [
        ("UNet", "CNN", "ΔE2000", {"difference": -0.65, "low": -0.82, "high": -0.49}),
        ("big CNN", "UNet", "ΔE2000", {"difference": 0.61, "low": 0.45, "high": 0.77}),
        ("classifier", "grey", "ΔE2000", {"difference": 0.12, "low": -0.004, "high": 0.25}),
        ("a", "b", "ΔE2000", {"difference": 0.12, "low": 0.0, "high": 0.25}),
        ("rebalanced", "plain", "colourfulness", {"difference": 7.95, "low": 7.73, "high": 8.16}),
        ("CNN", "regression", "colourfulness", {"difference": -2.1, "low": -3.4, "high": -0.8}),
        ("c", "d", "colourfulness", {"difference": -0.3, "low": -0.9, "high": 0.3}),
    ]
    for a, b, measure, d in cases:
        got, error = _attempt(fn, a, b, measure, dict(d))
        if error:
            return _report(False, error)
        right = interval_reading(a, b, measure, d)
        if got == right:
            continue
        case = f"{a} − {b} by {measure}, {d['difference']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}]"
        hint = next((h for h, wrong in _reading_slips(a, b, measure, d).items() if wrong and got == wrong), None)
        return _report(
            False,
            f"on {case} you say {got!r}, the reading is {right!r}: "
            + (
                hint
                or "'within noise' if the interval includes 0, else '<the winner> closer' (ΔE2000) or "
                "'<the winner> more colourful' (colourfulness), the winner's name as given"
            ),
        )
    return _report(True, f"all {len(cases)} cases read as the series reads them, an end at 0 included")


# -- 08 · colour distance -----------------------------------------------------------------------


def _distance_slips(counts: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The usual wrong colour distances → what each gives on `counts`."""
    c = counts.astype(np.float64)
    share, whole = c / c.sum(axis=1, keepdims=True), c / c.sum()
    diff = share[:, None] - share[None]
    halve = "halve the sum: a pixel that changes colour leaves one colour and joins another, so Σ|p − q| counts it twice"
    squares = "take absolute differences, not squares: ½ Σ_k |p_k − q_k|"
    euclid = "that is the Euclidean distance; total variation adds absolute differences: ½ Σ_k |p_k − q_k|"
    shares = "turn each row of counts into shares first: counts / counts.sum(axis=1, keepdims=True)"
    return [
        (halve, np.abs(diff).sum(-1)),
        (squares, 0.5 * (diff**2).sum(-1)),
        (squares, (diff**2).sum(-1)),
        (euclid, np.sqrt((diff**2).sum(-1))),
        (euclid, 0.5 * np.sqrt((diff**2).sum(-1))),
        (shares, 0.5 * np.abs(c[:, None] - c[None]).sum(-1)),
        (shares, np.abs(c[:, None] - c[None]).sum(-1)),
        ("divide each row by its own sum, not by the total of all rows", 0.5 * np.abs(whole[:, None] - whole[None]).sum(-1)),
        ("take absolute values: the signed differences of two rows of shares always add to 0", 0.5 * diff.sum(-1)),
    ]


def check_colour_distance(fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """`fn(counts C×K)` → the C×C total-variation distances between the rows' colour shares, ½ Σ_k |p_k − q_k|, as
    `metrics.colour_distance` gives them."""
    from .metrics import colour_distance

    counts = np.array([[6, 0, 2, 0, 0], [0, 3, 0, 0, 0], [3, 0, 1, 0, 0], [2, 2, 2, 2, 2]])  # rows 0 and 2: same shares
    got, error = _attempt(fn, counts.copy())
    if error:
        return _report(False, error)
    right = colour_distance(counts)
    if got is None:
        return _report(False, "your function returns None: `return` the C×C matrix")
    try:
        got = _as_numpy(got).astype(np.float64)
    except (TypeError, ValueError):
        return _report(False, f"return a C×C array of numbers; got {type(got).__name__}")
    if got.shape != right.shape:
        hint = ": sum over the colours, the last axis" if got.shape == (*right.shape, counts.shape[1]) else ""
        return _report(False, f"return one distance per pair of rows, a 4×4 matrix here; got shape {got.shape}{hint}")
    if np.allclose(got, right, atol=1e-9):
        return _report(
            True, "0 for the same shares, 1 for no colour in common, and the cases between, as metrics.colour_distance"
        )
    hint = next((h for h, slip in _distance_slips(counts) if np.allclose(got, slip, atol=1e-9)), None)
    if hint is None and not np.allclose(got, got.T, atol=1e-9):
        hint = "the distance from row i to row j must equal the one from row j to row i"
    elif hint is None and not np.allclose(np.diag(got), 0, atol=1e-9):
        hint = "a row is 0 apart from itself: your diagonal is not 0"
    i, j = np.unravel_index(np.abs(got - right).argmax(), right.shape)
    shares = [np.round(counts[k] / counts[k].sum(), 3).tolist() for k in (i, j)]
    hint = hint or f"½ Σ_k |p_k − q_k| over their shares p = {shares[0]} and q = {shares[1]}"
    return _report(
        False, f"rows {i} and {j} of counts {counts.tolist()} are {right[i, j]:.3f} apart, you say {got[i, j]:.3f}: {hint}"
    )

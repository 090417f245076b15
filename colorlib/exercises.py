"""Checks for the notebooks' exercises: each runs your answer against colorlib's own code and says
whether it is right, CS231n-style.

    from colorlib.exercises import check_cross_entropy
    check_cross_entropy(my_cross_entropy)   # prints "✓ Right: …" or "✗ Not yet: …" with a hint

A check never raises and returns nothing (so a notebook shows only its verdict): an unfinished
answer (`raise NotImplementedError`) or one that crashes is reported as not right yet, so a
notebook still runs top to bottom.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .data import luma
from .metrics import colourfulness_per_image, difference
from .models import SKIPS, Block, build, num_parameters
from .palette import Palette, load_palette


def _report(ok: bool, message: str) -> None:
    print(("✓ Right: " if ok else "✗ Not yet: ") + message)


def _attempt(fn: Callable, *args):
    """(result, None), or (None, why it failed) if `fn` is unfinished or raises."""
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, "the exercise is not done yet: replace `raise NotImplementedError` with your code"
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
    if error >= beat:
        return _report(False, f"its error is {error:.2f}, not below {beat:.2f}: fit it on pixels like these")
    return _report(True, f"{palette.num_colors} colours, error {error:.2f} < {beat:.2f}")


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
) -> list[float]:
    """Chapter 02's training loop, written out: Adam with a one-cycle schedule to `max_lr`; the loss of every step.

    Each epoch takes the pictures in the order `torch.randperm(len(grey), generator=g)` gives (`g` seeded with
    `seed` once, before the first epoch), in batches of `batch_size` (the last may be smaller).
    """
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
            loss = F.cross_entropy(model(grey[batch]), targets[batch].long())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()  # after every step: the schedule counts steps, not epochs
            losses.append(loss.item())
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


# -- 03 · the UNet ------------------------------------------------------------------------------


def check_skip_parameters(predictions: Mapping[str, int]) -> None:
    """Your predicted parameter count of the 32-colour UNet less each skip (keys: down2, down1, grey)."""
    if set(predictions) != set(SKIPS):
        return _report(False, f"give one prediction for each skip: {', '.join(SKIPS)}")
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


# -- 04 · CNN vs UNet ---------------------------------------------------------------------------


def check_mean_sd(fn: Callable[[Sequence[float]], tuple[float, float]]) -> None:
    """`fn(values)` → (mean, sample standard deviation), the "± sd over seeds" of the tables."""
    values = [1.712, 1.698, 1.745]
    got, error = _attempt(fn, list(values))
    if error:
        return _report(False, error)
    try:
        mean, sd = (float(v) for v in got)
    except (TypeError, ValueError):
        return _report(False, f"return two numbers, (mean, sd); got {got!r}")
    if not np.isclose(mean, np.mean(values)):
        return _report(False, f"the mean of {values} is {np.mean(values):.4f}, you say {mean:.4f}")
    if np.isclose(sd, np.std(values)):
        return _report(False, "that is the population sd (divide by n); over a few seeds use the sample sd (n − 1)")
    if not np.isclose(sd, np.std(values, ddof=1)):
        return _report(False, f"the sample sd is {np.std(values, ddof=1):.4f}, you say {sd:.4f}")
    return _report(True, f"{mean:.3f} ± {sd:.3f}")


# -- 05 · how sure is a difference ------------------------------------------------------------


def check_difference(fn: Callable[[np.ndarray, np.ndarray], tuple[float, float, float]]) -> None:
    """`fn(a, b)` → (mean of a − b, low, high): the 95% paired t-interval of two models scored on the same pictures."""
    rng = np.random.default_rng(4)
    hard = rng.gamma(4.0, 2.5, 12)  # how hard each picture is, shared by both models: the pairing matters
    a, b = hard + rng.normal(0.3, 0.4, 12), hard + rng.normal(0.0, 0.4, 12)
    got, error = _attempt(fn, a.copy(), b.copy())
    if error:
        return _report(False, error)
    try:
        diff, low, high = (float(v) for v in got)
    except (TypeError, ValueError):
        return _report(False, f"return three numbers, (difference, low, high); got {got!r}")
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


# -- 09 · your own photos -----------------------------------------------------------------------


def check_keep_luma(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    """`fn(colour, grey)`: uint8 RGB H×W×3 with the colour's hue and exactly the luma `grey` (uint8 H×W)."""
    rng = np.random.default_rng(5)
    colour = rng.integers(40, 216, (24, 24, 3), dtype=np.uint8)
    grey = rng.integers(0, 256, (24, 24), dtype=np.uint8)
    got, error = _attempt(fn, colour.copy(), grey.copy())
    if error:
        return _report(False, error)
    got = _as_numpy(got)
    if got.shape != colour.shape or got.dtype != np.uint8:
        return _report(False, f"return uint8 RGB of shape {colour.shape}; got {got.dtype} {got.shape}")
    off = np.abs(luma(got).astype(int) - grey)
    if off.max() > 0:
        return _report(
            False,
            f"{(off > 0).mean():.0%} of pixels miss the target luma (by up to {off.max()} levels): "
            "after rounding, nudge channels so that Pillow's L is exactly the target",
        )
    chroma = lambda x: x.astype(float) - luma(x)[..., None]  # noqa: E731
    kept = chroma(got).ravel()
    keep = np.corrcoef(kept, chroma(colour).ravel())[0, 1] if kept.std() > 0 else 0.0
    if not keep >= 0.7:
        return _report(
            False,
            f"the luma is exact but the hue is lost (chroma correlation {keep:.2f}): keep each pixel's offset from its own grey",
        )
    return _report(True, f"luma exact on every pixel; the colour's chroma kept (correlation {keep:.2f})")


# -- 06 · metrics -------------------------------------------------------------------------------


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


def check_weighted_cross_entropy(fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """`fn(logits N×K×H×W, targets N×H×W, weights K)` → the mean over all N·H·W pixels of w[target]·CE.

    That is colorlib's training loss with rebalancing (`colorlib.train._loss`), not PyTorch's weighted "mean".
    """
    from .train import _loss

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
        got, expected = float(got.detach()), _loss(logits, targets, "classify", weights).item()
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


# -- 08 · class models --------------------------------------------------------------------------


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

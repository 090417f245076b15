"""Every exercise check accepts a right answer and rejects wrong and unfinished ones (with a hint)."""

import numpy as np
import pytest
import torch

from colorlib import exercises as ex
from colorlib.data import with_luma
from colorlib.metrics import colourfulness_per_image
from colorlib.models import build, num_parameters
from colorlib.palette import Palette, load_palette


def unfinished(*args):
    raise NotImplementedError


def verdict(capsys, result, expected: bool, needle: str = "") -> None:
    out = capsys.readouterr().out
    assert result is None  # a notebook shows only the printed verdict
    assert out.count("\n") == 1 and out.startswith("✓ Right" if expected else "✗ Not yet"), out
    assert needle in out, out


def test_nearest_colour(capsys):
    right = lambda px, c: ((px[:, None].astype(int) - c[None].astype(int)) ** 2).sum(-1).argmin(1)  # noqa: E731
    verdict(capsys, ex.check_nearest_colour(right), True)
    wrapped = lambda px, c: ((px[:, None] - c[None]) ** 2).sum(-1).argmin(1)  # noqa: E731  uint8 wraps around
    verdict(capsys, ex.check_nearest_colour(wrapped), False, "uint8")
    verdict(capsys, ex.check_nearest_colour(unfinished), False, "NotImplementedError")


def test_small_palette(capsys):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 120, (20, 8, 8, 3), dtype=np.uint8)
    verdict(capsys, ex.check_small_palette(Palette.fit(images, 8), images, 30), True)
    corners = Palette(np.array([[r, g, b] for r in (0, 255) for g in (0, 255) for b in (0, 255)], np.uint8))
    verdict(capsys, ex.check_small_palette(corners, images, 30), False, "not below")
    verdict(capsys, ex.check_small_palette(Palette.fit(images, 9), images, 30), False, "at most 8")


def test_cross_entropy(capsys):
    def right(logits, targets):
        shifted = logits - logits.amax(1, keepdim=True)
        logp = shifted - shifted.exp().sum(1, keepdim=True).log()
        return -logp.gather(1, targets[:, None]).mean()

    verdict(capsys, ex.check_cross_entropy(right), True)

    def naive(logits, targets):  # right in exact arithmetic, overflows for large logits
        p = logits.exp() / logits.exp().sum(1, keepdim=True)
        return -p.gather(1, targets[:, None]).log().mean()

    verdict(capsys, ex.check_cross_entropy(naive), False, "log-sum-exp")
    wrong_axis = lambda logits, targets: torch.nn.functional.cross_entropy(logits.transpose(1, 3), targets.transpose(1, 2))  # noqa: E731
    verdict(capsys, ex.check_cross_entropy(wrong_axis), False)
    verdict(capsys, ex.check_cross_entropy(unfinished), False, "not done yet")


def test_block_parameters(capsys):
    verdict(capsys, ex.check_block_parameters(lambda cin, cout, k: cin * cout * k * k + cout + 2 * cout), True)
    verdict(capsys, ex.check_block_parameters(lambda cin, cout, k: cin * cout * k * k + cout), False, "BatchNorm")


def test_skip_parameters(capsys):
    full = num_parameters(build("unet", 32))
    right = {"down2": full - 3 * 3 * 64 * 32, "down1": full - 3 * 3 * 32 * 3, "grey": full - 3 * 3 * 1 * 32}
    verdict(capsys, ex.check_skip_parameters(right), True)
    verdict(capsys, ex.check_skip_parameters({**right, "grey": full - 32}), False, "grey")
    verdict(capsys, ex.check_skip_parameters({"down2": 1}), False, "each skip")


def test_mean_sd(capsys):
    verdict(capsys, ex.check_mean_sd(lambda v: (np.mean(v), np.std(v, ddof=1))), True)
    verdict(capsys, ex.check_mean_sd(lambda v: (np.mean(v), np.std(v))), False, "n − 1")
    verdict(capsys, ex.check_mean_sd(lambda v: np.mean(v)), False, "two numbers")


def test_difference(capsys):
    from scipy import stats

    def paired(a, b, t=True, ddof=1, root=True):
        d = a - b
        q = stats.t.ppf(0.975, len(d) - 1) if t else 1.96
        half = q * d.std(ddof=ddof) / (np.sqrt(len(d)) if root else 1)
        return d.mean(), d.mean() - half, d.mean() + half

    verdict(capsys, ex.check_difference(paired), True)
    verdict(capsys, ex.check_difference(lambda a, b: paired(a, b, t=False)), False, "t with n − 1")
    verdict(capsys, ex.check_difference(lambda a, b: paired(a, b, ddof=0)), False, "ddof=1")
    verdict(capsys, ex.check_difference(lambda a, b: paired(a, b, root=False)), False, "√n")

    def unpaired(a, b):
        half = stats.t.ppf(0.975, len(a) - 1) * np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        return (a - b).mean(), (a - b).mean() - half, (a - b).mean() + half

    verdict(capsys, ex.check_difference(unpaired), False, "same pictures")
    verdict(capsys, ex.check_difference(lambda a, b: paired(b, a)), False, "mean of a − b")
    verdict(capsys, ex.check_difference(lambda a, b: (a - b).mean()), False, "three numbers")


def test_chroma_targets(capsys):
    from skimage.color import rgb2lab

    def nearest_ab(rgb, bins):
        ab = rgb2lab(rgb)[..., 1:]
        return np.linalg.norm(ab[..., None, :] - bins, axis=-1).argmin(-1)

    verdict(capsys, ex.check_chroma_targets(nearest_ab), True)
    palette = load_palette("all64-ab")
    in_rgb = lambda rgb, bins: np.linalg.norm(rgb[..., None, :] - palette.colors.astype(float), axis=-1).argmin(-1)  # noqa: E731
    verdict(capsys, ex.check_chroma_targets(in_rgb), False, "(a*, b*) plane only")
    verdict(capsys, ex.check_chroma_targets(lambda rgb, bins: nearest_ab(rgb, bins)[0]), False, "shape")
    verdict(capsys, ex.check_chroma_targets(lambda rgb, bins: nearest_ab(rgb, bins[::-1])), False, "of pixels")


def test_keep_luma(capsys):
    verdict(capsys, ex.check_keep_luma(lambda c, g: with_luma(c, np.repeat(g[..., None], 3, -1))), True)
    grey_only = lambda c, g: np.repeat(g[..., None], 3, -1)  # noqa: E731  exact luma, no colour
    verdict(capsys, ex.check_keep_luma(grey_only), False, "hue is lost")

    def rounded_only(c, g):  # the right idea without the exact-luma fix: some pixels miss by a level
        w = np.array([0.299, 0.587, 0.114])
        return np.clip(np.rint(c - (c @ w)[..., None] + g[..., None]), 0, 255).astype(np.uint8)

    verdict(capsys, ex.check_keep_luma(rounded_only), False, "miss the target luma")


def test_colourfulness(capsys):
    verdict(capsys, ex.check_colourfulness(lambda im: colourfulness_per_image(im[None])[0]), True)

    def no_mean_term(im):
        x = im.astype(float)
        rg, yb = x[..., 0] - x[..., 1], (x[..., 0] + x[..., 1]) / 2 - x[..., 2]
        return np.sqrt(rg.var() + yb.var())

    verdict(capsys, ex.check_colourfulness(no_mean_term), False, "expected")


def test_annealed_mean(capsys):
    def right(logits, colours, t):
        return (logits / t).softmax(-1).numpy() @ colours.astype(float)

    verdict(capsys, ex.check_annealed_mean(right), True)
    verdict(
        capsys,
        ex.check_annealed_mean(lambda logits, colours, t: logits.softmax(-1).numpy() @ colours.astype(float)),
        False,
        "divide the logits by T",
    )


def test_runner_up(capsys):
    matrix = np.array([[1.0, 3.0, 2.0], [2.0, 1.0, 3.0], [3.0, 2.0, 1.0]])
    verdict(capsys, ex.check_runner_up(lambda m: np.argsort(m, axis=0)[1], matrix), True)
    verdict(capsys, ex.check_runner_up(lambda m: np.argmin(m, axis=0), matrix), False, "second")


@pytest.mark.parametrize("name", [n for n in dir(ex) if n.startswith("check_")])
def test_every_check_is_tested_here(name):
    import inspect

    assert f"ex.{name}(" in inspect.getsource(inspect.getmodule(test_runner_up))


def test_train_loop(capsys):
    def right(model, grey, targets, epochs, batch_size, max_lr, seed):
        return ex.train_loop(model, grey, targets, epochs, batch_size, max_lr, seed)

    verdict(capsys, ex.check_train_loop(right), True)

    def constant_lr(model, grey, targets, epochs, batch_size, max_lr, seed):  # no schedule: drifts after the first step
        g, opt, losses = torch.Generator().manual_seed(seed), torch.optim.Adam(model.parameters(), lr=max_lr), []
        for _ in range(epochs):
            order = torch.randperm(len(grey), generator=g)
            for start in range(0, len(grey), batch_size):
                idx = order[start : start + batch_size]
                loss = torch.nn.functional.cross_entropy(model(grey[idx]), targets[idx].long())
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
        return losses

    verdict(capsys, ex.check_train_loop(constant_lr), False, "OneCycleLR")
    verdict(capsys, ex.check_train_loop(lambda *a: [0.0]), False, "6 steps")
    verdict(capsys, ex.check_train_loop(unfinished), False, "NotImplementedError")


def test_unet_forward(capsys):
    class Right(torch.nn.Module):
        def __init__(self):
            super().__init__()
            for name, module in build("unet", 32).named_children():
                self.add_module(name, module)

        def forward(self, grey):
            d1 = self.down1(grey)
            d2 = self.down2(d1)
            r = self.refactor(d2)
            u2 = self.up2(torch.cat([d1, self.up1(torch.cat([d2, r], 1))], 1))
            return self.final(torch.cat([grey, u2], 1))

    class Swapped(Right):  # the skip second: same shapes, other numbers
        def forward(self, grey):
            d1 = self.down1(grey)
            d2 = self.down2(d1)
            r = self.refactor(d2)
            u2 = self.up2(torch.cat([d1, self.up1(torch.cat([r, d2], 1))], 1))
            return self.final(torch.cat([grey, u2], 1))

    class NoSkip(Right):  # the CNN's path: the channels do not fit
        def forward(self, grey):
            return self.final(self.up2(self.up1(self.refactor(self.down2(self.down1(grey))))))

    class Unfinished(Right):
        def forward(self, grey):
            raise NotImplementedError

    verdict(capsys, ex.check_unet_forward(Right), True)
    verdict(capsys, ex.check_unet_forward(Swapped), False, "skip first")
    verdict(capsys, ex.check_unet_forward(NoSkip), False, "same height and width")
    verdict(capsys, ex.check_unet_forward(Unfinished), False, "NotImplementedError")
    verdict(capsys, ex.check_unet_forward(lambda: build("cnn", 32)), False, "layers differ")


def test_rebalance_weights(capsys):
    def right(share, lab, lam, sigma):
        smooth = torch.exp(-(torch.cdist(lab, lab) ** 2) / (2 * sigma**2)) @ share
        smooth = smooth / smooth.sum()
        w = 1 / ((1 - lam) * smooth + lam / len(share))
        return w / (smooth * w).sum()

    verdict(capsys, ex.check_rebalance_weights(right), True)
    verdict(capsys, ex.check_rebalance_weights(lambda s, lab, lam, sig: 3 * right(s, lab, lam, sig)), False, "constant factor")

    def unsmoothed(share, lab, lam, sigma):
        w = 1 / ((1 - lam) * share + lam / len(share))
        return w / (share * w).sum()

    verdict(capsys, ex.check_rebalance_weights(unsmoothed), False, "smooth first")
    verdict(capsys, ex.check_rebalance_weights(unfinished), False, "NotImplementedError")


def test_weighted_cross_entropy(capsys):
    from torch.nn.functional import cross_entropy

    def right(logits, targets, weights):
        return (weights[targets] * cross_entropy(logits, targets, reduction="none")).mean()

    def summed(logits, targets, weights):
        return cross_entropy(logits, targets, weight=weights, reduction="sum") / targets.numel()

    verdict(capsys, ex.check_weighted_cross_entropy(right), True)
    verdict(capsys, ex.check_weighted_cross_entropy(summed), True)
    slips = {  # a wrong answer → the words its hint must contain
        lambda x, y, w: cross_entropy(x, y, weight=w): "sum of the pixels' weights",  # PyTorch's weighted "mean"
        lambda x, y, w: cross_entropy(x, y): "plain cross-entropy",  # the weights forgotten
        lambda x, y, w: w[y] * cross_entropy(x, y, reduction="none"): "one value per pixel",
        lambda x, y, w: right(x, y, w).item(): "return a torch tensor",
        lambda x, y, w: right(x, y, w).detach(): "no gradient",
        lambda x, y, w: 2 * right(x, y, w): "average over all N·H·W pixels",
        unfinished: "NotImplementedError",
    }
    for wrong, hint in slips.items():
        verdict(capsys, ex.check_weighted_cross_entropy(wrong), False, hint)


def test_hue_agreement(capsys):
    from skimage.color import rgb2lab

    def right(predicted, truth):
        p, t = rgb2lab(predicted), rgb2lab(truth)
        cp, ct = np.hypot(p[..., 1], p[..., 2]), np.hypot(t[..., 1], t[..., 2])
        gap = np.abs(np.degrees(np.arctan2(p[..., 2], p[..., 1]) - np.arctan2(t[..., 2], t[..., 1]))) % 360
        gap = np.minimum(gap, 360 - gap)
        coloured = ct > 20
        return ((cp > 10) & (gap <= 45) & coloured).sum() / coloured.sum()

    verdict(capsys, ex.check_hue_agreement(right), True)

    def no_wrap(predicted, truth):  # forgets that hue wraps around
        p, t = rgb2lab(predicted), rgb2lab(truth)
        cp, ct = np.hypot(p[..., 1], p[..., 2]), np.hypot(t[..., 1], t[..., 2])
        gap = np.abs(np.degrees(np.arctan2(p[..., 2], p[..., 1]) - np.arctan2(t[..., 2], t[..., 1])))
        return ((cp > 10) & (gap <= 45) & (ct > 20)).sum() / (ct > 20).sum()

    verdict(capsys, ex.check_hue_agreement(no_wrap), False, "")
    verdict(capsys, ex.check_hue_agreement(lambda p, t: 0.5), False, "")
    verdict(capsys, ex.check_hue_agreement(unfinished), False, "NotImplementedError")

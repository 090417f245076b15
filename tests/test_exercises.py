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


def verdict(capsys, result, expected: bool | str, needle: str = "") -> None:
    """`expected`: True (right), False (a slip; an untouched `raise NotImplementedError` is "○ Your turn"), or "turn"
    (a placeholder answer still as the scaffold gives it)."""
    out = capsys.readouterr().out
    assert result is None  # a notebook shows only the printed verdict
    unfinished_scaffold = "not done yet" in out  # an untouched scaffold is the learner's turn, not a slip
    start = {True: "✓ Right", "turn": "○ Your turn"}.get(expected, "○ Your turn" if unfinished_scaffold else "✗ Not yet")
    assert out.count("\n") == 1 and out.startswith(start), out
    assert needle in out, out


def judges(capsys, check, answer, right: str, slips: dict[str, dict]) -> None:
    """`check` accepts `answer` (its message carrying `right`), calls an untouched scaffold the learner's turn, and
    turns down `answer` with each slip switched on (the hint its message must carry → the slip's keywords)."""
    verdict(capsys, check(answer), True, right)
    verdict(capsys, check(unfinished), False, "not done yet")
    for hint, slip in slips.items():
        verdict(capsys, check(lambda *args, slip=slip: answer(*args, **slip)), False, hint)


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
    verdict(capsys, ex.check_small_palette(corners, images, 30), "turn", "still the eight corners")
    black_white = Palette(np.array([[0, 0, 0], [255, 255, 255]], np.uint8))
    verdict(capsys, ex.check_small_palette(black_white, images, 30), False, "not below")
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
    verdict(capsys, ex.check_skip_parameters(dict.fromkeys(right, 0)), "turn", "your three predictions")
    verdict(capsys, ex.check_skip_parameters({**dict.fromkeys(right, 0), "grey": 1}), False, "too low")


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


def test_colour_entropy(capsys):
    def bits(counts):
        p = counts[counts > 0] / counts.sum()
        return -(p * np.log2(p)).sum()

    verdict(capsys, ex.check_colour_entropy(bits), True)
    slips = {
        "zero counts": lambda c: -(c / c.sum() * np.log2(c / c.sum())).sum(),
        "sign": lambda c: -bits(c),
        "natural log": lambda c: bits(c) * np.log(2),
        "frequencies first": lambda c: -(c[c > 0] * np.log2(c[c > 0])).sum(),
        "entropy is": lambda c: bits(c) + 0.1,
    }
    for message, slip in slips.items():
        verdict(capsys, ex.check_colour_entropy(slip), False, message)


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


def test_column(capsys):
    import math

    from torch.nn.functional import cross_entropy

    from colorlib.data import ColorData

    palette = load_palette("horse16")
    nets = {}
    for seed, name in enumerate(["cat", "dog", "frog"]):  # on these pictures the frog net is best, the cat net second
        torch.manual_seed(seed)
        nets[name] = build("unet", palette.num_colors, nf=4)
    pictures = np.random.default_rng(0).integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)

    def scored(nets, pictures, palette, train=False, measure="mean", batch=6):
        data = ColorData.from_images(pictures, palette)
        column = {}
        for name, net in nets.items():
            net.train(train)
            total = 0.0
            for i in range(0, len(pictures), batch):
                with torch.no_grad():
                    logits, targets = net(data.grey[i : i + batch]), data.targets[i : i + batch].long()
                total += cross_entropy(logits, targets, reduction="sum").item()
            column[name] = {
                "mean": total / data.targets.numel(),
                "sum": total,
                "bits": total / data.targets.numel() / math.log(2),
                "accuracy": (net(data.grey).argmax(1) == data.targets).float().mean().item(),
            }[measure]
        return column

    def answer(subtract=lambda c, own: {n: v - c[own] for n, v in c.items()}, **slip):
        def fn(nets, pictures, palette, own):
            column = scored(nets, pictures, palette, **slip)
            return column, subtract(column, own)

        return fn

    def as_lists(nets, pictures, palette, own):  # sequences in the order of `nets` are accepted too
        column = scored(nets, pictures, palette)
        return list(column.values()), [v - column[own] for v in column.values()]

    verdict(capsys, ex.check_column(answer(), nets, pictures, palette, "cat"), True, "dog")
    verdict(capsys, ex.check_column(answer(batch=4), nets, pictures, palette, "cat"), True)  # uneven batches, summed
    verdict(capsys, ex.check_column(as_lists, nets, pictures, palette, "cat"), True)
    steps = [int(b) for m in nets.values() for n, b in m.named_buffers() if n.endswith("num_batches_tracked")]
    slips = {  # a wrong answer → the words its hint must contain
        answer(train=True): "training mode",
        answer(measure="accuracy"): "pixel accuracy",
        answer(measure="sum"): "summed",
        answer(measure="bits"): "bits",
        answer(lambda c, own: c): "the column itself",
        answer(lambda c, own: {n: c[own] - v for n, v in c.items()}): "other way round",
        answer(lambda c, own: {n: v - min(c.values()) for n, v in c.items()}): "best entry, the frog model's",
        answer(lambda c, own: {n: v - c["dog"] for n, v in c.items()}): "the dog model's entry",
        answer(lambda c, own: {n: v / c[own] for n, v in c.items()}): "don't divide",
        answer(lambda c, own: {"cat": 0.0}): "no entry for 'dog'",
        lambda *a: scored(*a[:3]): "two things",
        unfinished: "NotImplementedError",
    }
    for wrong, hint in slips.items():
        verdict(capsys, ex.check_column(wrong, nets, pictures, palette, "cat"), False, hint)
    # the check scores copies: the learner's training-mode slip left the given models as they were
    assert steps == [int(b) for m in nets.values() for n, b in m.named_buffers() if n.endswith("num_batches_tracked")]


def test_evaluate(capsys):
    def answer(eval_mode=True, no_grad=True, restore="as found", batched=True, long=True, ce="mean", accuracy="fraction"):
        def fn(model, grey, targets, batch_size=100):
            was_training = model.training
            if eval_mode:
                model.eval()
            step = batch_size if batched else len(grey)
            loss_sum, right, losses, shares = 0.0, 0, [], []
            with torch.no_grad() if no_grad else torch.enable_grad():
                for i in range(0, len(grey), step):
                    logits, y = model(grey[i : i + step]), targets[i : i + step]
                    y = y.long() if long else y
                    loss_sum += torch.nn.functional.cross_entropy(logits, y, reduction="sum").item()
                    losses.append(torch.nn.functional.cross_entropy(logits, y).item())
                    hits = (logits.argmax(1) == y).sum().item()
                    right, shares = right + hits, [*shares, hits / y.numel()]
            if restore == "as found":
                model.train(was_training)
            elif restore == "train":
                model.train()
            pixels = targets.numel()
            mean_of = lambda v: sum(v) / len(v)  # noqa: E731
            got_ce = {"mean": loss_sum / pixels, "sum": loss_sum, "batch means": mean_of(losses), "batch sum": sum(losses)}
            share = right / pixels
            got_acc = {"fraction": share, "percent": 100 * share, "count": right, "batch means": mean_of(shares)}
            return got_ce[ce], got_acc[accuracy]

        return fn

    verdict(capsys, ex.check_evaluate(answer()), True, "4, 4 and 2")
    verdict(capsys, ex.check_evaluate(ex.evaluate_loop), True)  # colorlib's own answer, with its default batch size unused
    assert ex.accepts_evaluate(answer()) and not ex.accepts_evaluate(answer(eval_mode=False))
    assert capsys.readouterr().out == ""  # accepts_evaluate only answers
    slips = {  # a wrong answer → the words its hint must contain
        answer(eval_mode=False): "model.eval()",
        answer(no_grad=False): "torch.no_grad()",
        answer(restore="never"): "left it in eval mode",
        answer(restore="train"): "given a model in eval mode",
        answer(ce="batch means", accuracy="batch means"): "last batch holds 2 pictures",
        answer(accuracy="batch means"): "last batch holds 2 pictures",
        answer(ce="sum"): "sum over all pixels",
        answer(ce="batch sum"): "added up the batches' mean",
        answer(accuracy="percent"): "percentage",
        answer(accuracy="count"): "count of right pixels",
        answer(batched=False): "batches of batch_size = 4",
        answer(long=False): ".long()",
        lambda *a: {"cross_entropy": 2.0, "pixel_accuracy": 0.1}: "not a dict",
        lambda *a: 2.0: "two numbers",
        lambda *a: (2.0, 0.1): "never ran the model",
        unfinished: "NotImplementedError",
    }
    for wrong, hint in slips.items():
        verdict(capsys, ex.check_evaluate(wrong), False, hint)


def test_colour_head(capsys):
    nn = torch.nn
    verdict(capsys, ex.check_colour_head(ex.colour_head), True, "R, G and B")
    verdict(capsys, ex.check_colour_head(lambda f: nn.Sequential(ex.colour_head(f), nn.Sigmoid())), True)  # a choice
    slips = {  # a wrong head → the words its hint must contain
        lambda f: nn.Conv2d(f.in_channels, f.out_channels, 3, padding=1): "gives 8 numbers per pixel",
        lambda f: nn.Conv2d(f.in_channels, 1, 3, padding=1): "gives 1 numbers per pixel",
        lambda f: nn.Conv2d(f.in_channels, 3, 3): "keep final's kernel_size and padding",
        lambda f: nn.Conv2d(3, 3, 3, padding=1): "final.in_channels input channels",
        lambda f: f: "return a new one",
        lambda f: setattr(f, "out_channels", 3) or f: "return a new one",
        lambda f: nn.Conv2d(f.in_channels, 3, 3, padding=1).requires_grad_(False): "nothing to learn",
        lambda f: "conv": "return a layer",
        unfinished: "NotImplementedError",
    }
    for wrong, hint in slips.items():
        verdict(capsys, ex.check_colour_head(wrong), False, hint)


def test_mse_loss(capsys):
    from colorlib.train import _loss

    F = torch.nn.functional
    g = torch.Generator().manual_seed(1)
    output, rgb = torch.randn(3, 3, 4, 7, generator=g), torch.randint(0, 256, (3, 4, 7, 3), generator=g, dtype=torch.uint8)
    # the exercise's loss is the one training optimises (train's flattened view of the same pixels)
    torch.testing.assert_close(ex.mse_loss(output, rgb), _loss(output, rgb, "regress", None))
    verdict(capsys, ex.check_mse_loss(ex.mse_loss), True)
    verdict(capsys, ex.check_mse_loss(lambda o, r: ((o - r.permute(0, 3, 1, 2) / 255) ** 2).mean()), True)
    truth = lambda r: r.permute(0, 3, 1, 2).float()  # noqa: E731
    slips = {  # a wrong loss → the words its hint must contain
        lambda o, r: F.mse_loss(o, truth(r)): "divide rgb by 255",
        lambda o, r: F.mse_loss(o * 255, truth(r)): "scale the colours down",
        lambda o, r: ((o - truth(r) / 255) ** 2).sum(): "not the sum",
        lambda o, r: F.mse_loss(o, truth(r) / 255).sqrt(): "no square root",
        lambda o, r: F.l1_loss(o, truth(r) / 255): "mean absolute error",
        lambda o, r: F.mse_loss(o, r.reshape(o.shape).float() / 255): "permute(0, 3, 1, 2)",
        lambda o, r: F.mse_loss(o, r.float() / 255): "puts the channels second",
        lambda o, r: F.mse_loss(o, truth(r) / 255).item(): "return a tensor",
        lambda o, r: F.mse_loss(o.detach(), truth(r) / 255): "no gradient",
        lambda o, r: ((o - truth(r) / 255) ** 2).mean((1, 2, 3)): "one number",
        lambda o, r: F.mse_loss(o, truth(r) / 255) + 1: "average (output − rgb / 255)²",
        unfinished: "NotImplementedError",
    }
    for wrong, hint in slips.items():
        verdict(capsys, ex.check_mse_loss(wrong), False, hint)


def test_train_loop_takes_a_regression_loss():
    """With `loss`, the loop optimises that criterion on the targets given: its first step is the loss of the first batch."""
    import copy

    g = torch.Generator().manual_seed(2)
    grey, rgb = torch.rand(30, 1, 8, 8, generator=g), torch.randint(0, 256, (30, 8, 8, 3), generator=g, dtype=torch.uint8)
    torch.manual_seed(0)
    model = build("unet", 8, nf=4)
    model.final = ex.colour_head(model.final)
    before = copy.deepcopy(model).train()
    first = torch.randperm(30, generator=torch.Generator().manual_seed(0))[:10]
    losses = ex.train_loop(model, grey, rgb, epochs=3, batch_size=10, max_lr=1e-2, seed=0, loss=ex.mse_loss)
    assert len(losses) == 9
    assert losses[0] == pytest.approx(ex.mse_loss(before(grey[first]), rgb[first]).item(), rel=1e-5)
    assert losses[-1] < losses[0]  # it learns: the regression moves toward the true colours


def test_mine_if_right(capsys):
    right = ex.mse_loss
    assert ex.mine_if_right(ex.check_mse_loss, lambda *a: right(*a), right)[1] == "yours"
    assert ex.mine_if_right(ex.check_mse_loss, unfinished, right) == (right, "the library's")
    assert capsys.readouterr().out == ""  # it decides quietly: the live cell says which one ran


def test_mine_if_right_in_strict_mode_stops_at_an_exercise_not_yet_right(monkeypatch):
    right = ex.mse_loss
    monkeypatch.setenv("COLORLIB_STRICT", "1")
    assert ex.mine_if_right(ex.check_mse_loss, lambda *a: right(*a), right)[1] == "yours"
    with pytest.raises(ex.ExerciseError, match="COLORLIB_STRICT is set and your unfinished is not right yet"):
        ex.mine_if_right(ex.check_mse_loss, unfinished, right)


def test_progress_lists_each_exercise_by_its_latest_verdict(capsys, monkeypatch):
    monkeypatch.setattr(ex, "_VERDICTS", {})
    ex.progress()
    assert "No exercise has been checked" in capsys.readouterr().out
    ex.check_mse_loss(unfinished)
    ex.check_mean_sd(lambda values: (0.0, 0.0))  # wrong first, then right: the latest verdict counts
    ex.check_mean_sd(lambda values: (np.mean(values), np.std(values, ddof=1)))
    capsys.readouterr()
    ex.progress()
    assert capsys.readouterr().out.splitlines() == ["1 of 2 exercises right in this kernel", "  ○ mse loss", "  ✓ mean sd"]


def test_cross_entropy_grad(capsys):
    F = torch.nn.functional

    def answer(softmax=lambda z: z.softmax(1), onehot=lambda y, k: F.one_hot(y, k).permute(0, 3, 1, 2), sign=1, by="NHW"):
        def fn(logits, targets):
            n, k, h, w = logits.shape
            diff = sign * (softmax(logits) - onehot(targets, k))
            return diff / {"NHW": n * h * w, "N": n, "sum": 1}[by]

        return fn

    verdict(capsys, ex.check_cross_entropy_grad(answer()), True)

    def scattered(logits, targets):  # another right answer: subtract 1 at the true colour, in a copy
        grad = logits.softmax(1)
        grad.scatter_add_(1, targets[:, None], -torch.ones_like(grad[:, :1]))
        return grad / targets.numel()

    verdict(capsys, ex.check_cross_entropy_grad(scattered), True)

    def in_place(logits, targets):
        logits -= logits.amax(1, keepdim=True)  # harmless to the softmax, but it edits the caller's tensor
        return answer()(logits, targets)

    def by_autograd(logits, targets):
        logits.requires_grad_()
        F.cross_entropy(logits, targets).backward()
        return logits.grad

    slips = {
        answer(by="sum"): "not a sum",
        answer(by="N"): "not by N alone",
        answer(sign=-1): "wrong sign",
        answer(onehot=lambda y, k: F.one_hot(y, k).reshape(y.shape[0], k, *y.shape[1:])): "wrong axis",
        answer(onehot=lambda y, k: F.one_hot(y, k).permute(0, 3, 2, 1), softmax=lambda z: z.softmax(1).transpose(2, 3)): "",
        answer(softmax=lambda z: z.softmax(2)): "dim=2",
        answer(softmax=lambda z: z.softmax(0)): "dim=0",
        answer(softmax=lambda z: z.log_softmax(1)): "log-softmax",
        in_place: "in place",
        lambda logits, targets: answer()(logits, targets)[:, :-1]: "logits' shape",
        lambda logits, targets: answer()(logits, targets).permute(0, 2, 3, 1): "colours last",
        by_autograd: "by hand",
        unfinished: "not done yet",
    }
    for wrong, hint in slips.items():
        verdict(capsys, ex.check_cross_entropy_grad(wrong), False, hint)


def test_leave_one_out(capsys):
    from colorlib import load_results

    results = load_results("photos")
    grid, truth, photos = results["grid"], results["truth_colourfulness"], results["photos"]
    # the reference reproduces experiments/photos.py's honest row exactly, photo by photo
    row = results["rows"]["chosen pipeline, leave-one-photo-out choice"]
    assert ex.leave_one_out(grid, truth, photos) == {n: row[n]["delta_e"] for n in photos}

    def answer(choose_on=lambda n, names: [m for m in names if m != n], share="each", score="left out", mean=False):
        def fn(grid, truth, names):
            out = {}
            for n in names:
                seven = choose_on(n, names)

                def ok(k, seven=seven):
                    if share == "none":
                        return True
                    if share == "averages":
                        kept = np.mean([grid[k][m]["colourfulness"] for m in seven]) / np.mean([truth[m] for m in seven])
                        return kept >= 0.4
                    return np.mean([grid[k][m]["colourfulness"] / truth[m] for m in seven]) >= 0.4

                key = min((k for k in grid if ok(k)), key=lambda k, seven=seven: np.mean([grid[k][m]["delta_e"] for m in seven]))
                out[n] = grid[key][n]["delta_e"] if score == "left out" else np.mean([grid[key][m]["delta_e"] for m in seven])
            return float(np.mean(list(out.values()))) if mean else out

        return fn

    verdict(capsys, ex.check_leave_one_out(answer()), True, "13.08")
    verdict(capsys, ex.check_leave_one_out(ex.leave_one_out), True, "chelsea or rocket")
    slips = {
        answer(choose_on=lambda n, names: list(names)): "in-sample",
        answer(share="none"): "ignored the colourfulness floor",
        answer(share="averages"): "each photo's own share",
        answer(score="seven"): "on the left-out photo alone",
        answer(mean=True): "one number",
        lambda g, t, names: list(answer()(g, t, names).values()): "dict",
        lambda g, t, names: {n: v + 0.5 for n, v in answer()(g, t, names).items()}: "chosen on the other seven",
        unfinished: "not done yet",
    }
    for wrong, hint in slips.items():
        verdict(capsys, ex.check_leave_one_out(wrong), False, hint)


def test_cnn(capsys):
    nn = torch.nn

    def block(cin, cout, resample=None, conv=None, order="cbr", down=None, up=None):
        c = conv(cin, cout) if conv else nn.Conv2d(cin, cout, 3, padding=1)
        parts = {"c": c, "b": nn.BatchNorm2d(cout), "r": nn.ReLU()}
        layers = [parts[x] for x in order]
        if resample == "down":
            layers.append(down() if down else nn.MaxPool2d(2))
        elif resample == "up":
            layers.append(up() if up else nn.Upsample(scale_factor=2, mode="nearest"))
        return nn.Sequential(*layers)

    def answer(names=("down1", "down2", "refactor", "up1", "up2", "final"), final=None, forward=None, **slip):
        class CNN(nn.Module):
            def __init__(self, num_colors=32, nf=32):
                super().__init__()
                layers = [
                    block(1, nf, "down", **slip),
                    block(nf, 2 * nf, "down", **slip),
                    block(2 * nf, 2 * nf, **slip),
                    block(2 * nf, nf, "up", **slip),
                    block(nf, 3, "up", **slip),
                    final(num_colors, nf) if final else nn.Conv2d(3, num_colors, 3, padding=1),
                ]
                for name, layer in zip(names, layers, strict=True):
                    self.add_module(name, layer)

            def forward(self, grey):
                if forward:
                    return forward(self, grey)
                x = grey
                for layer in self.children():
                    x = layer(x)
                return x

        return CNN

    verdict(capsys, ex.check_cnn(answer()), True, "16 colours")

    class PoolFirst(nn.Module):  # the library's own order (pool before the ReLU) gives the same logits
        def __init__(self, num_colors=32, nf=32):
            super().__init__()
            for name, module in build("cnn", num_colors, nf=nf).named_children():
                self.add_module(name, module)

        def forward(self, grey):
            return self.final(self.up2(self.up1(self.refactor(self.down2(self.down1(grey))))))

    verdict(capsys, ex.check_cnn(PoolFirst), True)

    class Unfinished(nn.Module):
        def __init__(self, num_colors=32, nf=32):
            super().__init__()
            raise NotImplementedError

    def chained(forward):  # the blocks as the spec says, another forward
        return answer(forward=forward)

    def unfinished_forward(model, grey):
        raise NotImplementedError

    slips = {
        Unfinished: "NotImplementedError",
        chained(unfinished_forward): "not done yet",
        answer(order="crb"): "ReLU before BatchNorm",
        answer(order="cr"): "no nn.BatchNorm2d",
        answer(conv=lambda i, o: nn.Conv2d(i, o, 3)): "padding=0",
        answer(conv=lambda i, o: nn.Conv2d(i, o, 5, padding=2)): "5×5 kernel",
        answer(down=lambda: nn.AvgPool2d(2)): "average-pools",
        answer(down=lambda: nn.Identity()): "does not halve",
        answer(up=lambda: nn.Upsample(scale_factor=2, mode="bilinear")): "'nearest'",
        answer(up=lambda: nn.Identity()): "does not double",
        answer(names=("down1", "down2", "bottleneck", "up1", "up2", "final")): "no module named refactor",
        answer(names=("down1", "down2", "refactor", "up1", "up2", "out")): "no module named final",
        answer(final=lambda k, nf: nn.Conv2d(3, nf, 3, padding=1)): "final gives 8 channels for num_colors = 16",
        answer(final=lambda k, nf: nn.Conv2d(3, 32, 3, padding=1)): "one score per palette colour",
        answer(final=lambda k, nf: nn.Conv2d(3, k, 1)): "1×1 convolution with padding=0",
        answer(final=lambda k, nf: nn.Sequential(nn.Conv2d(3, k, 3, padding=1), nn.ReLU())): "final is a Sequential",
        chained(lambda m, x: m.final(m.up2(m.up1(m.refactor(m.down2(m.down1(x)))))).softmax(1)): "softmax",
        chained(lambda m, x: m.final(m.up2(m.up1(m.refactor(m.refactor(m.down2(m.down1(x)))))))): "each once",
        chained(lambda m, x: m.final(m.up2(m.up1(m.down2(m.down1(x)))))): "forward chains",
        lambda: build("cnn", 32): "keep the signature",
        lambda: None: "NoneType",
    }
    for wrong, hint in slips.items():
        verdict(capsys, ex.check_cnn(wrong), False, hint)

    class Stride(PoolFirst):  # halving by a stride-2 convolution instead of max-pooling
        def __init__(self, num_colors=32, nf=32):
            super().__init__(num_colors, nf)
            self.down1 = block(1, nf, conv=lambda i, o: nn.Conv2d(i, o, 3, stride=2, padding=1))

    class TransposedUp(PoolFirst):
        def __init__(self, num_colors=32, nf=32):
            super().__init__(num_colors, nf)
            self.up2 = nn.Sequential(nn.Conv2d(nf, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.ConvTranspose2d(3, 3, 2, 2))

    class Reordered(PoolFirst):  # the same six modules, assigned in another order
        def __init__(self, num_colors=32, nf=32):
            super().__init__(num_colors, nf)
            self._modules = dict(reversed(list(self._modules.items())))

    class Narrow(PoolFirst):  # down2 keeps nf channels
        def __init__(self, num_colors=32, nf=32):
            super().__init__(num_colors, nf)
            self.down2 = block(nf, nf, "down")

    class ListBlock(PoolFirst):  # block returned its list of layers, not an nn.Sequential
        def __init__(self, num_colors=32, nf=32):
            super().__init__(num_colors, nf)
            del self.up1
            self.up1 = [nn.Conv2d(2 * nf, nf, 3, padding=1), nn.BatchNorm2d(nf), nn.ReLU()]

    more = {Stride: "stride 2", TransposedUp: "transposed", Reordered: "in the order", Narrow: "32 → 32 channels"}
    more[ListBlock] = "self.up1 is a list, not a module"
    for wrong, hint in more.items():
        verdict(capsys, ex.check_cnn(wrong), False, hint)


def test_photo_pipeline(capsys):
    import torch.nn.functional as F
    from PIL import Image

    import colorlib
    from colorlib.colorize import working_size
    from colorlib.data import photos

    # a small photo keeps it fast; its working size, 71×48, needs padding to a multiple of 4
    small = {"motorcycle": np.asarray(Image.fromarray(photos()["motorcycle"]).resize((222, 150)))}

    def answer(down="area", up="bilinear", decoding="annealed-mean", luma=True, pad=True, shrink=True, uint8=True, given=True):
        def my_colorize(run, photo, scale="auto"):
            h, w = photo.shape[:2]
            # given=False: the slip of a scale parameter that never reaches step 1
            hw, ww = working_size(h, w, scale if given else "auto") if shrink else (h, w)
            grey = F.interpolate(torch.from_numpy(colorlib.to_grey(photo))[None, None], size=(hw, ww), mode=down)
            if pad:
                grey = F.pad(grey, (0, -ww % 4, 0, -hw % 4), mode="replicate")
            with torch.no_grad():
                logits = run.model(grey)[0, :, :hw, :ww]
            colour = run.palette.decode_logits(logits.permute(1, 2, 0), decoding, run.temperature)
            big = F.interpolate(torch.from_numpy(colour).permute(2, 0, 1)[None].float(), size=(h, w), mode=up)
            out = big[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()
            if not uint8:
                return out / 255
            return with_luma(out, photo) if luma else out

        return my_colorize

    verdict(capsys, ex.check_photo_pipeline(answer(), pictures=small), True, "seen at 71×48")
    slips = {
        answer(shrink=False): "photo's own size",
        answer(decoding="argmax"): "argmax",
        answer(down="nearest"): "average areas",
        answer(up="nearest"): "bilinear",
        answer(luma=False): "with_luma",
        answer(pad=False): "multiple of 4",
        answer(uint8=False): "uint8",
        lambda run, photo: colorlib.colorize(run, photo)[::2, ::2]: "photo's own size",
        unfinished: "not done yet",
        lambda run, photo: colorlib.colorize(run, photo, precision="fp32"): "scale",
        answer(given=False): "working_size(h, w, scale)",
    }
    for wrong, hint in slips.items():
        verdict(capsys, ex.check_photo_pipeline(wrong, pictures=small), False, hint)


def test_choose_on_photos(capsys):
    def answer(floor="shares", pick=min, strict=False, fallback=True):
        def fn(grid, truth, names):
            def share(k):
                if floor == "averages":
                    return np.mean([grid[k][n]["colourfulness"] for n in names]) / np.mean([truth[n] for n in names])
                return np.mean([grid[k][n]["colourfulness"] / truth[n] for n in names])

            keys = [k for k in grid if floor == "none" or (share(k) > 0.4 if strict else share(k) >= 0.4)]
            if fallback and not keys:
                keys = list(grid)
            return pick(keys, key=lambda k: np.mean([grid[k][n]["delta_e"] for n in names]))

        return fn

    verdict(capsys, ex.check_choose_on_photos(answer()), True, "unet_all32_lab | 48 | annealed-mean")
    verdict(capsys, ex.check_choose_on_photos(ex.choose_on_photos), True)
    slips = {
        answer(floor="none"): "ignored the colourfulness floor",
        answer(floor="averages"): "each photo's own share",
        answer(pick=max): "the lowest",
        answer(strict=True): "use ≥, not >",
        answer(fallback=False): "choose among all of them",
        lambda g, t, names: g[answer()(g, t, names)]: "return the grid key",
        lambda g, t, names: sorted(g)[0]: "the rule chooses",
        unfinished: "not done yet",
    }
    for wrong, hint in slips.items():
        verdict(capsys, ex.check_choose_on_photos(wrong), False, hint)


def test_mean_sd(capsys):
    verdict(capsys, ex.check_mean_sd(lambda v: (np.mean(v), np.std(v, ddof=1))), True)
    verdict(capsys, ex.check_mean_sd(lambda v: (np.mean(v), np.std(v))), False, "n − 1")
    verdict(capsys, ex.check_mean_sd(lambda v: (np.std(v, ddof=1), np.mean(v))), False, "mean first")
    verdict(capsys, ex.check_mean_sd(lambda v: (np.mean(v), np.var(v, ddof=1))), False, "variance")
    verdict(capsys, ex.check_mean_sd(lambda v: np.mean(v)), False, "two numbers")
    verdict(capsys, ex.check_mean_sd(unfinished), False, "NotImplementedError")


def test_q_values(capsys):
    def bh(p, running=True, back=True, cap=True, wrong_end=False, upwards=False):
        m, order = len(p), np.argsort(p)
        q = p[order] * m / (np.arange(m, 0, -1) if wrong_end else np.arange(1, m + 1))
        if running:
            q = np.minimum.accumulate(q) if upwards else np.minimum.accumulate(q[::-1])[::-1]
        q = np.minimum(q, 1) if cap else q
        if not back:
            return q
        out = np.empty(m)
        out[order] = q
        return out

    verdict(capsys, ex.check_q_values(bh), True)
    verdict(capsys, ex.check_q_values(lambda p: list(bh(p))), True)
    verdict(capsys, ex.check_q_values(lambda p: bh(p, running=False)), False, "not monotone")
    verdict(capsys, ex.check_q_values(lambda p: bh(p, running=False, cap=False)), False, "cap at 1")
    verdict(capsys, ex.check_q_values(lambda p: bh(p, back=False)), False, "sorted order")
    verdict(capsys, ex.check_q_values(lambda p: bh(p, wrong_end=True)), False, "rank 1 is the smallest p")
    verdict(capsys, ex.check_q_values(lambda p: bh(p, upwards=True)), False, "not from the smallest up")
    verdict(capsys, ex.check_q_values(lambda p: bh(p)[:1]), False, "one q-value per p-value")
    verdict(capsys, ex.check_q_values(unfinished), False, "NotImplementedError")


def test_choose_colour(capsys):
    def right(figures):
        passes = lambda s: s["colourfulness"] >= 0.60 and s["hue"] >= 0.55 and s["relative"] < 1  # noqa: E731
        feasible = [c for c, f in figures.items() if passes(f["holdout"]) and passes(f["photos"])]
        return min(feasible, key=lambda c: figures[c]["holdout"]["relative"] + figures[c]["photos"]["relative"])

    verdict(capsys, ex.check_choose_colour(right), True, "chroma64_rebalance0.75, T 0.2")
    verdict(capsys, ex.check_choose_colour(lambda f: ex.choose_colour(f)[0]), True)
    verdict(capsys, ex.check_choose_colour(unfinished), False, "NotImplementedError")
    verdict(capsys, ex.check_choose_colour(ex.choose_colour), False, "name only")
    slips = {
        "ΔE2000 alone": lambda s: True,
        "colour floor": lambda s: s["hue"] >= 0.55 and s["relative"] < 1,
        "hue floor": lambda s: s["colourfulness"] >= 0.60 and s["relative"] < 1,
        "closer than grey": lambda s: s["colourfulness"] >= 0.60 and s["hue"] >= 0.55,
        "use >=": lambda s: s["colourfulness"] > 0.60 and s["hue"] > 0.55 and s["relative"] < 1,
    }
    for hint, passes in slips.items():

        def wrong(figures, passes=passes):
            feasible = [c for c, f in figures.items() if passes(f["holdout"]) and passes(f["photos"])]
            return min(feasible, key=lambda c: figures[c]["holdout"]["relative"] + figures[c]["photos"]["relative"])

        verdict(capsys, ex.check_choose_colour(wrong), False, hint)
    on_holdout = lambda f: [c for c, v in f.items() if ex.colour_feasible(v["holdout"])]  # noqa: E731
    by_sum = lambda f, key: lambda c: f[c]["holdout"][key] + f[c]["photos"][key]  # noqa: E731
    feasible = lambda f: [c for c, v in f.items() if ex.colour_feasible(v["holdout"]) and ex.colour_feasible(v["photos"])]  # noqa: E731
    verdict(capsys, ex.check_choose_colour(lambda f: min(on_holdout(f), key=by_sum(f, "relative"))), False, "holdout only")
    verdict(capsys, ex.check_choose_colour(lambda f: min(feasible(f), key=by_sum(f, "delta_e"))), False, "relative ΔE2000")
    verdict(capsys, ex.check_choose_colour(lambda f: max(feasible(f), key=by_sum(f, "relative"))), False, "the lowest")


def test_keep_luma(capsys):
    from colorlib.data import luma
    from colorlib.pixels import grey_rgb, round_to_luma

    verdict(capsys, ex.check_keep_luma(with_luma), True)

    def mine(pictures, images, wrap=False, base="own", scale=True, everywhere=False):  # 06's steps; slips get one wrong
        y = luma(images)
        grey = luma(pictures if base == "own" else images)[..., None]
        offset = (pictures - grey).astype(float) if wrap else pictures.astype(float) - grey
        yf = y.astype(float)[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(offset > 0, (255 - yf) / offset, np.where(offset < 0, -yf / offset, np.inf))
        s = room.min(-1, keepdims=True) if everywhere else np.minimum(1.0, room.min(-1, keepdims=True))
        return round_to_luma(yf + (s if scale else 1) * offset, y)

    def by_hand(pictures, images):  # rounding by hand too: round, then add each pixel's miss to all three channels
        y = luma(images).astype(float)[..., None]
        chroma = pictures.astype(float) - luma(pictures)[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(chroma > 0, (255 - y) / chroma, np.where(chroma < 0, -y / chroma, np.inf))
        out = np.rint(y + np.minimum(1.0, room.min(-1, keepdims=True)) * chroma)
        out += y - luma(np.clip(out, 0, 255).astype(np.uint8))[..., None]
        return np.clip(out, 0, 255).astype(np.uint8)

    verdict(capsys, ex.check_keep_luma(mine), True)
    verdict(capsys, ex.check_keep_luma(by_hand), True)
    slips = {
        lambda p, i: p: "their own lightness",
        lambda p, i: grey_rgb(i): "hue is lost",
        lambda p, i: mine(p, i, wrap=True): "wrapped around",
        lambda p, i: mine(p, i, scale=False): "instead of paling",
        lambda p, i: mine(p, i)[..., ::-1].copy(): "miss the input's luma",
        lambda p, i: mine(p, i, everywhere=True): "cap s at 1",
        lambda p, i: mine(p, i).astype(float): "return uint8 RGB",
        unfinished: "not done yet",
    }
    for wrong, hint in slips.items():
        verdict(capsys, ex.check_keep_luma(wrong), False, hint)


def test_round_to_luma_hits_the_lightness_exactly_from_the_nearest_rounding():
    from colorlib.data import luma
    from colorlib.errors import DataError
    from colorlib.pixels import round_to_luma

    rng = np.random.default_rng(0)
    y = rng.integers(0, 256, (4, 16, 16), dtype=np.uint8)
    offset = rng.normal(0, 20, (4, 16, 16, 3))
    offset -= (offset @ np.array([0.299, 0.587, 0.114]))[..., None]  # luma 0: colour only
    target = np.clip(y[..., None] + offset, 0, 255)
    inside = ((y[..., None] + offset >= 0) & (y[..., None] + offset <= 255)).all(-1)
    out = round_to_luma(target, y)
    assert out.dtype == np.uint8 and (luma(out)[inside] == y[inside]).all()
    assert np.abs(out.astype(float) - target).max() <= 1  # one of the 8 roundings down or up
    np.testing.assert_array_equal(round_to_luma(np.repeat(y[..., None], 3, -1).astype(float), y), np.repeat(y[..., None], 3, -1))
    with pytest.raises(DataError, match="target"):
        round_to_luma(target[..., :2], y)


def test_capstone_rule(capsys):
    right = dict(cls="ship", written="2026-12-07", temperatures=(0.2, 0.38), colourfulness_at_least=0.5,
                 hue_agreement_at_least=0.4, tie_within=0.01)  # fmt: skip
    verdict(capsys, ex.check_capstone_rule(right), True, "ship, 2 temperature(s)")
    verdict(capsys, ex.check_capstone_rule({**right, "tie_within": 0}), True)
    scaffold = dict.fromkeys(ex.CAPSTONE_RULE_KEYS, ...) | {"temperatures": (...,)}
    verdict(capsys, ex.check_capstone_rule(scaffold), "turn", "fill in every `...`: cls, written, temperatures")
    verdict(capsys, ex.check_capstone_rule({**right, "tie_within": ...}), False, "fill in every `...`: tie_within")
    slips = [
        ([("cls", "ships")], "did you mean ship?"),
        ([("written", "yesterday")], "YYYY-MM-DD"),
        ([("temperatures", ())], "one or more positive numbers"),
        ([("temperatures", (0.2, -1))], "positive numbers"),
        ([("colourfulness_at_least", 50)], "share between 0 and 1"),
        ([("hue_agreement_at_least", 0)], "share between 0 and 1"),
        ([("tie_within", -0.1)], "tie_within"),
    ]
    for changes, hint in slips:
        verdict(capsys, ex.check_capstone_rule({**right, **dict(changes)}), False, hint)
    undated = {k: v for k, v in right.items() if k != "written"}
    verdict(capsys, ex.check_capstone_rule(undated), False, "lacks written")
    verdict(capsys, ex.check_capstone_rule([right]), False, "a dict")


def test_kmeans(capsys):
    def lloyd(pixels, centres, iterations=10, pick=np.argmin, mean=lambda x: x.mean(0), keep_empty=True, cast=float):
        pixels, centres = np.asarray(pixels, float), np.array(centres, float)
        for _ in range(iterations):
            nearest = pick(((pixels[:, None] - centres[None].astype(cast)) ** 2).sum(-1), axis=1)
            for k in range(len(centres)):
                if np.any(nearest == k) or not keep_empty:
                    centres[k] = mean(pixels[nearest == k])
        return centres

    verdict(capsys, ex.check_kmeans(lloyd), True, "stays put")
    # the reference is scikit-learn's plain k-means from the same start, whatever the number of rounds
    from sklearn.cluster import KMeans

    pixels, start = ex._kmeans_case()
    for rounds in (1, 6, 20):
        sklearn = KMeans(len(start), init=start, n_init=1, max_iter=rounds, tol=0, algorithm="lloyd").fit(pixels.astype(float))
        assert np.allclose(ex.kmeans(pixels, start, rounds), sklearn.cluster_centers_, atol=1e-9)
    assert np.array_equal(start, ex._kmeans_case()[1])  # kmeans left its start alone
    slips = {
        lambda p, c, iterations=10: np.array(c, float): "never moved",
        lambda p, c, iterations=10: lloyd(p, c, iterations, pick=np.argmax): "farthest centre",
        lambda p, c, iterations=10: lloyd(p, c, iterations, mean=lambda x: x.mean(1)): "over axis 0",
        lambda p, c, iterations=10: lloyd(p, c, iterations, mean=lambda x: x.mean()): "averaged the channels too",
        lambda p, c, iterations=10: lloyd(p, c, iterations, cast=int): "whole numbers (my_nearest's int conversion",
        lambda p, c, iterations=10: lloyd(p, c, 1): "one round",
        lambda p, c, iterations=10: lloyd(p, c): "10 rounds",
        lambda p, c, iterations=10: lloyd(p, c, iterations, keep_empty=False): "became NaN",
        lambda p, c, iterations=10: lloyd(p, c, iterations).astype(np.uint8): "uint8 arithmetic",
        lambda p, c, iterations=10: ((np.asarray(p, float)[:, None] - c[None]) ** 2).sum(-1).argmin(1): "not each pixel's",
        unfinished: "not done yet",
    }
    for wrong, hint in slips.items():
        verdict(capsys, ex.check_kmeans(wrong), False, hint)

    def far_pixel(pixels, centres, iterations=10):  # scikit-learn's rule for an empty cluster: not the exercise's
        pixels, centres = np.asarray(pixels, float), np.array(centres, float)
        for _ in range(iterations):
            d = ((pixels[:, None] - centres[None]) ** 2).sum(-1)
            nearest = d.argmin(1)
            for k in range(len(centres)):
                centres[k] = pixels[nearest == k].mean(0) if np.any(nearest == k) else pixels[d.min(1).argmax()]
        return centres

    verdict(capsys, ex.check_kmeans(far_pixel), False, "leaves that centre where it is")


def test_unet(capsys):
    nn = torch.nn

    def block(cin, cout, resample=None):
        layers = [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
        if resample == "down":
            layers.append(nn.MaxPool2d(2))
        elif resample == "up":
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        return nn.Sequential(*layers)

    def answer(up1=None, up2=None, final=None, forward=None, names=None):
        class UNet(nn.Module):
            def __init__(self, num_colors=32, nf=32):
                super().__init__()
                self.down1 = block(1, nf, "down")
                self.down2 = block(nf, 2 * nf, "down")
                self.refactor = block(2 * nf, 2 * nf)
                self.up1 = up1(nf) if up1 else block(2 * nf + 2 * nf, nf, "up")
                self.up2 = up2(nf) if up2 else block(nf + nf, 3, "up")
                self.final = final(num_colors) if final else nn.Conv2d(3 + 1, num_colors, 3, padding=1)
                if names:
                    self._modules = {names.get(k, k): v for k, v in self._modules.items()}

            def forward(self, grey):
                if forward:
                    return forward(self, grey)
                d1 = self.down1(grey)
                d2 = self.down2(d1)
                r = self.refactor(d2)
                u1 = self.up1(torch.cat([d2, r], dim=1))
                u2 = self.up2(torch.cat([d1, u1], dim=1))
                return self.final(torch.cat([grey, u2], dim=1))

        return UNet

    verdict(capsys, ex.check_unet(answer()), True, "16 colours")

    def swapped(m, grey):  # each skip second: the same shapes, other numbers
        d1 = m.down1(grey)
        d2 = m.down2(d1)
        u1 = m.up1(torch.cat([m.refactor(d2), d2], 1))
        return m.final(torch.cat([m.up2(torch.cat([u1, d1], 1)), grey], 1))

    def unfinished_forward(m, grey):
        raise NotImplementedError

    class Unfinished(nn.Module):  # the scaffold as shipped: __init__ stops after the given blocks
        def __init__(self, num_colors=32, nf=32):
            super().__init__()
            self.down1 = block(1, nf, "down")
            raise NotImplementedError

    slips = {
        Unfinished: "not done yet",
        answer(forward=unfinished_forward): "not done yet",
        answer(forward=swapped): "put each skip first",
        answer(forward=lambda m, x: m.final(m.up2(m.up1(m.refactor(m.down2(m.down1(x))))))): "same height and width",
        answer(up1=lambda nf: block(2 * nf, nf, "up")): "up1 reads 64 channels, the library's 128",
        answer(up1=lambda nf: block(128, nf, "up")): "MyUNet(num_colors=16, nf=8): up1 reads 128",
        answer(up2=lambda nf: block(nf, 3, "up")): "the down1 skip's nf",
        answer(up2=lambda nf: block(nf + nf, nf, "up")): "up2 gives 32 channels, the library's 3",
        answer(final=lambda k: nn.Conv2d(3, k, 3, padding=1)): "the grey skip's 1",
        answer(final=lambda k: nn.Conv2d(4, 32, 3, padding=1)): "final gives 32 channels for num_colors = 16",
        answer(final=lambda k: nn.Conv2d(4, k, 1)): "3×3 convolution with padding=1",
        answer(up1=lambda nf: block(4 * nf, nf)): "does not double",
        answer(names={"final": "out"}): "no module named final",
        lambda: build("unet", 32): "keep the signature",
        lambda: build("cnn", 32): "up1 reads 64 channels",
    }
    for wrong, hint in slips.items():
        verdict(capsys, ex.check_unet(wrong), False, hint)


def test_seed_interval(capsys):
    from scipy import stats

    def welch(seeds_a, seeds_b, s_d, n, ddof=1, seed_n=None, no_seeds=False, z=False, df=None):
        parts = [(s_d**2 / n, n - 1)]
        if not no_seeds:
            parts += [(np.var(x, ddof=ddof) / (seed_n or len(x)), len(x) - 1) for x in (seeds_a, seeds_b)]
        v = sum(p for p, _ in parts)
        nu = df(seeds_a, seeds_b, n) if df else v**2 / sum(p**2 / k for p, k in parts)
        half = (1.96 if z else stats.t.ppf(0.975, nu)) * np.sqrt(v)
        diff = np.mean(seeds_a) - np.mean(seeds_b)
        return diff, diff - half, diff + half

    verdict(capsys, ex.check_seed_interval(welch), True)
    verdict(capsys, ex.check_seed_interval(ex.seed_interval), True)
    verdict(capsys, ex.check_seed_interval(unfinished), False, "not done yet")
    verdict(
        capsys,
        ex.check_seed_interval(lambda a, b, s, n: welch(a, b, s, n, no_seeds=True, df=lambda a, b, n: n - 1)),
        False,
        "seeds' part",
    )
    verdict(capsys, ex.check_seed_interval(lambda a, b, s, n: welch(a, b, s, n, ddof=0)), False, "ddof=1")
    verdict(capsys, ex.check_seed_interval(lambda a, b, s, n: welch(a, b, s, n, seed_n=n)), False, "not by the n pictures")
    verdict(capsys, ex.check_seed_interval(lambda a, b, s, n: welch(a, b, s, n, z=True)), False, "normal's quantile")
    verdict(
        capsys, ex.check_seed_interval(lambda a, b, s, n: welch(a, b, s, n, df=lambda a, b, n: n - 1)), False, "ν is not n − 1"
    )
    pooled = lambda a, b, s, n: welch(a, b, s, n, df=lambda a, b, n: len(a) + len(b) - 2)  # noqa: E731
    verdict(capsys, ex.check_seed_interval(pooled), False, "S_a + S_b − 2")
    verdict(capsys, ex.check_seed_interval(lambda a, b, s, n: welch(b, a, s, n)), False, "mean(seeds_a) − mean(seeds_b)")
    verdict(capsys, ex.check_seed_interval(lambda a, b, s, n: np.mean(a) - np.mean(b)), False, "three numbers")


def test_decode_chroma(capsys):
    from skimage.color import lab2rgb

    from colorlib.palette import under_lightness

    def annealed(logits, bins, grey, t, axis=-1, times=False):
        return under_lightness((logits * t if times else logits / t).softmax(axis).double().numpy() @ bins, grey)

    verdict(capsys, ex.check_decode_chroma(annealed), True)

    def own_lightness(logits, bins, grey, t):  # the chroma at L* = 100 × grey: the grey read as L*, not converted
        lab = np.concatenate([100 * grey[..., None], (logits / t).softmax(-1).double().numpy() @ bins], -1)
        return np.rint(np.clip(lab2rgb(lab), 0, 1) * 255).astype(np.uint8)

    slips = {
        "most likely bin (argmax)": lambda logits, bins, grey, t: under_lightness(bins[logits.argmax(-1).numpy()], grey),
        "divide the logits by T": lambda logits, bins, grey, t: annealed(logits, bins, grey, t, times=True),
        "not the pictures": lambda logits, bins, grey, t: annealed(logits, bins, grey, t, axis=0),
        "not the rows": lambda logits, bins, grey, t: annealed(logits, bins, grey, t, axis=1),
        "lightness is not the input's": own_lightness,
    }
    for needle, slip in slips.items():
        verdict(capsys, ex.check_decode_chroma(slip), False, needle)
    verdict(capsys, ex.check_decode_chroma(unfinished), False, "NotImplementedError")


def test_interval_reading():
    def d(diff, low, high):
        return {"difference": diff, "low": low, "high": high}

    assert ex.interval_reading("UNet", "CNN", "ΔE2000", d(-0.65, -0.82, -0.49)) == "UNet closer"
    assert ex.interval_reading("big CNN", "UNet", "ΔE2000", d(0.61, 0.45, 0.77)) == "UNet closer"
    assert ex.interval_reading("a", "b", "ΔE2000", d(0.12, 0.0, 0.25)) == "within noise"  # an end at 0 includes 0
    assert ex.interval_reading("rebalanced", "plain", "colourfulness", d(7.9, 7.7, 8.2)) == "rebalanced more colourful"
    assert ex.interval_reading("CNN", "regression", "colourfulness", d(-2.1, -3.4, -0.8)) == "regression more colourful"


def test_keep_lightness_keeps_the_inputs_lstar_but_not_its_luma():
    from skimage.color import rgb2lab

    from colorlib.data import luma

    rng = np.random.default_rng(6)
    pictures, images = (rng.integers(30, 226, (2, 16, 16, 3), dtype=np.uint8) for _ in range(2))
    swapped = ex.keep_lightness(pictures, images)
    assert swapped.dtype == np.uint8 and swapped.shape == pictures.shape
    lightness = rgb2lab(images)[..., 0]
    kept, before = (np.abs(rgb2lab(x)[..., 0] - lightness).mean() for x in (swapped, pictures))
    assert kept < 0.1 * before  # L* taken from the images, up to rounding and out-of-gamut clipping
    assert not np.array_equal(luma(swapped), luma(images))  # luma, what the grey input is made of, is not


def test_colour_distance(capsys):
    def distance(counts, halve=True, power=1, root=False, shares=True, row=True, signed=False, asymmetric=False):
        c = counts.astype(float)
        c = (c / c.sum(axis=1, keepdims=True) if row else c / c.sum()) if shares else c
        diff = c[:, None] - c[None]
        d = (diff if signed else np.abs(diff) ** power).sum(-1)
        d = np.sqrt(d) if root else d
        d = 0.5 * d if halve else d
        return np.triu(d) if asymmetric else d

    judges(
        capsys,
        ex.check_colour_distance,
        distance,
        "metrics.colour_distance",
        {
            "halve the sum": {"halve": False},
            "not squares": {"power": 2},
            "Euclidean": {"power": 2, "root": True},
            "into shares first": {"shares": False},
            "its own sum": {"row": False},
            "absolute values": {"signed": True},
            "from row j to row i": {"asymmetric": True},
        },
    )
    verdict(capsys, ex.check_colour_distance(lambda c: distance(c) + np.eye(len(c))), False, "diagonal is not 0")
    verdict(capsys, ex.check_colour_distance(lambda c: distance(c) * 1.1), False, "over their shares")
    verdict(capsys, ex.check_colour_distance(lambda c: np.abs(c[:, None] - c[None]) / 2), False, "the last axis")
    verdict(capsys, ex.check_colour_distance(lambda c: None), False, "returns None")


def test_colour_distance_is_the_share_of_pixels_that_must_change_colour():
    from scipy.spatial.distance import cdist

    from colorlib.metrics import colour_distance

    counts = np.array([[6, 0, 2, 0], [0, 3, 0, 0], [3, 0, 1, 0], [1, 1, 1, 1]])
    d = colour_distance(counts)
    assert d.shape == (4, 4) and np.allclose(d, d.T) and np.allclose(np.diag(d), 0)
    assert np.isclose(d[0, 1], 1.0) and np.isclose(d[0, 2], 0.0)  # no colour in common; the same shares
    assert np.isclose(d[0, 3], 0.5)  # from (¾, 0, ¼, 0) to ¼ each: half the pixels move
    shares = counts / counts.sum(axis=1, keepdims=True)
    assert np.allclose(colour_distance(shares), d) and np.allclose(d, cdist(shares, shares, "cityblock") / 2)


def test_interval_reading_check(capsys):
    verdict(capsys, ex.check_interval_reading(ex.interval_reading), True, "all 7 cases")

    def reading(a, b, measure, d, strict=False, sign_only=False, flip=False):
        inside = (d["low"] < 0 < d["high"]) if strict else (d["low"] <= 0 <= d["high"])
        if inside and not sign_only:
            return "within noise"
        lower, higher = (a, b) if d["difference"] < 0 else (b, a)
        if measure == "ΔE2000":
            return f"{higher if flip else lower} closer"
        return f"{lower if flip else higher} more colourful"

    verdict(capsys, ex.check_interval_reading(reading), True)
    verdict(capsys, ex.check_interval_reading(lambda *x: reading(*x, strict=True)), False, "exactly 0")
    verdict(capsys, ex.check_interval_reading(lambda *x: reading(*x, sign_only=True)), False, "whatever the sign")
    verdict(capsys, ex.check_interval_reading(lambda *x: reading(*x, flip=True)), False, "the lower is closer")
    verdict(capsys, ex.check_interval_reading(lambda a, b, m, d: "A closer"), False, "the winner's name")
    verdict(capsys, ex.check_interval_reading(unfinished), False, "not done yet")


def test_verdicts_prints_each_row_with_the_guess_and_draws_the_delta_e_rows(capsys):
    answers = ex.Verdicts(ex.interval_reading, ["A", "noise", ...])
    answers.show(1, "UNet", "CNN", "horses", "ΔE2000", "5 seeds", {"difference": -0.65, "low": -0.82, "high": -0.49})
    answers.show(2, "twin", "plain", "horses", "colourfulness", "1 run", {"difference": 7.9, "low": 7.7, "high": 8.2})
    answers.show(3, "chroma", "grey", "test", "ΔE2000", "1 run", {"difference": -0.06, "low": -0.15, "high": 0.03})
    rows = capsys.readouterr().out.splitlines()
    assert "UNet closer" in rows[0] and rows[0].endswith("✓ you too")
    assert "twin more colourful" in rows[1] and rows[1].endswith("you said noise")
    assert "within noise" in rows[2] and rows[2].endswith("(no guess)")
    assert answers.tally() == "your guesses: 1 of 2 right"
    assert "Your turn" in ex.Verdicts(ex.interval_reading, [...]).tally()
    (ax,) = answers.figure().axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1 · UNet − CNN, horses", "3 · chroma − grey, test (one run)"]
    assert [t.get_text() for t in ax.texts] == ["you: A ✓"]  # marks only where a guess was made

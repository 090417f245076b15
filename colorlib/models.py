"""The two colourisation networks of the original project: a vanilla CNN and a UNet.

Both map a grey image N×1×H×W (H, W multiples of 4) to per-pixel logits over K palette colours,
N×K×H×W (or, with `objective="regress"`, to the colour itself, N×3×H×W in [0, 1]). Blocks are
Conv → BatchNorm → ReLU → (max-pool | nearest upsample), kernel 3, padding 1 (a down block pools
before its ReLU: the same numbers, a quarter of the ReLU work). The UNet differs
only in its skip connections: each up block also sees the down block of the same resolution, and
the final conv sees the grey input itself, so fine detail need not squeeze through the 8×8
bottleneck. `skips` keeps any subset of the three, so what each carries can be measured.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from .config import ARCHS, OBJECTIVES, SKIPS, ModelConfig, parse_skips  # noqa: F401 - re-exported
from .errors import ModelError


class Block(nn.Sequential):
    """Conv → BatchNorm → ReLU, then optionally halve (max-pool) or double (nearest) the size."""

    def __init__(self, cin: int, cout: int, kernel: int, resample: str | None = None) -> None:
        layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, padding=kernel // 2), nn.BatchNorm2d(cout)]
        if resample == "down":
            # ReLU keeps the order of numbers, so pooling first gives exactly the same output and
            # gradients, and the ReLU runs on a quarter of the pixels (about 7% of a CPU fp32 step).
            layers += [nn.MaxPool2d(2), nn.ReLU()]
        elif resample == "up":
            layers += [nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest")]
        else:
            layers.append(nn.ReLU())
        super().__init__(*layers)


class ColorNet(nn.Module):
    """The original CNN (`arch="cnn"`) or UNet (`arch="unet"`); same blocks, UNet adds skips."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        nf, k, skips = config.nf, config.kernel, config.skips
        self.down1 = Block(1, nf, k, "down")  # 32 → 16
        self.down2 = Block(nf, 2 * nf, k, "down")  # 16 → 8
        self.refactor = Block(2 * nf, 2 * nf, k)  # the 8×8 bottleneck
        # each skip widens the input of the layer it feeds by the channels it carries
        self.up1 = Block(2 * nf + (2 * nf if "down2" in skips else 0), nf, k, "up")  # 8 → 16
        self.up2 = Block(nf + (nf if "down1" in skips else 0), 3, k, "up")  # 16 → 32
        self.final = nn.Conv2d(3 + (1 if "grey" in skips else 0), config.out_channels, k, padding=k // 2)

    def forward(self, grey: torch.Tensor) -> torch.Tensor:
        skips = self.config.skips
        d1 = self.down1(grey)
        d2 = self.down2(d1)
        r = self.refactor(d2)
        u1 = self.up1(torch.cat([d2, r], dim=1) if "down2" in skips else r)
        u2 = self.up2(torch.cat([d1, u1], dim=1) if "down1" in skips else u1)
        return self.final(torch.cat([grey, u2], dim=1) if "grey" in skips else u2)


def build(
    arch: str, num_colors: int, nf: int = 32, objective: str = "classify", skips: str | Sequence[str] | None = None
) -> ColorNet:
    """A freshly initialised `cnn` or `unet` with `num_colors` output classes (or a colour head)."""
    return ColorNet(ModelConfig(arch=arch, num_colors=num_colors, nf=nf, objective=objective, skips=skips))


def num_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def load_reference_weights(model: ColorNet, state_dict: Mapping[str, torch.Tensor]) -> ColorNet:
    """Load a state_dict from the original project (other names, same order and shapes)."""
    ours = model.state_dict()
    if len(ours) != len(state_dict):
        raise ModelError(
            f"reference weights hold {len(state_dict)} tensors, the {model.config.arch} model "
            f"{len(ours)}: they are for another architecture"
        )
    mapped = {}
    for (name, mine), (ref_name, theirs) in zip(ours.items(), state_dict.items(), strict=True):
        if mine.shape != theirs.shape:
            raise ModelError(
                f"reference tensor {ref_name} has shape {tuple(theirs.shape)} but {name} needs "
                f"{tuple(mine.shape)}: wrong architecture, width or number of colours"
            )
        mapped[name] = theirs
    model.load_state_dict(mapped)
    return model


def pick_device(name: str | torch.device = "auto") -> torch.device:
    """'auto' picks CUDA, then Apple MPS, then the CPU; anything else is passed to torch.device."""
    if str(name) != "auto":
        try:
            device = torch.device(name)
        except (RuntimeError, TypeError):
            raise ModelError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ModelError("device 'cuda' requested but CUDA is not available; use --device cpu")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ModelError("device 'mps' requested but MPS is not available; use --device cpu")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """`model` in eval mode (BatchNorm's running statistics) inside the block, its own mode restored after."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def summary(model: ColorNet, size: int = 32) -> list[tuple[str, str, tuple[int, ...], int]]:
    """(block, layers, output shape, parameters) for each block, for a 1×1×size×size input."""
    rows: list[tuple[str, str, tuple[int, ...], int]] = []
    hooks = []
    for name, block in model.named_children():
        layers = " → ".join(type(m).__name__ for m in block) if isinstance(block, nn.Sequential) else type(block).__name__
        params = sum(p.numel() for p in block.parameters())
        hooks.append(
            block.register_forward_hook(
                lambda _m, _i, out, name=name, layers=layers, params=params: rows.append((name, layers, tuple(out.shape), params))
            )
        )
    with eval_mode(model), torch.no_grad():
        model(torch.zeros(1, 1, size, size, device=next(model.parameters()).device))
    for h in hooks:
        h.remove()
    return rows


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for `precision` on `device`: "auto" is bf16 on CPUs that run it natively."""
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    # CUDA: fp32. These networks are too small for bf16 to pay for autocast's casts: on an H100 every
    # fp32 epoch was faster (cuDNN runs fp32 convolutions on TF32 tensor cores by default), and
    # GPUs before Ampere would only emulate bf16.
    if device.type == "cpu":  # native bf16 only: emulated bf16 is slower than fp32
        native = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
        amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
        return torch.bfloat16 if native or amx else None
    return None  # MPS: fp32

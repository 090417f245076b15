"""The two colourisation networks of the original project: a vanilla CNN and a UNet.

Both map a grey image N×1×H×W (H, W multiples of 4) to per-pixel logits over K palette colours,
N×K×H×W. Blocks are Conv → BatchNorm → ReLU → (max-pool | nearest upsample), kernel 3, padding 1.
The UNet differs only in its skip connections: each up block also sees the down block of the
same resolution, and the final conv sees the grey input itself, so fine detail need not squeeze
through the 8×8 bottleneck.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .errors import ModelError

ARCHS: tuple[str, ...] = ("cnn", "unet")


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "unet"  # "cnn" or "unet"
    num_colors: int = 32  # K, the palette size: one output channel per colour
    nf: int = 32  # base width: blocks have nf, 2nf, 2nf, nf, 3 channels
    kernel: int = 3

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ModelError(f"unknown architecture {self.arch!r}; use one of {', '.join(ARCHS)}")
        if not 2 <= self.num_colors <= 256:
            raise ModelError(f"num_colors must be 2..256, got {self.num_colors}")
        if self.nf < 1 or self.kernel < 1 or self.kernel % 2 == 0:
            raise ModelError(f"nf must be ≥ 1 and kernel odd, got nf={self.nf}, kernel={self.kernel}")

    def to_dict(self) -> dict:
        return asdict(self)


class Block(nn.Sequential):
    """Conv → BatchNorm → ReLU, then optionally halve (max-pool) or double (nearest) the size."""

    def __init__(self, cin: int, cout: int, kernel: int, resample: str | None = None) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, padding=kernel // 2),
            nn.BatchNorm2d(cout),
            nn.ReLU(),
        ]
        if resample == "down":
            layers.append(nn.MaxPool2d(2))
        elif resample == "up":
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        super().__init__(*layers)


class ColorNet(nn.Module):
    """The original CNN (`arch="cnn"`) or UNet (`arch="unet"`); same blocks, UNet adds skips."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        nf, k = config.nf, config.kernel
        self.skips = config.arch == "unet"
        extra = 2 if self.skips else 1  # a UNet up block also takes the same-size down output
        self.down1 = Block(1, nf, k, "down")  # 32 → 16
        self.down2 = Block(nf, 2 * nf, k, "down")  # 16 → 8
        self.refactor = Block(2 * nf, 2 * nf, k)  # the 8×8 bottleneck
        self.up1 = Block(2 * nf * extra, nf, k, "up")  # 8 → 16
        self.up2 = Block(nf * extra, 3, k, "up")  # 16 → 32
        self.final = nn.Conv2d(3 + (1 if self.skips else 0), config.num_colors, k, padding=k // 2)

    def forward(self, grey: torch.Tensor) -> torch.Tensor:
        d1 = self.down1(grey)
        d2 = self.down2(d1)
        r = self.refactor(d2)
        if not self.skips:
            return self.final(self.up2(self.up1(r)))
        u1 = self.up1(torch.cat([d2, r], dim=1))
        u2 = self.up2(torch.cat([d1, u1], dim=1))
        return self.final(torch.cat([grey, u2], dim=1))


def build(arch: str, num_colors: int, nf: int = 32) -> ColorNet:
    """A freshly initialised `cnn` or `unet` with `num_colors` output classes."""
    return ColorNet(ModelConfig(arch=arch, num_colors=num_colors, nf=nf))


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


def summary(model: ColorNet, size: int = 32) -> list[tuple[str, str, tuple[int, ...], int]]:
    """(block, layers, output shape, parameters) for each block, for a 1×1×size×size input."""
    rows: list[tuple[str, str, tuple[int, ...], int]] = []
    hooks = []
    for name, block in model.named_children():
        layers = " → ".join(type(m).__name__ for m in block) if isinstance(block, nn.Sequential) else type(block).__name__
        params = sum(p.numel() for p in block.parameters())
        hooks.append(block.register_forward_hook(
            lambda _m, _i, out, name=name, layers=layers, params=params: rows.append((name, layers, tuple(out.shape), params))
        ))  # fmt: skip
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, size, size, device=next(model.parameters()).device))
    model.train(was_training)
    for h in hooks:
        h.remove()
    return rows


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for `precision` on `device`: bf16 where the hardware runs it natively."""
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu":  # native bf16 only: emulated bf16 is slower than fp32
        native = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
        amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
        return torch.bfloat16 if native or amx else None
    return None  # MPS: fp32

"""Training: Adam + per-pixel cross-entropy over palette indices (or mean squared error of the colour,
for the regression baseline), one atomic commit per epoch.

The whole selection lives in memory as tensors (grey inputs and palette targets computed once),
and each batch is an index into them: no per-image Dataset/DataLoader work. Each epoch's
shuffle comes from its own generator seeded by (seed, epoch), so a resumed run replays exactly
the batches an uninterrupted one would have seen.

Fast by default where it keeps accuracy: channels_last activations and bf16 autocast on hardware
that runs bf16 natively (`precision="fp32"` switches it off). Under `torchrun` the same code runs
data-parallel (DistributedDataParallel over gloo on CPU, nccl on GPU).
"""

from __future__ import annotations

import io
import math
import os
import shlex
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from . import runs
from .config import _LEGACY, _RESUME_KEYS, PRECISIONS, SCHEDULES, VAL_SPLITS, TrainConfig  # noqa: F401 - re-exported
from .data import HOLDOUT_FRACTION, ColorData, load_cifar10, split_holdout
from .errors import PaletteError, RunError, TrainingError
from .inference import predict
from .metrics import evaluate
from .models import ColorNet, ModelConfig, autocast_dtype, pick_device
from .palette import Palette, check_objective, load_palette
from .runs import Run

REBALANCE_SIGMA = 5.0  # Zhang et al.'s smoothing of the colour prior, in CIELAB units


def smoothed_frequencies(targets: torch.Tensor, palette: Palette, sigma: float = REBALANCE_SIGMA) -> torch.Tensor:
    """p̃: each palette colour's share of `targets`, smoothed over the palette by a Gaussian (σ in CIELAB units)
    of the distance between colours, so near-identical colours share their counts (Zhang, Isola & Efros 2016)."""
    p = torch.bincount(targets.reshape(-1).long(), minlength=palette.num_colors).double()
    p /= p.sum()
    # distances in CIELAB, or in its ab plane for chroma bins
    lab = torch.from_numpy(palette.points if palette.space == "ab" else palette.lab_colors)
    kernel = torch.exp(-torch.cdist(lab, lab).square() / (2 * sigma**2))  # K×K, symmetric
    smooth = kernel @ p
    return smooth / smooth.sum()


def rebalance_weights(targets: torch.Tensor, palette: Palette, lam: float = 0.5, sigma: float = REBALANCE_SIGMA) -> torch.Tensor:
    """Per-colour loss weights ∝ ((1−λ)·p̃ + λ/K)⁻¹ with E_p̃[w] = 1 (Zhang, Isola & Efros 2016), p̃ the
    `smoothed_frequencies` of `targets`."""
    smooth = smoothed_frequencies(targets, palette, sigma)
    weights = 1 / ((1 - lam) * smooth + lam / palette.num_colors)
    return (weights / (smooth * weights).sum()).float()


def load_data(
    config: TrainConfig, palette: Palette, root: str | os.PathLike | None = None, download: bool = False
) -> tuple[ColorData, ColorData]:
    """Training images of the configured classes and their validation images, as tensors.

    With the holdout split both come from the train split (held-out images never train); greyscale
    pictures are dropped after the split, so the holdout does not depend on `drop_grey`.
    """
    if config.val_split == "holdout":
        train_images, val_images = split_holdout(load_cifar10(config.classes, "train", root, download), seed=config.split_seed)
        if config.drop_grey:
            train_images, val_images = train_images.without_grey(), val_images.without_grey()
    else:
        train_images = load_cifar10(config.classes, "train", root, download, config.drop_grey)
        val_images = load_cifar10(config.classes, "test", root, download, config.drop_grey)
    return ColorData.from_images(train_images.images, palette), ColorData.from_images(val_images.images, palette)


def _split_record(config: TrainConfig, given: bool) -> dict:
    """How the validation images were chosen, for config.json."""
    if given:
        return {"val_split": "given"}  # the caller passed its own (train, validation) data
    if config.val_split == "holdout":
        return {"val_split": "holdout", "holdout_fraction": HOLDOUT_FRACTION, "split_seed": config.split_seed}
    return {"val_split": "test"}


def _extensions(saved: dict | None, config: TrainConfig, done: int) -> list[dict]:
    """The run's record of being trained longer than first planned (config.json "extensions")."""
    before = list(saved.get("extensions", [])) if saved else []
    planned = saved.get("train", {}).get("epochs") if saved else None
    if done and planned is not None and planned != config.epochs:
        before.append({"at_epoch": done, "epochs_from": planned, "epochs_to": config.epochs})
    return before


def _replan(scheduler: torch.optim.lr_scheduler.OneCycleLR, optimizer: torch.optim.Optimizer, state: dict) -> None:
    """Resume a one-cycle schedule planned for another length: keep the steps taken, follow the new
    plan from there (as if the run had been started with the new --epochs), the current lr included."""
    steps_taken = state["last_epoch"]
    if steps_taken > scheduler.total_steps:
        raise RunError(f"the one-cycle schedule has taken {steps_taken} steps, more than the {scheduler.total_steps} planned")
    scheduler.load_state_dict({**state, "total_steps": scheduler.total_steps, "_schedule_phases": scheduler._schedule_phases})
    with warnings.catch_warnings():  # get_lr() outside step(): the lr at the step reached, on the new plan
        warnings.simplefilter("ignore")
        lrs = scheduler.get_lr()
    for group, lr in zip(optimizer.param_groups, lrs, strict=True):
        group["lr"] = lr
    scheduler._last_lr = list(lrs)


def _distributed(device: torch.device) -> tuple[int, int, torch.device]:
    """(rank, world size, device) under torchrun; (0, 1, device) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), device


def train(
    config: TrainConfig,
    out: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    download: bool = False,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    data: tuple[ColorData, ColorData] | None = None,
    command: str | None = None,
) -> Run:
    """Train a model as `config` says and write the run to `out`; returns the loaded run.

    `data` (train, validation) overrides loading CIFAR-10, e.g. for your own images. Under
    `torchrun` each process trains on its share of every batch and only rank 0 writes.
    """
    config.validate()
    out = Path(out)
    palette = load_palette(config.palette, config.palette_space)
    try:
        check_objective(config.objective, palette)
    except PaletteError as e:
        raise TrainingError(str(e)) from None
    rank, world, device = _distributed(pick_device(config.device))
    if config.batch_size % world:
        raise TrainingError(f"batch_size {config.batch_size} must divide evenly over {world} processes")
    saved, checkpoint = runs.check_folder(out, config, resume, force) if rank == 0 else (None, None)
    train_data, val_data = data if data is not None else load_data(config, palette, root, download)
    if config.batch_size > len(train_data):
        raise TrainingError(f"batch_size {config.batch_size} is larger than the {len(train_data)} training images")
    side = train_data.grey.shape[-2:]
    if config.half_size_epochs and any(n % 8 for n in side):
        raise TrainingError(
            f"half-size epochs need pictures whose sides are multiples of 8 (halved, the network halves them twice "
            f"more); these are {side[0]}×{side[1]}: crop them, or drop --half-size-epochs"
        )
    if rank == 0:
        runs.prepare_folder(out, replace_run=force and (out / runs.CONFIG).exists())
    if world > 1:  # the others wait until rank 0 has prepared the folder, then read the same checkpoint
        dist.barrier()
        if rank and resume and (out / runs.CHECKPOINT).exists():
            checkpoint = runs.read_torch(out / runs.CHECKPOINT)
    amp = autocast_dtype(config.precision, device)
    weights = None if config.rebalance is None else rebalance_weights(train_data.targets, palette, config.rebalance).to(device)
    model, optimizer, scheduler = _build(config, palette, device, len(train_data))
    history, predictions = _restore(checkpoint, model, optimizer, scheduler, out, val_data, config, rank)
    record = _record(config, palette, model, (train_data, val_data), device, amp, world, weights, command, out, data)
    extensions = _extensions(saved, config, len(history))
    if extensions:  # the one-cycle plan changed on the way: what the command alone does not say
        record["extensions"] = extensions
    if rank == 0:
        runs.write_json(out / runs.CONFIG, record)
    net = DistributedDataParallel(model) if world > 1 else model
    _epochs(out, config, net, optimizer, scheduler, (train_data, val_data), amp, weights, history, predictions, rank, progress)
    if world > 1:
        dist.barrier()  # every rank returns the run rank 0 finished writing
    return runs.load_run(out)


def _build(config: TrainConfig, palette: Palette, device: torch.device, images: int):
    """The seeded network, Adam, and the one-cycle scheduler if asked for (planned over every epoch)."""
    torch.manual_seed(config.seed)
    model_config = ModelConfig(config.arch, palette.num_colors, config.nf, objective=config.objective, skips=config.skips)
    model = ColorNet(model_config).to(device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    steps = math.ceil(images / config.batch_size)
    scheduler = (
        torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=config.epochs * steps)
        if config.schedule == "onecycle"
        else None
    )
    return model, optimizer, scheduler


def _restore(checkpoint, model, optimizer, scheduler, out: Path, val_data: ColorData, config: TrainConfig, rank: int):
    """(history, snapshot predictions) so far: empty for a new run, else the checkpoint's, loaded into the model,
    the optimizer and the schedule (re-planned if the run is now trained longer than first planned)."""
    if checkpoint is None:
        return [], []
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    if scheduler is not None and checkpoint["scheduler"]["total_steps"] == scheduler.total_steps:
        scheduler.load_state_dict(checkpoint["scheduler"])  # the same plan: bitwise as if never stopped
    elif scheduler is not None:  # trained longer than first planned (--epochs raised on --resume)
        _replan(scheduler, optimizer, checkpoint["scheduler"])
    if rank == 0:  # a kill between checkpoint and exports left the exports an epoch behind
        checkpoint.setdefault("snapshot_images", torch.from_numpy(val_data.images[: config.snapshot_count]))
        runs.save_exports(out, checkpoint)
    return list(checkpoint["history"]), list(checkpoint["predictions"])


def _record(config, palette, model, data, device, amp, world, weights, command, out, given) -> dict:
    """The run's config.json: what was trained, on what, how, and the command that trains it again."""
    train_data, val_data = data
    return {
        "format": runs.FORMAT,
        "version": runs.VERSION,
        "model": model.config.to_dict(),
        "palette": {"name": str(config.palette), "space": palette.space, "colors": palette.colors.tolist()},
        "train": asdict(config),
        "data": {"train_images": len(train_data), "val_images": len(val_data), **_split_record(config, given is not None)},
        "runtime": {
            "device": device.type,
            "autocast": str(amp).replace("torch.", "") if amp else None,
            "processes": world,
            "torch": torch.__version__,
        },
        "rebalance": None
        if weights is None
        else {"lambda": config.rebalance, "sigma": REBALANCE_SIGMA, "weights": weights.tolist()},
        # how to train it again from the shell: the caller's words, else TrainConfig's own (none for data of one's own)
        "command": command
        or (None if given is not None else shlex.join(["colorlib", "train", *config.to_argv(), "--out", str(out)])),
    }


def _epochs(out, config, net, optimizer, scheduler, data, amp, weights, history, predictions, rank, progress) -> None:
    """Train the remaining epochs, committing each to `out` (checkpoint, then the exports); the loss figure at the end."""
    model = net.module if isinstance(net, DistributedDataParallel) else net
    # The whole selection moves to the device once (grey inputs and the objective's targets): no
    # batch is ever copied from the host, which matters on a GPU.
    device, regress = next(model.parameters()).device, config.objective == "regress"
    (train_grey, train_targets), (val_grey, val_targets) = [
        (d.grey.to(device), (d.rgb if regress else d.targets).to(device)) for d in data
    ]
    half = _halve(train_grey, train_targets) if config.half_size_epochs > len(history) else None
    snap_images, on_disk = data[1].images[: config.snapshot_count], list(history)  # on disk: for the loss figure
    bar = tqdm(
        total=config.epochs,
        initial=len(history),
        desc=f"{config.arch} {'+'.join(config.classes)}",
        unit="epoch",
        disable=not progress or rank != 0,
        file=sys.stderr,
    )
    try:
        for epoch in range(len(history), config.epochs):
            start = time.perf_counter()
            grey, targets = half if epoch < config.half_size_epochs else (train_grey, train_targets)
            train_loss = _train_epoch(net, optimizer, scheduler, grey, targets, config, epoch, amp, weights)
            if not math.isfinite(train_loss):
                raise TrainingError(
                    f"training diverged at epoch {epoch} (loss {train_loss}); the run keeps epoch "
                    f"{epoch - 1}. Lower --lr and resume, or start over with --force"
                )
            # validation runs as the steps do (fp32, on the training device), not in metrics' exact float64
            val = evaluate(model, val_grey, val_targets, exact=False)
            predictions.append(predict(model, val_grey[: config.snapshot_count], exact=False))
            history.append(_epoch_record(config, epoch, train_loss, val, optimizer, time.perf_counter() - start))
            if rank == 0:
                with _hold_interrupts():  # Ctrl-C during a save lands after it
                    state = runs.checkpoint_state(model, optimizer, scheduler, history, predictions, snap_images)
                    runs.save_checkpoint(out, state)
                    on_disk = state["history"]
                    runs.save_exports(out, state)
            bar.update(1)
            bar.set_postfix(train=f"{train_loss:.3f}", val=f"{history[-1]['val_loss']:.3f}")
    finally:
        bar.close()
        if on_disk and rank == 0:
            _write_figure(out, on_disk)


def _epoch_record(config: TrainConfig, epoch: int, train_loss: float, val: dict, optimizer, seconds: float) -> dict:
    """One line of history.json."""
    regress = config.objective == "regress"
    train_name, val_name = config.loss_names
    return {
        "epoch": epoch,
        "train_loss": train_loss,
        "val_loss": val["mse"] if regress else val["cross_entropy"],
        "val_accuracy": None if regress else val["pixel_accuracy"],
        "train_loss_name": train_name,
        "val_loss_name": val_name,
        "lr": optimizer.param_groups[0]["lr"],
        "seconds": seconds,
    }


def _train_epoch(
    net: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    grey: torch.Tensor,
    targets: torch.Tensor,
    config: TrainConfig,
    epoch: int,
    amp: torch.dtype | None,
    weights: torch.Tensor | None = None,
) -> float:
    """One pass over the data (on the model's device) in a (seed, epoch)-determined order; mean loss over all pixels."""
    net.train()
    device = grey.device
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    generator = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
    order = torch.randperm(len(grey), generator=generator).to(device)
    # drawn after the order, so runs without flips see the same batches as before flips existed
    mirror = (torch.rand(len(grey), generator=generator) < 0.5).to(device) if config.flip else None
    # drawn after those, so runs without zoom are unchanged: per picture a crop side and a place
    crops = torch.rand(len(grey), 3, generator=generator).to(device) if config.zoom else None
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    total = torch.zeros((), dtype=torch.float64, device=device)
    for i in range(0, len(grey), config.batch_size):
        idx = order[i : i + config.batch_size][rank::world]  # this process's share of the global batch
        x, y = grey[idx], targets[idx]
        if mirror is not None:
            x, y = _mirror(x, y, mirror[idx])
        if crops is not None:
            x, y = _zoom(x, y, crops[idx], config.zoom)
        with torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None):
            output = net(x.contiguous(memory_format=memory_format))
        loss = _loss(output, y, config.objective, weights)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.detach().double() * len(idx)  # weight by images: every pixel counts once
    if world > 1:
        dist.all_reduce(total)
    return total.item() / len(grey)


def _halve(grey: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The pictures at half their size, for progressive resizing: grey averaged over 2×2 blocks (about the grey of
    the block's mean colour: grey is linear in RGB), targets (indices N×H×W or RGB N×H×W×3) the blocks' top-left."""
    return F.avg_pool2d(grey.float(), 2).to(grey.dtype), targets[:, ::2, ::2].contiguous()


def _mirror(grey: torch.Tensor, targets: torch.Tensor, which: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch with the images `which` marks mirrored left to right: grey N×1×H×W, and targets
    N×H×W (palette indices) or N×H×W×3 (RGB to regress), whose width axis is the third."""
    grey = torch.where(which[:, None, None, None], grey.flip(-1), grey)
    return grey, torch.where(which.view(-1, *[1] * (targets.dim() - 1)), targets.flip(2), targets)


def _zoom(grey: torch.Tensor, targets: torch.Tensor, draws: torch.Tensor, smallest: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Each picture of the batch cropped to a square of side s ∈ [smallest, 1] of its own (draws: N×3 uniforms
    giving s and the crop's place) and resized back to its size: grey bilinearly, targets (indices N×H×W or RGB
    N×H×W×3) by nearest neighbour, so every target is still a palette index or a true colour."""
    side = (smallest + (1 - smallest) * draws[:, 0]).float()
    shift = (1 - side)[:, None] * (2 * draws[:, 1:].float() - 1)  # the crop's centre, anywhere it fits
    theta = torch.zeros(len(grey), 2, 3, device=grey.device)
    theta[:, 0, 0], theta[:, 1, 1], theta[:, :, 2] = side, side, shift
    grid = F.affine_grid(theta, list(grey.shape), align_corners=False)
    x = F.grid_sample(grey.float(), grid, mode="bilinear", padding_mode="border", align_corners=False).to(grey.dtype)
    planes = targets[:, None] if targets.dim() == 3 else targets.permute(0, 3, 1, 2)
    y = F.grid_sample(planes.float(), grid, mode="nearest", padding_mode="border", align_corners=False).round().to(targets.dtype)
    return x, y[:, 0] if targets.dim() == 3 else y.permute(0, 2, 3, 1)


def _loss(output: torch.Tensor, targets: torch.Tensor, objective: str, weights: torch.Tensor | None) -> torch.Tensor:
    """The training loss, chosen by the objective: the one place that decides what is optimised.

    `targets` are the batch's palette indices N×H×W, or its uint8 RGB pictures N×H×W×3 to regress.
    """
    # Over the channel axis of an N·H·W × C view: for channels_last output that view is contiguous,
    # so nothing is copied or transposed (a 4-D loss would copy).
    flat = output.permute(0, 2, 3, 1).reshape(-1, output.shape[1]).float()
    if objective == "regress":  # the colour itself, RGB in [0, 1]
        return F.mse_loss(flat, targets.reshape(-1, 3).float() / 255)
    y = targets.reshape(-1).long()
    if weights is None:
        return F.cross_entropy(flat, y)
    # mean of w[target]·CE over pixels (PyTorch's weighted "mean" would divide by Σw instead)
    return F.cross_entropy(flat, y, weight=weights, reduction="sum") / y.numel()


@contextmanager
def _hold_interrupts() -> Iterator[None]:
    """Delay Ctrl-C until the block is done, so an interrupted run stops after saving, not halfway."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _write_figure(out: Path, history: list[dict]) -> None:
    from .plot import loss_figure  # matplotlib loads only when a run is written

    buf = io.BytesIO()
    loss_figure(history).savefig(buf, format="png", dpi=100)
    runs.atomic_write(out / runs.LOSS_FIGURE, buf.getvalue())

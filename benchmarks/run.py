"""colorlib's speed, measured side by side on this machine: one command, one table.

    python benchmarks/run.py                    # everything (about an hour on 2 cores, most of it ttq)
    python benchmarks/run.py --only train flops # some sections: train, whole, accuracy, flops, quantize, colorize, ttq
    python benchmarks/run.py --only ttq --no-ttq-all-class   # time to quality without the all-class model's ~30 min
    python benchmarks/run.py --only train ttq --device cuda   # on a GPU

Every case runs in its own process, so "peak MB" is that case's own peak resident memory (it
includes the ~0.3 GB that importing PyTorch costs). Times are medians over --repeats runs.
Needs CIFAR-10 (COLORLIB_DATA or --data).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ARCHS, COLORS = ("cnn", "unet"), (16, 32)
# The speed rows (train, whole, accuracy) keep the settings they were first measured with, so a
# change of the defaults' recipe does not read as a change of speed.
SPEED_RECIPE = dict(lr=1e-3, schedule="constant", flip=False)
DEVICE = "cpu"  # --device


def _child(fn, args, kwargs, queue):
    global DEVICE
    DEVICE = os.environ.get("COLORLIB_BENCH_DEVICE", "cpu")  # a spawned process starts from the module's default
    result = fn(*args, **kwargs)
    queue.put((result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def isolated(fn, *args, **kwargs):
    """Run fn(*args, **kwargs) in a fresh process; return (result, peak resident MB of that process)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, kwargs, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


# -- training: original-style baseline vs colorlib ----------------------------------------------


def baseline_epoch_seconds(arch: str, k: int, data_root: str | None, epochs: int, device: str = "cpu") -> list[float]:
    """The original project's loop: fp32, a DataLoader over per-image tensors, palette targets
    recomputed for every batch by brute force, a 4-D cross-entropy; train then validate."""
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset

    from colorlib.data import load_cifar10
    from colorlib.models import build
    from colorlib.palette import load_palette

    torch.manual_seed(0)
    palette = load_palette(f"horse{k}")
    train = torch.from_numpy(load_cifar10("horse", "train", data_root).images)
    val = torch.from_numpy(load_cifar10("horse", "test", data_root).images)
    model = build(arch, k).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def batch(rgb):
        grey = rgb.float().mean(-1, keepdim=True).permute(0, 3, 1, 2) / 255  # the original's channel mean
        targets = torch.from_numpy(palette.nearest_brute_force(rgb.numpy()).astype("int64"))
        return grey.to(device), targets.to(device)

    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        for (rgb,) in DataLoader(TensorDataset(train), batch_size=100, shuffle=True):
            grey, targets = batch(rgb)
            loss = F.cross_entropy(model(grey), targets)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            for (rgb,) in DataLoader(TensorDataset(val), batch_size=100):
                grey, targets = batch(rgb)
                F.cross_entropy(model(grey), targets).item()
        times.append(time.perf_counter() - start)
    return times


def colorlib_history(arch: str, k: int, data_root: str | None, epochs: int, **overrides) -> list[dict]:
    """A colorlib run's history; it validates on the test split here, as the original-style loop does
    (the same 5,000 + 1,000 pictures per epoch), since a benchmark makes no choices."""
    from colorlib.train import TrainConfig, train

    settings = {"device": DEVICE, **SPEED_RECIPE, **overrides}
    config = TrainConfig(arch=arch, palette=f"horse{k}", epochs=epochs, val_split="test", **settings)
    with tempfile.TemporaryDirectory() as out:
        return train(config, Path(out) / "run", root=data_root, progress=False).history


def section_train(args) -> None:
    print(f"\n## Training on {DEVICE}: one epoch = 5,000 horse train images (batch 100) + 1,000 validation images")
    print(f"{'arch':<5} {'K':>3} {'method':<26} {'epoch s':>8} {'img/s':>7} {'peak MB':>8} {'speed-up':>9}")
    for arch in ARCHS:
        for k in COLORS:
            times, peak_b = isolated(baseline_epoch_seconds, arch, k, args.data, args.repeats, DEVICE)
            base = statistics.median(times)
            print(f"{arch:<5} {k:>3} {'original-style fp32':<26} {base:8.2f} {5000 / base:7.0f} {peak_b:8.0f} {'1.0×':>9}")
            for label, precision in (("colorlib defaults", "auto"), ("colorlib, fp32", "fp32")):
                hist, peak_c = isolated(colorlib_history, arch, k, args.data, args.repeats + 1, precision=precision)
                fast = statistics.median(h["seconds"] for h in hist[1:])  # epoch 0 includes warm-up
                print(f"{arch:<5} {k:>3} {label:<26} {fast:8.2f} {5000 / fast:7.0f} {peak_c:8.0f} {base / fast:8.1f}×")


def section_accuracy(args) -> None:
    epochs = 10
    print(f"\n## Accuracy: unet K=32 horse, seed 0, {epochs} epochs, lr 1e-3 — fast defaults vs fp32")
    print(f"{'precision':<22} {'final val CE':>12} {'pixel acc':>10} {'epoch s':>8}")
    results = {}
    for precision in ("auto", "fp32"):
        hist, _ = isolated(colorlib_history, "unet", 32, args.data, epochs, precision=precision)
        results[precision] = hist[-1]["val_loss"]
        secs = statistics.median(h["seconds"] for h in hist[1:])
        label = "defaults (bf16 auto)" if precision == "auto" else "fp32"
        print(f"{label:<22} {hist[-1]['val_loss']:12.4f} {hist[-1]['val_accuracy']:10.4f} {secs:8.2f}")
    diff = abs(results["auto"] - results["fp32"]) / results["fp32"] * 100
    print(f"relative difference in final validation CE: {diff:.2f}% (target: within 1%)")


# -- achieved FLOP rate against a matmul in the same dtype ---------------------------------------


def step_rates(arch: str, k: int, steps: int) -> dict:
    import torch
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode

    from colorlib.models import build
    from colorlib.train import autocast_dtype

    out = {}
    x = torch.rand(100, 1, 32, 32).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, k, (100 * 32 * 32,))
    amp = autocast_dtype("auto", torch.device("cpu"))
    for name, dtype in (("fp32", None), ("bf16", amp)):
        if name == "bf16" and dtype is None:
            continue
        torch.manual_seed(0)
        model = build(arch, k).to(memory_format=torch.channels_last)
        opt = torch.optim.Adam(model.parameters(), 1e-3)

        def step(model=model, opt=opt, dtype=dtype):
            with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
                logits = model(x)
            loss = F.cross_entropy(logits.permute(0, 2, 3, 1).reshape(-1, k).float(), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

        with FlopCounterMode(display=False) as counter:
            step()
        for _ in range(3):
            step()
        rates = []
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(steps):
                step()
            rates.append(steps * 100 / (time.perf_counter() - start))
        out[name] = (counter.get_total_flops() / 100, statistics.median(rates))
    return out


def matmul_gflops(dtype_name: str) -> float:
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    a, b = torch.randn(2048, 2048, dtype=dtype), torch.randn(2048, 2048, dtype=dtype)
    for _ in range(2):
        a @ b
    times = []
    for _ in range(5):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * 2048**3 / statistics.median(times) / 1e9


def section_flops(args) -> None:
    print("\n## Achieved FLOP rate of a training step (batch 100) vs a 2048² matmul in the same dtype")
    print(f"{'arch':<5} {'K':>3} {'dtype':<5} {'MFLOP/img':>10} {'img/s':>7} {'GFLOP/s':>8} {'matmul':>8} {'fraction':>9}")
    peak = {}
    for arch in ARCHS:
        for k in COLORS:
            rates, _ = isolated(step_rates, arch, k, 10)
            for dtype, (flops, ips) in rates.items():
                if dtype not in peak:
                    peak[dtype], _ = isolated(matmul_gflops, dtype)
                achieved = flops * ips / 1e9
                print(
                    f"{arch:<5} {k:>3} {dtype:<5} {flops / 1e6:10.1f} {ips:7.0f} {achieved:8.1f} {peak[dtype]:8.1f} "
                    f"{achieved / peak[dtype]:8.0%}"
                )


# -- quantisation and colourisation -----------------------------------------------------------------


def section_quantize(args) -> None:
    from quantize import main as quantize_main

    print("\n## Exact palette quantisation")
    sys.argv = [sys.argv[0], "--repeats", str(max(args.repeats, 3))]
    quantize_main()


def colorize_latency(size: int, repeats: int, run: str | None = None, **how) -> float:
    """Median seconds to colour one random size² RGB picture: `run` (a shipped name) or the default."""
    import numpy as np

    from colorlib.colorize import colorize

    image = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    call = (lambda picture: colorize(picture, **how)) if run is None else (lambda picture: colorize(run, picture, **how))
    call(image[:64, :64])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call(image)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def section_colorize(args) -> None:
    from colorlib.colorize import PHOTO_DECODING, WORKING_SIDE
    from colorlib.pretrained import DEFAULT_RUN

    print(
        f"\n## colorize(photo) latency: the default ({DEFAULT_RUN}, shorter side {WORKING_SIDE}, {PHOTO_DECODING}, "
        "own lightness), one RGB image, CPU"
    )
    print(f"{'size':<10} {'seconds':>8} {'Mpx/s':>7} {'peak MB':>8}")
    for size in (256, 1024, 2048):
        seconds, peak = isolated(colorize_latency, size, max(args.repeats, 3))
        print(f"{f'{size}²':<10} {seconds:8.3f} {size * size / seconds / 1e6:7.2f} {peak:8.0f}")
    print("\n## The original way at 1024² (unet_horse32 at the picture's own size, scale='native'; see chapter 09)")
    print(f"{'decoding':<32} {'seconds':>8} {'peak MB':>8}")
    for label, how in [
        ("argmax", {}),
        ("annealed mean T=0.38", {"decoding": "annealed-mean"}),
        ("annealed mean + keep_luma", {"decoding": "annealed-mean", "keep_luma": True}),
    ]:
        seconds, peak = isolated(colorize_latency, 1024, max(args.repeats, 3), "unet_horse32", scale="native", **how)
        print(f"{label:<32} {seconds:8.3f} {peak:8.0f}")


# -- time to quality -------------------------------------------------------------------------------


# (name, arch, classes, palette) of the shipped runs timed: the three configurations
TTQ_CONFIGS = (
    ("UNet horse32", "unet", ["horse"], "horse32"),
    ("CNN cat16", "cnn", ["cat"], "horse16"),
    ("UNet all-class all32-lab", "unet", ["all"], "all32-lab"),
)
# the shipped runs' recipe, read from one of them (flip postdates them: they trained without it)
_SHIPPED_TRAIN = json.loads(
    (Path(__file__).resolve().parent.parent / "colorlib/pretrained/unet_horse32/config.json").read_text()
)["train"]
SHIPPED_RECIPE = {k: _SHIPPED_TRAIN.get(k, False) for k in ("epochs", "lr", "schedule", "batch_size", "flip")}


def holdout_history(arch: str, classes: list[str], palette: str, data_root: str | None, **recipe) -> list[dict]:
    """A run's history on the holdout (seed 0): TrainConfig's defaults unless `recipe` says otherwise."""
    from colorlib.train import TrainConfig, train

    config = TrainConfig(arch=arch, classes=classes, palette=palette, device=DEVICE, **recipe)
    with tempfile.TemporaryDirectory() as out:
        return train(config, Path(out) / "run", root=data_root, progress=False).history


def reached(history: list[dict], target: float) -> tuple[int, float] | None:
    """(epochs, seconds of training and validation) until the holdout CE first reached `target`."""
    elapsed = 0.0
    for h in history:
        elapsed += h["seconds"]
        if h["val_loss"] <= target:
            return h["epoch"] + 1, elapsed
    return None


def ttq_recipes() -> list[tuple[str, dict, dict]]:
    """(label, TrainConfig settings to pass, the recipe they make) to time: the shipped recipe, the defaults
    (nothing passed) where they differ, and the search's choice or fastest candidate (docs/ttq.json) where new."""
    from dataclasses import asdict

    from colorlib.train import TrainConfig

    default = {k: v for k, v in asdict(TrainConfig()).items() if k in SHIPPED_RECIPE}
    out = [("shipped", SHIPPED_RECIPE, SHIPPED_RECIPE)] + ([("defaults", {}, default)] if default != SHIPPED_RECIPE else [])
    record = Path(__file__).resolve().parent.parent / "docs" / "ttq.json"
    if record.exists():
        doc = json.loads(record.read_text())
        name = doc.get("choice") or doc.get("fastest_on_unet_horse32_alone")
        recipe = {k: v for k, v in doc["candidates"].get(name, {}).items() if k in SHIPPED_RECIPE}
        if recipe and recipe not in (default, SHIPPED_RECIPE):
            out.append((name, recipe, recipe))
    return out


def section_ttq(args) -> None:
    print(f"\n## Time to quality on {DEVICE}: seed 0, holdout split (a seeded 10% of the training images)")
    recipes = ttq_recipes()
    for label, _, recipe in recipes:
        print(f"# {label}: " + ", ".join(f"{k} {v}" for k, v in recipe.items()))
    print("# target: 1.005 × the shipped recipe's final holdout CE in this run; seconds: epochs (training and validation) to it")
    print(f"{'configuration':<26} {'recipe':<22} {'final CE':>8} {'target':>7} {'epochs':>6} {'seconds':>8} {'of shipped':>10}")
    configs = [c for c in TTQ_CONFIGS if args.ttq_all_class or "all" not in c[2]]
    for name, arch, classes, palette in configs:
        histories = {
            label: isolated(holdout_history, arch, classes, palette, args.data, **given)[0] for label, given, _ in recipes
        }
        target = 1.005 * histories["shipped"][-1]["val_loss"]
        base = reached(histories["shipped"], target)
        for label, history in histories.items():
            hit = reached(history, target)
            total = sum(h["seconds"] for h in history)
            at = f"{hit[0]:6d} {hit[1]:8.1f} {hit[1] / base[1]:9.0%}" if hit else f"{'not in':>6} {total:8.1f} {'':>10}"
            print(f"{name:<26} {label:<22} {history[-1]['val_loss']:8.4f} {target:7.4f} {at}", flush=True)


def convolution_seconds(arch: str, k: int, steps: int = 10) -> dict:
    """Seconds the fp32 convolutions alone take (forward and backward, as the profiler times them
    inside real steps): per training step of batch 100, per validation batch of 100, and per step."""
    import torch
    import torch.nn.functional as F
    from torch.profiler import profile

    from colorlib.models import build

    convs = ("aten::mkldnn_convolution", "aten::convolution_backward", "aten::slow_conv2d_forward", "aten::_slow_conv2d_backward")

    def conv_time(prof) -> float:
        return sum(e.self_cpu_time_total for e in prof.key_averages() if e.key in convs) / 1e6

    torch.manual_seed(0)
    model = build(arch, k).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.rand(100, 1, 32, 32).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, k, (100 * 32 * 32,))

    def step():
        loss = F.cross_entropy(model(x).permute(0, 2, 3, 1).reshape(-1, k), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    step_seconds = (time.perf_counter() - start) / steps
    with profile() as prof:
        for _ in range(steps):
            step()
    train = conv_time(prof) / steps
    model.eval()
    with torch.no_grad(), profile() as prof:
        for _ in range(steps):
            model(x)
    return {"train_step": train, "eval_batch": conv_time(prof) / steps, "step": step_seconds}


def import_torch_seconds() -> float:
    import subprocess

    times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_dynamo_seconds() -> float:
    """What a process pays when its first torch.optim optimizer imports torch._dynamo (median of 3)."""
    import subprocess

    code = "import time, torch; s = time.perf_counter(); import torch._dynamo; print(time.perf_counter() - s)"
    return statistics.median(
        float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout) for _ in range(3)
    )


def section_whole(args) -> None:
    """Whole processes, as a user runs them: start-up, data, 5 epochs and validation, each a fresh interpreter."""
    import subprocess

    epochs = 5
    print(f"\n## Whole process on {DEVICE}: UNet K=32 horse, {epochs} epochs (5,000 train + 1,000 validation images each)")
    print(f"{'command':<44} {'seconds':>8} {'speed-up':>9}")
    here, data = Path(__file__).resolve().parent, args.data or os.environ.get("COLORLIB_DATA", "")
    original = [
        sys.executable,
        "-c",
        f"import sys; sys.path.insert(0, {str(here)!r}); import run; "
        f"run.baseline_epoch_seconds('unet', 32, {data or None!r}, {epochs}, {DEVICE!r})",
    ]
    cases = [("original-style loop, fp32", original)]
    from colorlib.config import TrainConfig

    for precision in ("fp32", "auto"):
        config = TrainConfig(
            arch="unet", palette="horse32", epochs=epochs, val_split="test", precision=precision, device=DEVICE, **SPEED_RECIPE
        )
        command = [sys.executable, "-m", "colorlib.cli", "train", *config.to_argv()]
        cases.append((f"colorlib train --precision {precision}", command))
    base, epoch_seconds = None, {}
    for label, command in cases:
        times, epochs_spent = [], []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as out:
                argv = command + (["--out", str(Path(out) / "run")] if "colorlib.cli" in command else [])
                start = time.perf_counter()
                subprocess.run(argv, check=True, capture_output=True, env={**os.environ, "COLORLIB_DATA": data})
                times.append(time.perf_counter() - start)
                if "colorlib.cli" in command:  # the run's own timing of its epochs (training + validation)
                    history = json.loads((Path(out) / "run" / "history.json").read_text())
                    epochs_spent.append(sum(h["seconds"] for h in history))
        seconds = statistics.median(times)
        base = base or seconds
        if epochs_spent:
            epoch_seconds[label] = (seconds, statistics.median(epochs_spent))
        print(f"{label:<44} {seconds:8.1f} {base / seconds:8.1f}×")
    torch_s, dynamo_s = import_torch_seconds(), import_dynamo_seconds()
    for label, (seconds, spent) in epoch_seconds.items():
        print(
            f"# {label.removeprefix('colorlib train ')}: epochs {spent:.1f} s; import torch {torch_s:.1f} s and "
            f"torch._dynamo {dynamo_s:.1f} s (imported by torch.optim), measured apart; "
            f"the rest (data, model, saving, figure) {seconds - spent - torch_s - dynamo_s:.1f} s"
        )
    if DEVICE != "cpu":
        return  # the floor below profiles oneDNN's CPU convolutions
    # The floor under any fp32 loop that keeps PyTorch's (oneDNN's) convolutions: only they run.
    conv, _ = isolated(convolution_seconds, "unet", 32)
    floor = epochs * (50 * conv["train_step"] + 10 * conv["eval_batch"]) + torch_s
    print(f"{'floor: fp32 convolutions alone + import torch':<44} {floor:8.1f} {base / floor:8.1f}×")
    print(
        f"# an fp32 step (batch 100) takes {conv['step'] * 1000:.0f} ms, of which the convolutions "
        f"{conv['train_step'] * 1000:.0f} ms ({conv['train_step'] / conv['step']:.0%}); "
        f"a validation batch's convolutions {conv['eval_batch'] * 1000:.0f} ms"
    )


SECTIONS = {
    "train": section_train,
    "whole": section_whole,
    "accuracy": section_accuracy,
    "flops": section_flops,
    "quantize": section_quantize,
    "colorize": section_colorize,
    "ttq": section_ttq,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="timed repeats (median) per case")
    parser.add_argument("--data", help="folder holding cifar-10-batches-py/ (default: $COLORLIB_DATA)")
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or mps: where training runs")
    parser.add_argument(
        "--no-ttq-all-class",
        dest="ttq_all_class",
        action="store_false",
        help="time to quality without the all-class model (whose shipped recipe alone takes over 20 minutes on 2 cores)",
    )
    args = parser.parse_args()
    import torch

    from colorlib.train import autocast_dtype

    global DEVICE
    DEVICE = args.device
    os.environ["COLORLIB_BENCH_DEVICE"] = DEVICE  # the isolated processes read it back
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    native = bool(
        getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
        or getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    )
    print(
        f"# colorlib benchmarks — {cpu}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; native bf16 on this CPU: {'yes' if native else 'no'}, so "
        f"precision=auto trains in {autocast_dtype('auto', torch.device('cpu')) or 'fp32'} on the CPU"
    )
    if DEVICE.startswith("cuda"):
        print(
            f"# GPU: {torch.cuda.get_device_name()}, precision=auto trains in "
            f"{autocast_dtype('auto', torch.device('cuda')) or 'fp32'} there"
        )
    for name in args.only:
        SECTIONS[name](args)


if __name__ == "__main__":
    main()

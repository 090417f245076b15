"""Exact palette quantisation throughput: colorlib's Palette.quantize against brute-force argmin.

    python benchmarks/quantize.py            # CIFAR-10 horse train pixels if found, else random pixels

Prints a table; median of --repeats runs. "cold" uses a fresh Palette each run (its colour table
starts empty), "warm" reuses one (the table already holds these pixels' colours).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

from colorlib.data import load_cifar10
from colorlib.errors import DataError
from colorlib.palette import _TABLES, Palette, load_palette


def brute_force(pixels: np.ndarray, palette: Palette) -> np.ndarray:
    """Baseline: all K distances per pixel, then argmin (the original project's approach)."""
    out = np.empty(len(pixels), np.uint8)
    colors = palette.colors.astype(np.int32)
    for i in range(0, len(pixels), 1 << 16):
        chunk = pixels[i : i + (1 << 16)].astype(np.int32)
        out[i : i + (1 << 16)] = ((chunk[:, None, :] - colors[None]) ** 2).sum(-1).argmin(1)
    return out


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    try:
        images = load_cifar10("horse", "train").images
        source = "CIFAR-10 horse train"
    except DataError:
        images = np.random.default_rng(0).integers(0, 256, (5000, 32, 32, 3), dtype=np.uint8)
        source = "random pixels (CIFAR-10 not found)"
    pixels = images.reshape(-1, 3)
    mpx = len(pixels) / 1e6
    print(f"# {platform.processor() or platform.machine()}, {source}: {mpx:.2f} Mpx, median of {args.repeats}")
    print(f"{'palette':<12} {'method':<22} {'seconds':>8} {'Mpx/s':>8} {'exact':>6}")
    for name in ("horse16", "horse32", "horse32-lab"):
        palette = load_palette(name)
        reference = None
        if palette.space == "rgb":
            sample = pixels[: 1 << 20]
            t = timed(lambda p=palette, s=sample: brute_force(s, p), 1)
            reference = brute_force(pixels, palette)
            print(
                f"{name:<12} {'brute-force argmin':<22} {t * len(pixels) / len(sample):8.3f} "
                f"{len(sample) / 1e6 / t:8.1f} {'yes':>6}"
            )

        def cold_quantize(p=palette):
            _TABLES.clear()  # palettes with equal colours share a table: start from none, as a first use does
            return Palette(p.colors, p.space).quantize(images)

        cold = timed(cold_quantize, args.repeats)
        result = palette.quantize(images).reshape(-1)
        warm = timed(lambda p=palette: p.quantize(images), args.repeats)
        exact = "yes" if reference is None or np.array_equal(result, reference) else "NO"
        if reference is None:  # Lab: check a sample against the brute-force reference
            exact = "yes" if np.array_equal(result[:20000], palette.nearest_brute_force(pixels[:20000])) else "NO"
        print(f"{name:<12} {'colorlib cold':<22} {cold:8.3f} {mpx / cold:8.1f} {exact:>6}")
        print(f"{name:<12} {'colorlib warm':<22} {warm:8.3f} {mpx / warm:8.1f} {exact:>6}")


if __name__ == "__main__":
    main()

"""Figures: the original's grey / prediction / palette truth / original grid, loss curves, swatches.

Every function returns a matplotlib Figure built without pyplot, so nothing is shown or kept
alive behind your back; Jupyter displays a returned Figure, scripts call `fig.savefig(...)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.ticker import MaxNLocator
from torchvision.utils import make_grid

from .data import grey_rgb
from .errors import ImageError, RunError
from .models import build, summary
from .palette import Palette
from .runs import Run
from .selection import COLOUR_FLOORS, colour_feasible, colour_figures, rule_figures

ROWS = ("grey", "prediction", "palette truth", "original")
# Each UNet skip (colorlib.config.SKIPS) by what it carries: from that block's output into that block's input.
SKIP_ENDS = {"down2": ("down2", "up1"), "down1": ("down1", "up2"), "grey": ("input", "final")}


def image_grid(rows: Sequence[np.ndarray]) -> np.ndarray:
    """Rows of uint8 images (each n×H×W×3) tiled into one uint8 image with 1-pixel white gaps."""
    stacked = torch.from_numpy(np.concatenate(rows)).permute(0, 3, 1, 2)
    grid = make_grid(stacked, nrow=len(rows[0]), padding=1, pad_value=255)
    return grid.permute(1, 2, 0).numpy()


def rows_figure(
    rows: Mapping[str, np.ndarray], title: str | None = None, scale: float = 1.0, columns: Sequence[str] | None = None
) -> Figure:
    """Labelled rows of uint8 images (each n×H×W×3, all the same n and size) in one figure, columns numbered, or
    labelled by `columns` (one label per column, e.g. the epochs of one picture)."""
    first = next(iter(rows.values()))
    grid = image_grid(list(rows.values()))
    width = scale * (grid.shape[1] / 33) + 0.4 + 0.085 * max(len(label) for label in rows)  # room for the labels
    top = (0.4 if title else 0.1) + (0.2 if len(first) > 1 else 0)  # room for the title and the column numbers
    fig = Figure(figsize=(width, scale * (grid.shape[0] / 33 + top)), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(grid, interpolation="nearest")
    ax.set_anchor("E")  # the pictures to the right, the labels in the room left of them
    h = first.shape[1] + 1
    ax.set_yticks([h * (i + 0.5) for i in range(len(rows))], list(rows))
    n = len(first)  # number the columns, so prose can say "the fifth horse" and a reader need not count
    if columns is not None and len(columns) != n:
        raise ImageError(
            f"columns needs one label per column: {n} pictures per row, {len(columns)} labels; pass {n} labels or none"
        )
    numbered = range(n) if n > 1 or columns is not None else []
    labels = list(columns) if columns is not None else [str(j + 1) for j in numbered]
    ax.set_xticks([(first.shape[2] + 1) * (j + 0.5) for j in numbered], labels)
    ax.xaxis.set_ticks_position("top")
    ax.tick_params(length=0)
    ax.tick_params(axis="x", labelsize="small", labelcolor="0.35")
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title)
    return fig


def grid_figure(images: np.ndarray, predictions: np.ndarray | torch.Tensor, palette: Palette, title: str | None = None) -> Figure:
    """The original project's validation figure: grey / prediction / palette truth / original.

    `predictions` are palette indices n×H×W, or a regression model's colours n×H×W×3.
    """
    predictions = np.asarray(predictions.cpu() if isinstance(predictions, torch.Tensor) else predictions)
    predicted = predictions if predictions.ndim == np.ndim(images) else palette.decode_for(predictions, images)
    rows = [grey_rgb(images), predicted, palette.saturate(images), images]
    return rows_figure(dict(zip(ROWS, rows, strict=True)), title)


def snapshot_figure(run: Run, epoch: int = -1) -> Figure:
    """`grid_figure` of a run's fixed validation images at `epoch` (negative counts from the end)."""
    snaps = run.snapshots
    if snaps is None:
        raise RunError(f"{run.name}: this run has no snapshots.npz to show")
    epoch = int(snaps.epochs[epoch]) if epoch < 0 else epoch
    return grid_figure(snaps.images, snaps.at(epoch), run.palette, title=f"{run.name} — epoch {epoch}")


def loss_names(history: Sequence[dict]) -> tuple[str, str]:
    """(training, validation) loss names of a history; runs saved before names were kept used cross-entropy."""
    first = history[0] if history else {}
    return first.get("train_loss_name", "cross-entropy"), first.get("val_loss_name", "cross-entropy")


def loss_figure(
    histories: Sequence[dict] | Run | Sequence[Run],
    labels: Sequence[str] | None = None,
    marker_epoch: int | None = None,
    title: str | None = None,
) -> Figure:
    """Train (dashed) and validation (solid) loss per epoch for one history or several runs.

    Each curve is labelled with what it measures when the two differ (a rebalanced run trains on a
    weighted cross-entropy and is validated on the plain one).
    """
    if isinstance(histories, Run):
        histories = [histories]
    if histories and isinstance(histories[0], dict):
        histories = [histories]  # a single history: a list of per-epoch dicts
    series = [h.history if isinstance(h, Run) else h for h in histories]
    names = labels or [h.name if isinstance(h, Run) else "" for h in histories]
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.add_subplot()
    measures = set()
    for i, (hist, name) in enumerate(zip(series, names, strict=True)):
        epochs = [h["epoch"] for h in hist]
        color = f"C{i}"
        train_name, val_name = loss_names(hist)
        measures.update((train_name, val_name))
        differ = train_name != val_name
        train_label, val_label = (f"train ({train_name})", f"validation ({val_name})") if differ else ("train", "validation")
        ax.plot(epochs, [h["train_loss"] for h in hist], "--", color=color, label=f"{name} {train_label}".strip())
        ax.plot(epochs, [h["val_loss"] for h in hist], "-", color=color, label=f"{name} {val_label}".strip())
    if marker_epoch is not None:
        ax.axvline(marker_epoch, color="k", lw=0.8, alpha=0.6)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ylabel = " / ".join(sorted(measures)) or "cross-entropy"
    ax.set_ylabel(ylabel)
    ax.set_title(title or f"{ylabel[0].upper()}{ylabel[1:]} per pixel")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def swatch_figure(palette: Palette, title: str | None = None) -> Figure:
    """The palette's colours as a strip of squares, in index order."""
    fig = Figure(figsize=(min(0.35 * palette.num_colors, 12), 0.8), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(palette.colors[None], interpolation="nearest", aspect="equal")
    ax.set_axis_off()
    ax.set_title(title or f"{palette.num_colors} colours ({palette.space})", fontsize="small")
    return fig


def frequency_figure(
    palette: Palette, indices: np.ndarray, title: str | None = None, weights: np.ndarray | torch.Tensor | None = None
) -> Figure:
    """How often each palette colour occurs in `indices`, as bars painted in that colour.

    `weights` (one per colour, e.g. `train.rebalance_weights`) are drawn as a line on a second axis.
    """
    counts = np.bincount(np.asarray(indices).reshape(-1), minlength=palette.num_colors)
    share = counts / max(counts.sum(), 1)
    fig = Figure(figsize=(max(4.0, 0.25 * palette.num_colors), 2.6), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(np.arange(palette.num_colors), share, color=palette.colors / 255, edgecolor="0.6", linewidth=0.5)
    ax.set_xlabel("palette index")
    ax.set_ylabel("share of pixels")
    ax.set_title(title or "How often each colour occurs")
    if weights is not None:
        twin = ax.twinx()
        twin.plot(np.arange(palette.num_colors), np.asarray(weights), color="black", marker=".", linewidth=1)
        twin.set_ylabel("loss weight")
        twin.set_ylim(bottom=0)
    return fig


def compare_figure(images: Mapping[str, np.ndarray], title: str | None = None, width: float = 12.0) -> Figure:
    """Pictures of any size side by side, each titled; 2-D arrays in [0, 1] are shown grey."""
    fig = Figure(figsize=(width, width / len(images) * 0.9), layout="constrained")
    axes = fig.subplots(1, len(images), squeeze=False)[0]
    for ax, (label, image) in zip(axes, images.items(), strict=True):
        if image.ndim == 2:
            ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(image)
        ax.set_title(label, fontsize="medium")
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig


def heatmap_figure(
    values: np.ndarray, rows: Sequence[str], columns: Sequence[str], title: str | None = None, fmt: str = "{:.2f}"
) -> Figure:
    """A matrix (e.g. runs × classes) as a labelled heatmap with each value written in its cell."""
    values = np.asarray(values, dtype=float)
    fig = Figure(figsize=(1.0 + 0.75 * len(columns), 0.8 + 0.45 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="viridis_r", aspect="auto")
    ax.set_xticks(range(len(columns)), columns, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    middle = np.nanmean(values)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8, color="white" if v > middle else "black")
    fig.colorbar(image, ax=ax, shrink=0.8)
    if title:
        ax.set_title(title)
    return fig


def epochs_figure(
    cnn: Run,
    unet: Run,
    epochs: Sequence[int] = (0, 5, 10, -1),
    images: int = 6,
    title: str | None = None,
    pictures: Sequence[int] | None = None,
) -> Figure:
    """A still of `widgets.compare_epochs` for readers without a kernel: the grey input, then CNN and
    UNet predictions at each of `epochs` (negative counts from the end), then the original. `pictures`
    picks columns by the numbers the slider shows them with, from 1; by default the first `images`."""
    snaps = cnn.snapshots
    if snaps is None or unet.snapshots is None:
        raise RunError("epochs_figure needs runs with snapshots.npz")
    if pictures is not None and not all(1 <= p <= len(snaps.images) for p in pictures):
        raise RunError(
            f"this run's snapshots hold pictures 1 to {len(snaps.images)}, got {list(pictures)}; pick numbers in that range"
        )
    shown = [p - 1 for p in pictures] if pictures is not None else list(range(min(images, len(snaps.images))))
    chosen = [int(snaps.epochs[e]) if e < 0 else e for e in epochs]
    originals = snaps.images[shown]
    rows = {"grey input": grey_rgb(originals)}
    for e in chosen:
        rows[f"CNN, epoch {e}"] = cnn.snapshots.rgb(e, cnn.palette)[shown]
        rows[f"UNet, epoch {e}"] = unet.snapshots.rgb(e, unet.palette)[shown]
    rows["original"] = originals
    return rows_figure(rows, title)


def confidence_figure(
    colored: np.ndarray, probs: np.ndarray, title: str | None = None, width: float = 10.0, vmax: float | None = None
) -> Figure:
    """A colourisation beside its per-pixel confidence (the top bin's probability), with a colour bar.

    `probs` is H×W×K, as `colorize(..., return_probs=True)` returns it. The colours run from 1/K (no
    preference) to `vmax`, by default the map's own highest value, so a hesitant model's map is not all dark.
    """
    top = np.asarray(probs).max(-1)
    low, high = 1 / probs.shape[-1], float(top.max()) if vmax is None else vmax
    fig = Figure(figsize=(width, width / 2 * colored.shape[0] / colored.shape[1] + 0.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.imshow(colored)
    left.set_title("colourised")
    shown = right.imshow(top, cmap="magma", vmin=low, vmax=max(high, low + 1e-6))
    right.set_title("confidence: probability of the most likely colour")
    for ax in (left, right):
        ax.set_axis_off()
    fig.colorbar(shown, ax=right, shrink=0.8, label=f"from 1/K = {low:.3f} (no preference) to {high:.2f}")
    if title:
        fig.suptitle(title)
    return fig


def architecture_figure(arch: str = "unet", num_colors: int = 32, size: int = 32, params: bool = True) -> Figure:
    """The network's blocks left to right, drawn from `models.summary` of the real model so it cannot
    disagree with the code: box height ∝ spatial size; output shape C×H×W and (unless `params=False`, for a
    chapter that asks the learner to count them) parameters under each."""
    model = build(arch, num_colors)
    rows = [("input", (1, size, size), 0)] + [(name, shape[1:], count) for name, _, shape, count in summary(model, size)]
    x = {name: 1.2 * i for i, (name, _, _) in enumerate(rows)}
    top = {name: 0.75 * shape[1] / size for name, shape, _ in rows}  # half a box's height
    shapes = {name: "×".join(map(str, shape)) for name, shape, _ in rows}
    fig = Figure(layout="constrained")
    ax = fig.add_subplot()
    for name, _, count in rows:
        grey = name == "input"
        ax.add_patch(Rectangle((x[name] - 0.4, -top[name]), 0.8, 2 * top[name], fc="0.85" if grey else "#cfe0f3", ec="0.3"))
        label = f"grey input\n{shapes[name]}" if grey else f"{name}\n{shapes[name]}" + (f"\n{count:,} params" if params else "")
        ax.text(x[name], -0.85, label, ha="center", va="top", fontsize=9)
    for a, b in pairwise(x):  # the main path, block to block
        ax.add_patch(FancyArrowPatch((x[a] + 0.4, 0), (x[b] - 0.4, 0), arrowstyle="-|>", mutation_scale=12, color="0.2"))
    peak, rad = 0.75, 0.45  # an arc rises rad/2 × its span above its ends, so longer skips arch over shorter ones
    for skip in model.config.skips:  # none for the CNN
        src, dst = SKIP_ENDS[skip]
        ax.add_patch(
            FancyArrowPatch(
                (x[src], top[src]),
                (x[dst], top[dst]),
                connectionstyle=f"arc3,rad=-{rad}",
                arrowstyle="-|>",
                mutation_scale=12,
                color="C1",
                lw=1.5,
                gid="skip",
            )
        )
        apex = (top[src] + top[dst]) / 2 + rad / 2 * (x[dst] - x[src])  # needs the equal aspect set below
        ax.text(
            (x[src] + x[dst]) / 2, apex + 0.04, f"{skip} skip: {shapes[src]}", ha="center", va="bottom", color="C1", fontsize=9
        )
        peak = max(peak, apex + 0.3)
    total = f"{sum(count for _, _, count in rows):,} parameters, " if params else ""
    ax.set_title(f"{dict(cnn='CNN', unet='UNet').get(arch, arch)}: {total}input 1×{size}×{size}")
    right = x[rows[-1][0]] + 0.7
    ax.set(xlim=(-0.7, right), ylim=(-1.4, peak), aspect="equal")
    fig.set_size_inches(1.45 * len(rows), 1.45 * len(rows) * (peak + 1.4) / (right + 0.7) + 0.4)  # fit the drawing, + title
    ax.set_axis_off()
    return fig


def tinted_copy(image: np.ndarray, target: float, direction: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """One uint8 RGB picture (H×W×3) tinted by one (a*, b*) shift toward `direction`, on its own lightness
    (`palette.under_lightness`); the shift is found by bisection so the copy's mean CIEDE2000 ΔE is near `target`."""
    from skimage.color import rgb2lab

    from .errors import DataError
    from .metrics import delta_e_map
    from .palette import under_lightness
    from .pixels import to_grey

    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise DataError(f"a tinted copy needs one uint8 RGB picture H×W×3, got {image.dtype} {image.shape}")
    lab, grey = rgb2lab(image), to_grey(image)
    step = np.asarray(direction, np.float64) / np.hypot(*direction)

    def tinted(shift: float) -> tuple[np.ndarray, float]:
        copy = under_lightness(lab[..., 1:] + shift * step, grey)
        return copy, float(delta_e_map(copy, image).mean())

    low, high = 0.0, 256.0  # a* and b* span about ±128, so no shift needs to be larger
    for _ in range(30):
        middle = (low + high) / 2
        low, high = (low, middle) if tinted(middle)[1] > target else (middle, high)
    return tinted((low + high) / 2)[0]


def delta_e_figure(
    image: np.ndarray,
    targets: Sequence[float] = (1.0, 6.0, 11.0, 34.0),
    direction: tuple[float, float] = (-1.0, 1.0),
    width: float = 10.0,
) -> Figure:
    """One uint8 RGB picture (H×W×3) beside its `tinted_copy` for each target mean ΔE2000, each panel titled with
    the ΔE measured on the uint8 copy."""
    from .metrics import delta_e_map

    panels = {"original": np.asarray(image)}
    for target in targets:
        copy = tinted_copy(image, target, direction)
        panels[f"ΔE2000 {float(delta_e_map(copy, image).mean()):.1f}"] = copy
    return compare_figure(panels, width=width)


def means_figure(
    panels: Mapping[str, Mapping[str, Mapping[str, Mapping[str, np.ndarray]]]],
    x: str,
    y: str,
    labels: Mapping[str, str] | None = None,
    styles: Mapping[str, Mapping] | None = None,
    vlines: Mapping[str, Mapping[str, float]] | None = None,
    hlines: Mapping[str, Mapping[str, float]] | None = None,
    level: float = 0.95,
) -> Figure:
    """Per-picture scores (panel → line → point → measure → values) as each point's mean `x` against its mean `y`,
    with `level` t-intervals over the pictures; a line joins its points in order, each point name has one marker.
    `labels` name the axes, `styles` give a line's plot keywords, `vlines`/`hlines` mark panel → label → value."""
    from matplotlib.lines import Line2D

    from .metrics import difference

    def mean_and_half(values: np.ndarray) -> tuple[float, float]:  # the mean and its t-interval's half-width
        d = difference(values, np.zeros_like(values, dtype=np.float64), level)
        return d["difference"], d["high"] - d["difference"]

    names = dict.fromkeys(point for lines in panels.values() for points in lines.values() for point in points)
    markers = dict(zip(names, "os^Dvp*", strict=False))
    labels, styles = labels or {}, styles or {}
    bar, note = {"mfc": "white", "capsize": 2, "elinewidth": 0.8, "zorder": 3}, {"fontsize": "small", "color": "0.35"}
    fig = Figure(figsize=(5.2 * len(panels), 4.4), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (panel, lines) in zip(axes, panels.items(), strict=True):
        for i, (line, points) in enumerate(lines.items()):
            style = {"color": f"C{i}", **styles.get(line, {})}
            at = np.array([[*mean_and_half(s[x]), *mean_and_half(s[y])] for s in points.values()])  # x, ±x, y, ±y
            ax.plot(at[:, 0], at[:, 2], label=line, **style)
            for point, (mx, hx, my, hy) in zip(points, at, strict=True):
                ax.errorbar(mx, my, xerr=hx, yerr=hy, marker=markers[point], color=style["color"], **bar)
        for label, value in (vlines or {}).get(panel, {}).items():
            ax.axvline(value, color="0.35", linestyle=":", linewidth=1.2)
            ax.annotate(label, (value, 0.98), xycoords=("data", "axes fraction"), rotation=90, ha="right", va="top", **note)
        for label, value in (hlines or {}).get(panel, {}).items():
            ax.axhline(value, color="0.35", linestyle="--", linewidth=1.2)
            ax.annotate(label, (0.02, value), xycoords=("axes fraction", "data"), va="bottom", **note)
        ax.set(title=panel, xlabel=labels.get(x, x), ylabel=labels.get(y, y))
    shapes = [Line2D([], [], color="0.3", marker=m, mfc="white", linestyle="none", label=p) for p, m in markers.items()]
    handles = [*axes[0].get_legend_handles_labels()[0], *shapes]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize="small", frameon=False)
    return fig


VERDICT_COLOURS = {"significant": "C0", "nominal only": "C1", "excludes 0": "C0", "within noise": "0.55"}


def verdict(d: Mapping) -> str:
    """A difference's verdict: with docs/experiments.md's multiple-testing keys ("real": q < 0.05, "nominal": only its
    own interval excludes 0) one of those three, else whether its own interval excludes 0."""
    if "real" in d:
        return "significant" if d["real"] else "nominal only" if d["nominal"] else "within noise"
    return "within noise" if d["low"] <= 0 <= d["high"] else "excludes 0"


def differences_figure(
    panels: Mapping[str, Mapping[str, Mapping]],
    xlabel: str = "difference A − B",
    title: str | None = None,
    width: float | None = None,
    notes: Mapping[str, Mapping[str, str]] | None = None,
) -> Figure:
    """Differences with their intervals, panel → row label → a difference (difference, low, high; with or without
    `load_results`' real and nominal), one panel per key side by side, coloured by `verdict`, with a line at no
    difference. `width` in inches: wider for long row labels. `notes` (panel → row → text) go right of the rows."""
    from matplotlib.lines import Line2D

    height = 0.9 + 0.34 * max(len(r) for r in panels.values())
    fig = Figure(figsize=(width or 2.2 + 3.4 * len(panels), height), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    seen = set()
    for ax, (panel, rows) in zip(axes, panels.items(), strict=True):
        for i, (row, d) in enumerate(rows.items()):
            seen.add(v := verdict(d))
            error = [[d["difference"] - d["low"]], [d["high"] - d["difference"]]]
            ax.errorbar(d["difference"], i, xerr=error, fmt="o", color=VERDICT_COLOURS[v], capsize=2)
            if note := (notes or {}).get(panel, {}).get(row):
                ax.annotate(note, (1.02, i), xycoords=("axes fraction", "data"), va="center", fontsize="small")
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(rows)), list(rows))
        ax.set(title=panel, xlabel=xlabel)
    axes[0].invert_yaxis()  # the first row on top; the axes share y, so once is enough
    shapes = [Line2D([], [], marker="o", linestyle="", color=c, label=v) for v, c in VERDICT_COLOURS.items() if v in seen]
    fig.legend(handles=shapes, loc="outside lower center", ncols=len(shapes), fontsize="small", frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def curves_figure(
    curves: Mapping[str, Mapping[str, Sequence[float]]],
    ticks: Sequence[str],
    styles: Mapping[str, Mapping] | None = None,
    star: tuple[str, str, str] | None = None,
    xlabel: str = "",
    ylabel: str = "",
) -> Figure:
    """One line per group and variant: `curves[group][variant]` holds one value per tick (evenly spaced); a group keeps
    one colour, a variant its `styles` keywords (say a dashed line); `star` = (group, variant, tick) marks one point."""
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(ticks))
    for i, (group, variants) in enumerate(curves.items()):
        for variant, values in variants.items():
            style = {"color": f"C{i}", "marker": "o", "markersize": 4, **(styles or {}).get(variant, {})}
            ax.plot(x, values, label=f"{group}, {variant}", **style)
    if star:
        group, variant, tick = star
        at = list(ticks).index(tick)
        ax.plot(
            at,
            curves[group][variant][at],
            marker="*",
            markersize=16,
            color="gold",
            markeredgecolor="black",
            linestyle="none",
            zorder=3,
            label="chosen",
        )
    ax.set(xticks=x, xticklabels=ticks, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", frameon=False)
    return fig


def frontier_figure(results: Mapping, runs: Mapping[str, tuple[str, str]]) -> Figure:
    """Chapter 10's candidates (`load_results("colour")`): colourfulness kept against mean ΔE2000, one line per run
    through its temperatures, on the holdout and the photos. Filled points pass the rule on that set (both floors and
    closer than grey), the gold star is the choice; `runs` (run → (label, colour)) are drawn in colour, the rest grey."""
    figures = rule_figures(results)
    chosen = results["choice"]["candidate"]
    grey = colour_figures(results["grey"], results["grey"], list(results["grey"]["photos"]))
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    axes = dict(zip(("holdout", "photos"), fig.subplots(1, 2, sharex=True), strict=True))
    lines: dict[str, list[str]] = {}
    for c, v in results["candidates"].items():
        lines.setdefault(v["run"], []).append(c)
    for run in sorted(lines, key=lambda r: list(runs).index(r) if r in runs else -1):  # the named runs on top
        cands = sorted(lines[run], key=lambda c: results["candidates"][c]["temperature"])  # from T = 0.1 up
        label, colour = runs.get(run, ("other bins or crops", "0.8"))
        style = {"color": colour, "zorder": 2 if run in runs else 1}
        for where, ax in axes.items():
            x, y = ([figures[c][where][k] for c in cands] for k in ("colourfulness", "delta_e"))
            ax.plot(x, y, "-", linewidth=1.2, label=label, **style)
            for c, xi, yi in zip(cands, x, y, strict=True):
                full = style["color"] if colour_feasible(figures[c][where]) else "white"
                ax.plot(xi, yi, "o", markersize=5, markerfacecolor=full, markeredgecolor=style["color"], zorder=style["zorder"])
            if run in runs:
                ax.annotate("T 0.1", (x[0], y[0]), fontsize=6, xytext=(2, 2), textcoords="offset points")
    for where, ax in axes.items():
        ax.plot(
            *(figures[chosen][where][k] for k in ("colourfulness", "delta_e")),
            "*",
            color="gold",
            markeredgecolor="black",
            markersize=15,
            zorder=4,
            label="the rule's choice",
        )
        ax.axhline(grey[where]["delta_e"], color="grey", linestyle="--", label="grey picture")
        floor = COLOUR_FLOORS["colourfulness"]  # the rule's, so the line and the filled points agree
        ax.axvline(floor, color="black", linestyle=":", label=f"{floor:.0%} of the colourfulness")
        title = {"holdout": "CIFAR-10 holdout, all classes", "photos": "the eight photographs"}[where]
        ax.set(title=title, xlabel="colourfulness (share of the originals')", ylabel="mean ΔE2000 (lower is closer)")
    handles, names = axes["holdout"].get_legend_handles_labels()
    legend = dict(zip(names, handles, strict=True))  # one entry per label
    fig.legend(legend.values(), legend.keys(), loc="outside right upper", fontsize=7)
    return fig


# Legend labels say what each colour means: grey is about the truth, red and green about the prediction.
HUE_MAP_COLOURS = {
    "agrees: hue within 45° of the truth's": (60, 170, 75),
    "misses: hue wrong, or too faint to name": (215, 45, 45),
    "not judged: the truth is too grey": (200, 200, 200),
}


def hue_map(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """`metrics.hue_agreement` pixel by pixel, as uint8 RGB of the pictures' shape: green where the hue
    agrees, red where it misses (a wrong hue, or one too faint to name), light grey where the truth is too
    grey to count (CIELAB chroma ≤ 20)."""
    from .errors import ColorlibError
    from .metrics import hue_agreement_counts

    if np.shape(predicted) != np.shape(truth):
        raise ColorlibError(
            f"a hue map needs predictions shaped as the originals, got {np.shape(predicted)} and {np.shape(truth)}"
        )
    # Each pixel as a 1×1 picture of its own: the metric's own counts are then per-pixel verdicts (no second copy).
    agree, coloured = hue_agreement_counts(np.reshape(predicted, (-1, 1, 1, 3)), np.reshape(truth, (-1, 1, 1, 3)))
    colours = np.array(list(HUE_MAP_COLOURS.values()), np.uint8)
    verdict = np.where(coloured == 0, 2, np.where(agree > 0, 0, 1))  # 0 agrees, 1 misses, 2 not judged
    return colours[verdict].reshape(np.shape(truth))


def hue_figure(
    truth: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    scale: float = 1.0,
    confidence: tuple[str, np.ndarray] | None = None,
) -> Figure:
    """The originals (N×H×W×3 uint8), then each colourisation above its `hue_map`, in labelled rows with a legend.
    `confidence` = (name, N×H×W×K bin probabilities) adds a last row: each pixel's top probability, from 1/K (no
    preference) to the highest shown, with a colour bar."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patches import Patch

    rows = {"original": truth}
    for name, predicted in predictions.items():
        rows[name] = predicted
        rows[f"{name}: hue"] = hue_map(predicted, truth)
    if confidence is not None:
        name, probs = confidence
        top = np.asarray(probs).max(-1)
        shade = Normalize(1 / probs.shape[-1], float(top.max()))
        rows[f"{name}: confidence"] = (colormaps["magma"](shade(top))[..., :3] * 255).astype(np.uint8)
    fig = rows_figure(rows, scale=scale)
    if confidence is not None:
        fig.colorbar(ScalarMappable(shade, "magma"), ax=fig.axes[0], shrink=0.25, anchor=(0, 0), label="confidence")
    patches = [Patch(facecolor=np.array(c) / 255, edgecolor="0.4", label=label) for label, c in HUE_MAP_COLOURS.items()]
    fig.legend(handles=patches, loc="outside lower center", ncols=len(patches), fontsize="small", frameon=False)
    return fig

"""Notebook widgets: CNN vs UNet over every epoch, decoding temperatures, and colourising an upload.

The comparison and the temperature explorer are built from frames rendered up front and switched
in the browser with `jslink`, so their sliders and pickers keep working in a static render of a
saved notebook (no kernel needed). The upload view needs a live kernel, as it runs the models.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image

from .colorize import PHOTO_DECODING, colorize, read_image
from .errors import ColorlibError

try:
    import ipywidgets as W
except ImportError:  # pragma: no cover - depends on the installation
    raise ColorlibError("colorlib.widgets needs ipywidgets: pip install 'colorlib[notebooks]'") from None
from .data import grey_rgb
from .plot import image_grid, loss_figure
from .runs import Run

LABEL_STYLE = (
    "width:100px;min-width:100px;max-width:100px;white-space:nowrap;text-align:right;padding:0 8px 0 0;"
    "font-size:13px;vertical-align:middle"
)


def _png(rgb: np.ndarray) -> bytes:
    """Lossless PNG bytes; images with at most 256 colours (palette outputs) are stored indexed."""
    colours, index = np.unique(rgb.reshape(-1, 3), axis=0, return_inverse=True)
    if len(colours) <= 256:
        img = Image.fromarray(index.reshape(rgb.shape[:2]).astype(np.uint8), mode="P")
        img.putpalette(colours.astype(np.uint8).reshape(-1).tolist())
    else:
        img = Image.fromarray(rgb)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def png_tag(rgb: np.ndarray, scale: float = 3, alt: str = "", shrink: bool = False) -> str:
    """An <img> holding `rgb` as an inline PNG, enlarged `scale`× with crisp (pixelated) edges.

    `shrink=True` lets it narrow (keeping its aspect) to fit a narrower container instead of being cut.
    """
    data = base64.b64encode(_png(rgb)).decode()
    h, w = rgb.shape[:2]
    size = (
        f"width:{w * scale:g}px;max-width:100%;height:auto;aspect-ratio:{w}/{h}"
        if shrink
        else f"width:{w * scale:g}px;height:{h * scale:g}px;max-width:none"
    )
    return f'<img alt="{alt}" src="data:image/png;base64,{data}" style="{size};image-rendering:pixelated">'


LABEL_WIDTH = 108  # LABEL_STYLE's 100 px and its 8 px of padding


def _rows(rows: Sequence[tuple[str, np.ndarray]], scale: float) -> W.HTML:
    """A table of labelled image rows (each n×H×W×3), one HTML widget, narrowing to fit a narrow output area.

    A fixed table layout gives the label its width and the pictures the rest, so in a JupyterLab
    beside its side panel the tenth picture shrinks with the others rather than being cut off.
    """
    grids = [(label, image_grid([images])) for label, images in rows]
    widest = max(grid.shape[1] for _, grid in grids) * scale + LABEL_WIDTH
    cells = "".join(
        f'<tr><td style="{LABEL_STYLE}">{label}</td><td style="padding:0">{png_tag(grid, scale, label, shrink=True)}</td></tr>'
        for label, grid in grids
    )
    return W.HTML(
        f'<table style="border-collapse:collapse;margin:0;table-layout:fixed;width:100%;max-width:{widest:g}px">'
        f'<colgroup><col style="width:{LABEL_WIDTH}px"><col></colgroup>{cells}</table>'
    )


def _loss_with_marker(histories: list[list[dict]], labels: list[str], title: str, epochs: int, dpi: int = 70):
    """One loss-curve image plus, per epoch, a tiny transparent overlay holding the epoch marker.

    Rendering the figure once and moving only a 2-pixel line keeps a saved notebook small.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = loss_figure(histories, labels=labels, title=title)
    fig.set_dpi(dpi)
    FigureCanvasAgg(fig).draw()  # lay the figure out, so data → pixel positions are final
    ax = fig.axes[0]
    width, height = fig.canvas.get_width_height()
    box = ax.get_window_extent()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    picture = W.HTML(
        f'<img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}" '
        f'style="width:{width}px;height:{height}px;max-width:none;display:block">'
    )
    # The picture sits in a one-page Stack, as each marker does: the same widget nesting, hence the same
    # offsets in every renderer (JupyterLab indents an HTML widget inside a box where the static page does not).
    image = W.Stack([picture], selected_index=0, layout=W.Layout(grid_area="plot"))
    markers = []
    for e in range(epochs):
        x = ax.transData.transform((e, 0))[0]
        markers.append(
            W.HTML(
                f'<div style="position:relative;width:{width}px;height:{height}px;pointer-events:none">'
                f'<div style="position:absolute;left:{x - 1:.1f}px;top:{height - box.y1:.1f}px;height:{box.height:.1f}px;'
                f'border-left:2px solid #222;opacity:0.7"></div></div>'
            )
        )
    return image, markers


def _run_key(run: Run) -> tuple[str, str, int]:
    cls = "+".join(run.config["train"]["classes"])
    return run.model.config.arch, cls, run.palette.num_colors


def compare_epochs(runs: Sequence[Run], scale: float = 2.5, images: int = 10) -> W.VBox:
    """Epoch slider, class and palette-size pickers, CNN and UNet predictions side by side.

    `runs` holds a `cnn` and a `unet` run for each (class, palette size); rows show the grey
    input, both predictions at the chosen epoch, the palette truth and the original, and the
    loss curves of both architectures with a marker at that epoch.
    """
    by_key = {_run_key(r): r for r in runs}
    classes = sorted({c for _, c, _ in by_key}, key=lambda c: (c != "horse", c))
    sizes = sorted({k for _, _, k in by_key})
    missing = [(a, c, k) for a in ("cnn", "unet") for c in classes for k in sizes if (a, c, k) not in by_key]
    if missing:
        raise ColorlibError(f"compare_epochs needs a cnn and a unet run for every class and size; missing {missing}")
    epochs = min(len(r.history) for r in runs)
    slider = W.IntSlider(0, min=0, max=epochs - 1, description="epoch", continuous_update=True, layout=W.Layout(width="520px"))
    class_picker = W.ToggleButtons(options=classes, description="class")
    size_picker = W.ToggleButtons(options=[f"{k} colours" for k in sizes], description="palette")

    def combo(cls: str, k: int) -> W.VBox:
        cnn, unet = by_key["cnn", cls, k], by_key["unet", cls, k]
        originals = cnn.snapshots.images[:images]
        frames = [
            _rows(
                [("CNN", cnn.snapshots.rgb(e, cnn.palette)[:images]), ("UNet", unet.snapshots.rgb(e, unet.palette)[:images])],
                scale,
            )
            for e in range(epochs)
        ]
        plot_image, markers = _loss_with_marker(
            [cnn.history[:epochs], unet.history[:epochs]], ["CNN", "UNet"], f"{cls}, {k} colours", epochs
        )
        frame_stack = W.Stack(frames, selected_index=0)
        marker_stack = W.Stack(markers, selected_index=0, layout=W.Layout(grid_area="plot"))
        W.jslink((slider, "value"), (frame_stack, "selected_index"))
        W.jslink((slider, "value"), (marker_stack, "selected_index"))
        # the marker overlay shares the plot's grid cell, so it is drawn on top of the curves
        losses = W.GridBox([plot_image, marker_stack], layout=W.Layout(grid_template_areas='"plot"'))
        top = _rows([("grey input", grey_rgb(originals))], scale)
        bottom = _rows([("palette truth", cnn.palette.saturate(originals)), ("original", originals)], scale)
        return W.VBox([top, frame_stack, bottom, losses])

    per_class = []
    for cls in classes:
        stack = W.Stack([combo(cls, k) for k in sizes], selected_index=0)
        W.jslink((size_picker, "index"), (stack, "selected_index"))
        per_class.append(stack)
    outer = W.Stack(per_class, selected_index=0)
    W.jslink((class_picker, "index"), (outer, "selected_index"))
    return W.VBox([W.HBox([class_picker, size_picker]), slider, outer])


def decoding_explorer(
    runs: Mapping[str, Run],
    images: np.ndarray,
    temperatures: Sequence[float] = (0.01, 0.1, 0.2, 0.38, 0.6, 1.0),
    scale: float = 2.5,
    keep_luma: bool = False,
) -> W.VBox:
    """A temperature slider: each run's annealed-mean colourisation of `images` at T, beside argmax.

    T → 0 gives the argmax picture (palette colours only); T = 1 the plain expected colour.
    `keep_luma=True` shows every colourisation on the input's own lightness.
    """
    images = np.asarray(images)
    temperatures = [float(t) for t in temperatures]
    slider = W.SelectionSlider(
        options=[(f"{t:g}", i) for i, t in enumerate(temperatures)],
        value=0,
        description="T",
        continuous_update=True,
        layout=W.Layout(width="520px"),
    )

    def paint(run: Run, **how) -> np.ndarray:
        return np.stack([colorize(run, im, keep_luma=keep_luma, scale="native", **how) for im in images])

    frames = [
        _rows([(f"{name} T={t:g}", paint(run, decoding="annealed-mean", temperature=t)) for name, run in runs.items()], scale)
        for t in temperatures
    ]
    stack = W.Stack(frames, selected_index=0)
    W.jslink((slider, "index"), (stack, "selected_index"))  # index, not value: only index syncs to the browser
    fixed = [("grey input", grey_rgb(images))]
    fixed += [(f"{name} argmax", paint(run)) for name, run in runs.items()]
    return W.VBox([slider, _rows(fixed, scale), stack, _rows([("original", images)], scale)])


def upload_colorizer(runs: Mapping[str, Run], max_side: int = 1024) -> W.VBox:
    """A FileUpload: the picture you upload, its grey version, and each run's colourisation.

    Toggles switch the decoding (the photo default first) and the scale: the working scale of
    `colorize` (colour under the picture's own lightness) or its own size, the original way; the
    annealed mean runs at each model's own temperature (`Run.temperature`) unless the box is cleared.
    """
    upload = W.FileUpload(accept="image/*", multiple=False, description="Upload image")
    decoding = W.ToggleButtons(
        options=[("annealed mean", "annealed-mean"), ("argmax", "argmax")], value=PHOTO_DECODING, description="decoding"
    )
    own = W.Checkbox(value=True, description="each model's own T", indent=False)  # Run.temperature, as colorize uses
    temperature = W.FloatSlider(value=0.38, min=0.05, max=1.0, step=0.01, description="T", continuous_update=False, disabled=True)
    scale = W.ToggleButtons(options=[("working scale", "auto"), ("own size (the original way)", "native")], description="scale")
    result = W.HTML("<i>Choose a picture: each model colours it as <code>colorlib.colorize</code> does.</i>")

    def show(change=None) -> None:
        files = upload.value
        if not files:
            return
        item = files[0]
        try:
            rgb = read_image(bytes(item["content"]))
        except ColorlibError as e:
            result.value = f'<b style="color:#b00">{e}</b>'
            return
        if max(rgb.shape[:2]) > max_side:  # keep the page light: show at most max_side pixels
            img = Image.fromarray(rgb)
            img.thumbnail((max_side, max_side))
            rgb = np.asarray(img)
        enlarge = max(1, 160 // max(rgb.shape[:2]))  # enlarge tiny pictures so they can be seen
        cells = [("original", rgb), ("grey input", grey_rgb(rgb))]
        t = None if own.value else temperature.value
        how = dict(decoding=decoding.value, temperature=t, scale=scale.value)
        cells += [(name, colorize(run, rgb, **how)) for name, run in runs.items()]
        row = "".join(
            f'<td style="text-align:center;padding:4px"><div>{label}</div>{png_tag(im, enlarge, label)}</td>'
            for label, im in cells
        )
        shown_t = "each model's own T" if own.value else f"T={temperature.value:g}"
        said = "argmax" if decoding.value == "argmax" else f"annealed mean, {shown_t}"
        said += ", working scale" if scale.value == "auto" else ", own size"
        result.value = f'<div class="colorlib-upload-result"><b>{item["name"]}</b> ({said})<table><tr>{row}</tr></table></div>'

    upload.observe(show, names="value")
    decoding.observe(show, names="value")
    temperature.observe(show, names="value")
    scale.observe(show, names="value")

    def free_slider(change=None) -> None:
        temperature.disabled = own.value
        show()

    own.observe(free_slider, names="value")
    return W.VBox([upload, W.HBox([decoding, own, temperature, scale]), result])

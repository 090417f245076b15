import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from colorlib.data import to_grey
from colorlib.errors import ImageError, RunError
from colorlib.models import build, summary
from colorlib.palette import Palette, load_palette
from colorlib.plot import (
    architecture_figure,
    frequency_figure,
    grey_rgb,
    grid_figure,
    heatmap_figure,
    image_grid,
    loss_figure,
    swatch_figure,
)


def test_grid_rows_are_grey_prediction_truth_original():
    palette = load_palette("horse16")
    images = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    predictions = np.random.default_rng(1).integers(0, 16, (3, 32, 32))
    grid = image_grid([grey_rgb(images), palette.decode(predictions), palette.saturate(images), images])
    assert grid.shape == (4 * 33 + 1, 3 * 33 + 1, 3)

    def cell(row, col):
        return grid[1 + 33 * row : 33 * (row + 1), 1 + 33 * col : 33 * (col + 1)]

    np.testing.assert_array_equal(cell(0, 1)[..., 0], np.rint(to_grey(images[1]) * 255).astype(np.uint8))
    np.testing.assert_array_equal(cell(1, 2), palette.decode(predictions[2]))
    np.testing.assert_array_equal(cell(2, 0), palette.saturate(images[0]))
    np.testing.assert_array_equal(cell(3, 2), images[2])


def test_figures_are_returned_not_shown():
    palette = load_palette("horse32")
    images = np.zeros((2, 32, 32, 3), np.uint8)
    assert isinstance(grid_figure(images, np.zeros((2, 32, 32), int), palette, title="t"), Figure)
    history = [{"epoch": e, "train_loss": 3 - e, "val_loss": 3.2 - e} for e in range(3)]
    fig = loss_figure([history, history], labels=["cnn", "unet"], marker_epoch=1)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 5  # train + validation for two runs, and the epoch marker
    np.testing.assert_allclose(lines[1].get_ydata(), [3.2, 2.2, 1.2])
    assert isinstance(swatch_figure(palette), Figure)
    bars = frequency_figure(palette, np.array([0, 0, 1, 31])).axes[0].patches
    assert [round(b.get_height(), 2) for b in bars[:3]] == [0.5, 0.25, 0.0] and len(bars) == 32


def test_heatmap_writes_every_value_and_frequency_shows_weights():
    values = np.array([[1.0, 2.5], [0.25, np.nan]])
    fig = heatmap_figure(values, ["a model", "b model"], ["x", "y"], "title")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["1.00", "2.50", "0.25", "nan"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a model", "b model"]
    palette = Palette(np.array([[0, 0, 0], [255, 0, 0], [0, 0, 255]], np.uint8))
    plain = frequency_figure(palette, np.array([0, 0, 1]))
    weighted = frequency_figure(palette, np.array([0, 0, 1]), weights=np.array([0.5, 1.0, 2.0]))
    assert len(plain.axes) == 1 and len(weighted.axes) == 2
    np.testing.assert_array_equal(weighted.axes[1].lines[0].get_ydata(), [0.5, 1.0, 2.0])


def test_architecture_figure_is_drawn_from_the_real_model():
    for arch, skips in [("unet", ["down2 skip: 64×8×8", "down1 skip: 32×16×16", "grey skip: 1×32×32"]), ("cnn", [])]:
        ax = architecture_figure(arch, num_colors=16).axes[0]
        arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
        assert len([a for a in arrows if a.get_gid() == "skip"]) == len(skips) and len(arrows) == 6 + len(skips)
        texts = [t.get_text() for t in ax.texts]
        assert [t for t in texts if "skip" in t] == skips
        blocks = summary(build(arch, 16))
        labels = [f"{name}\n{c}×{h}×{w}\n{params:,} params" for name, _, (_, c, h, w), params in blocks]
        assert texts[: len(blocks) + 1] == ["grey input\n1×32×32", *labels]  # each block's real shape and count, in order
        assert labels[-1].startswith("final\n16×32×32")  # one logit per colour of the palette asked for
        assert f"{sum(b[3] for b in blocks):,} parameters" in ax.get_title()
        hidden = architecture_figure(arch, num_colors=16, params=False).axes[0]  # chapter 03 asks the learner to count
        shapes = [f"{name}\n{c}×{h}×{w}" for name, _, (_, c, h, w), _ in blocks]
        assert [t.get_text() for t in hidden.texts][: len(blocks) + 1] == ["grey input\n1×32×32", *shapes]
        assert "parameters" not in hidden.get_title() and not any("params" in t.get_text() for t in hidden.texts)


def test_rows_figure_numbers_its_columns_so_prose_can_name_a_picture():
    from colorlib.plot import rows_figure

    images = np.random.default_rng(0).integers(0, 256, (7, 32, 32, 3), dtype=np.uint8)
    ax = rows_figure({"grey": grey_rgb(images), "truth": images}).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["grey", "truth"]
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(j) for j in range(1, 8)]
    centres = ax.get_xticks()
    assert np.allclose(np.diff(centres), 33) and np.isclose(centres[0], 16.5)  # over each picture's middle
    assert not rows_figure({"one": images[:1]}).axes[0].get_xticklabels()  # a single picture needs no number
    epochs = ["epoch 19", "epoch 20", "epoch 21"]  # one picture's epochs across: the columns carry their labels
    labelled = rows_figure({"CNN": images[:3], "UNet": images[3:6]}, columns=epochs).axes[0]
    assert [t.get_text() for t in labelled.get_xticklabels()] == epochs
    assert [t.get_text() for t in rows_figure({"one": images[:1]}, columns=["epoch 29"]).axes[0].get_xticklabels()] == [
        "epoch 29"
    ]
    with pytest.raises(ImageError, match="one label per column"):
        rows_figure({"CNN": images[:3]}, columns=epochs[:2])


def test_confidence_figure_scales_its_colours_to_the_probabilities_it_shows():
    from colorlib.plot import confidence_figure

    probs = np.full((4, 6, 64), 1 / 64)
    probs[0, 0] = np.r_[0.2, np.full(63, 0.8 / 63)]  # one pixel leans to one bin; its top probability is 0.2
    colored = np.zeros((4, 6, 3), dtype=np.uint8)
    shown = confidence_figure(colored, probs).axes[1].images[0]
    assert np.isclose(shown.norm.vmin, 1 / 64) and np.isclose(shown.norm.vmax, 0.2)  # not a near-black map up to 1
    assert "to 0.20" in confidence_figure(colored, probs).axes[2].get_ylabel()
    assert confidence_figure(colored, probs, vmax=1.0).axes[1].images[0].norm.vmax == 1.0


def test_epochs_figure_shows_only_the_pictures_asked_for():
    from types import SimpleNamespace

    from colorlib.plot import epochs_figure
    from colorlib.runs import Snapshots

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    predictions = rng.integers(0, 256, (3, 6, 32, 32, 3), dtype=np.uint8)  # RGB, as a regression run saves them
    run = SimpleNamespace(snapshots=Snapshots(np.arange(3), predictions, images), palette=None)
    grid = epochs_figure(run, run, epochs=(0, 2), pictures=[3, 6]).axes[0].images[0].get_array()
    assert grid.shape[1] == 2 * 33 + 1  # two columns, not six

    def cell(row, col):
        return np.asarray(grid[1 + 33 * row : 33 * (row + 1), 1 + 33 * col : 33 * (col + 1)])

    np.testing.assert_array_equal(cell(1, 0), predictions[0, 2])  # CNN, epoch 0, picture 3
    np.testing.assert_array_equal(cell(4, 1), predictions[2, 5])  # UNet, epoch 2, picture 6
    np.testing.assert_array_equal(cell(5, 1), images[5])  # the original of picture 6
    full = epochs_figure(run, run, epochs=(0,)).axes[0].images[0].get_array()
    assert full.shape[1] == 6 * 33 + 1
    with pytest.raises(RunError, match="pictures 1 to 6, got \\[0, 7\\]"):  # numbered from 1, as the slider shows them
        epochs_figure(run, run, pictures=[0, 7])

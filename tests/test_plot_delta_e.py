"""plot.delta_e_figure: a picture beside tinted copies whose measured mean ΔE2000 is near each target."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from skimage.color import deltaE_ciede2000, rgb2lab

from colorlib.errors import DataError
from colorlib.pixels import luma
from colorlib.plot import delta_e_figure, tinted_copy


def test_each_copy_is_titled_with_its_measured_delta_e_near_the_target_and_keeps_the_lightness():
    picture = np.random.default_rng(0).integers(40, 216, (16, 16, 3), dtype=np.uint8)
    targets = (1.0, 6.0, 20.0)
    fig = delta_e_figure(picture, targets)
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert [ax.get_title() for ax in axes][0] == "original" and len(axes) == 1 + len(targets)
    np.testing.assert_array_equal(np.asarray(axes[0].get_images()[0].get_array()), picture)
    for ax, target in zip(axes[1:], targets, strict=True):
        copy = np.asarray(ax.get_images()[0].get_array())
        measured = deltaE_ciede2000(rgb2lab(picture), rgb2lab(copy)).mean()
        assert ax.get_title() == f"ΔE2000 {measured:.1f}"
        assert abs(measured - target) < 0.2, (target, measured)
        np.testing.assert_array_equal(luma(copy), luma(picture))  # only the colour moved, not the lightness


def test_it_wants_one_uint8_picture():
    with pytest.raises(DataError, match="one uint8 RGB picture"):
        delta_e_figure(np.zeros((2, 8, 8, 3), np.uint8))
    with pytest.raises(DataError, match="one uint8 RGB picture"):
        delta_e_figure(np.zeros((8, 8, 3)))


def test_tinted_copy_is_the_figures_panel_and_refuses_a_batch():
    picture = np.random.default_rng(1).integers(40, 216, (12, 12, 3), dtype=np.uint8)
    copy = tinted_copy(picture, 11.0)
    panel = np.asarray(delta_e_figure(picture, (11.0,)).axes[1].get_images()[0].get_array())
    np.testing.assert_array_equal(copy, panel)  # the notebook's copy is the one the figure draws
    assert abs(deltaE_ciede2000(rgb2lab(picture), rgb2lab(copy)).mean() - 11.0) < 0.2
    with pytest.raises(DataError, match="one uint8 RGB picture"):
        tinted_copy(np.zeros((2, 8, 8, 3), np.uint8), 11.0)

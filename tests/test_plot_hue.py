import numpy as np
import pytest

from colorlib.errors import ColorlibError
from colorlib.metrics import hue_agreement
from colorlib.plot import HUE_MAP_COLOURS, hue_figure, hue_map

AGREES, MISSES, NOT_JUDGED = (np.array(c, np.uint8) for c in HUE_MAP_COLOURS.values())


def _pictures(seed: int = 0) -> np.ndarray:
    """Three 8×8 pictures: saturated random colours, with a greyish top row (too grey to judge)."""
    rng = np.random.default_rng(seed)
    pictures = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    pictures[:, 0] = 128 + rng.integers(-2, 3, (3, 8, 1), dtype=np.int64).astype(np.uint8)
    return pictures


def _is(picture: np.ndarray, colour: np.ndarray) -> np.ndarray:
    return (picture == colour).all(-1)


def test_hue_map_marks_each_pixel_as_hue_agreement_counts_it():
    truth = _pictures()
    own = hue_map(truth, truth)
    assert own.shape == truth.shape and own.dtype == np.uint8
    assert _is(own[:, 0], NOT_JUDGED).all()  # the greyish row is too grey for a hue
    assert (_is(own, AGREES) | _is(own, NOT_JUDGED)).all() and _is(own, AGREES).any()  # the truth agrees with itself
    grey = np.repeat(truth.mean(-1, keepdims=True).astype(np.uint8), 3, -1)
    grey_map = hue_map(grey, truth)
    assert (_is(grey_map, MISSES) == ~_is(own, NOT_JUDGED)).all()  # grey names no hue: it misses every judged pixel
    guess = _pictures(seed=1)
    shown = hue_map(guess, truth)
    agree, judged = _is(shown, AGREES).sum(), (~_is(shown, NOT_JUDGED)).sum()
    assert agree / judged == pytest.approx(hue_agreement(guess, truth))  # the map's green share is the metric


def test_hue_map_refuses_pictures_of_another_shape():
    with pytest.raises(ColorlibError, match="shaped as the originals"):
        hue_map(_pictures()[:2], _pictures())


def test_hue_figure_puts_each_map_under_its_colourisation_with_a_legend():
    truth = _pictures()
    fig = hue_figure(truth, {"model": _pictures(seed=1), "truth": truth})
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["original", "model", "model: hue", "truth", "truth: hue"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(HUE_MAP_COLOURS)
    agrees, misses, not_judged = HUE_MAP_COLOURS  # each label says what its colour means, and whose colour it is
    assert "45°" in agrees and "too faint" in misses and "truth" in not_judged


def test_hue_figure_adds_a_confidence_row_shaded_from_no_preference_to_the_surest_pixel():
    truth = _pictures()
    probs = np.full((3, 8, 8, 4), 0.25)  # no preference anywhere but one pixel
    probs[1, 2, 3] = [0.85, 0.05, 0.05, 0.05]
    fig = hue_figure(truth, {"model": _pictures(seed=1)}, confidence=("model", probs))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["original", "model", "model: hue", "model: confidence"]
    (bar,) = [ax for ax in fig.axes[1:] if ax.get_label() == "<colorbar>"]
    assert bar.get_ylim() == pytest.approx((0.25, 0.85))  # from 1/K to the surest pixel shown

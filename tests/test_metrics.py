import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from colorlib.data import ColorData, luma, with_luma
from colorlib.errors import ColorlibError
from colorlib.metrics import (
    REFERENCE_ROWS,
    balanced_accuracy,
    best_palette_colours,
    colourfulness,
    compare,
    cross_class_matrix,
    cross_entropy,
    evaluate,
    format_table,
    image_scores,
    pixel_accuracy,
    predict,
    quantization_error,
    reference_scores,
    score,
)
from colorlib.models import build
from colorlib.palette import Palette, load_palette


def test_cross_entropy_and_accuracy_by_hand():
    logits = torch.zeros(1, 2, 1, 2)
    logits[0, 0, 0, 0] = math.log(3)  # pixel 0: p(class 0) = 3/4; pixel 1: uniform
    targets = torch.tensor([[[0, 1]]])
    assert cross_entropy(logits, targets) == pytest.approx((-math.log(0.75) + math.log(2)) / 2)
    assert pixel_accuracy(logits, targets) == 0.5  # pixel 1 ties → argmax 0 → wrong
    assert pixel_accuracy(torch.tensor([[[0, 1]]]), targets) == 1.0


def test_evaluate_is_the_mean_over_all_pixels_whatever_the_batch_size():
    torch.manual_seed(0)
    model = build("cnn", 8, nf=4).eval()
    grey = torch.rand(7, 1, 8, 8)
    targets = torch.randint(0, 8, (7, 8, 8))
    with torch.no_grad():
        logits = model(grey)
    expected = F.cross_entropy(logits, targets).item()
    for batch in (1, 3, 7, 100):
        result = evaluate(model, grey, targets, batch_size=batch)
        assert result["cross_entropy"] == pytest.approx(expected, rel=1e-6)
        assert result["pixel_accuracy"] == pytest.approx((logits.argmax(1) == targets).float().mean().item())
        assert result["images"] == 7
    assert torch.equal(predict(model, grey, batch_size=2), logits.argmax(1).to(torch.uint8))


def test_evaluate_restores_training_mode():
    model = build("cnn", 4, nf=4).train()
    evaluate(model, torch.rand(2, 1, 8, 8), torch.zeros(2, 8, 8, dtype=torch.long))
    assert model.training


def test_quantization_error():
    palette = Palette(np.array([[0, 0, 0], [255, 255, 255]], np.uint8))
    images = np.array([[[3, 4, 0], [255, 255, 255]]], np.uint8)  # distances 5 and 0
    assert quantization_error(images, palette) == pytest.approx(2.5)


def test_balanced_accuracy_weighs_every_colour_alike():
    targets = np.array([0] * 90 + [1] * 10)
    always_zero = np.zeros(100, int)
    assert balanced_accuracy(always_zero, targets, 4) == pytest.approx(0.5)  # colours 2, 3 absent: left out
    assert pixel_accuracy(torch.from_numpy(always_zero), torch.from_numpy(targets)) == pytest.approx(0.9)
    half_of_one = always_zero.copy()
    half_of_one[90:95] = 1
    assert balanced_accuracy(half_of_one, targets, 4) == pytest.approx((1 + 0.5) / 2)


def test_colourfulness_by_hand():
    grey = np.full((2, 4, 4, 3), 77, np.uint8)
    assert colourfulness(grey) == 0
    red = np.zeros((1, 2, 2, 3), np.uint8)
    red[..., 0] = 200  # rg = 200, yb = 100 everywhere: σ = 0, μ = √(200² + 100²)
    assert colourfulness(red) == pytest.approx(0.3 * math.hypot(200, 100))
    half = np.concatenate([red, grey[:1, :2, :2]], axis=2)  # half red, half grey: spread adds to the mean term
    assert colourfulness(half) > 0.3 * math.hypot(100, 50)


def test_image_scores_use_scikit_image():
    from skimage.color import deltaE_ciede2000, rgb2lab
    from skimage.metrics import peak_signal_noise_ratio

    rng = np.random.default_rng(0)
    truth = rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    noisy = np.clip(truth.astype(int) + rng.integers(-20, 21, truth.shape), 0, 255).astype(np.uint8)
    scores = image_scores(noisy, truth)
    each = [peak_signal_noise_ratio(t, n, data_range=255) for t, n in zip(truth, noisy, strict=True)]
    assert scores["psnr"] == pytest.approx(np.mean(each)) and not scores["psnr_pooled"]  # the per-picture mean
    assert scores["psnr"] != pytest.approx(peak_signal_noise_ratio(truth, noisy, data_range=255), abs=1e-4)
    exact = noisy.copy()
    exact[0] = truth[0]  # one picture reproduced exactly: its PSNR is infinite, so the figure is pooled
    pooled = image_scores(exact, truth)
    assert pooled["psnr_pooled"] and pooled["psnr"] == pytest.approx(peak_signal_noise_ratio(truth, exact, data_range=255))
    assert scores["delta_e"] == pytest.approx(deltaE_ciede2000(rgb2lab(truth), rgb2lab(noisy)).mean())
    assert 0 < scores["ssim"] < 1
    perfect = image_scores(truth, truth)
    assert perfect["psnr"] == math.inf and perfect["ssim"] == pytest.approx(1) and perfect["delta_e"] == 0
    with pytest.raises(ColorlibError, match="one shape"):
        image_scores(truth[:2], truth)


def test_delta_e_map_is_per_pixel_and_its_mean_is_the_score():
    from colorlib.metrics import delta_e_map, delta_e_per_image

    rng = np.random.default_rng(1)
    truth = rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    shifted = truth.copy()
    shifted[1, 2, 3] = 255 - shifted[1, 2, 3]  # one pixel of the second picture changed
    each = delta_e_map(shifted, truth)
    assert each.shape == (2, 8, 8) and np.count_nonzero(each) == 1 and each[1, 2, 3] > 10
    assert delta_e_per_image(shifted, truth) == pytest.approx([0, each[1, 2, 3] / 64])
    assert delta_e_map(shifted[1], truth[1]).shape == (8, 8)  # one picture H×W×3 gives one map H×W


@pytest.mark.parametrize("shape", [(2, 2), (1, 32), (32, 1), (1, 1)])
def test_pictures_too_small_for_an_ssim_window_give_no_nan_mean(shape):
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 256, (3, *shape, 3), dtype=np.uint8)
    guess = rng.integers(0, 256, truth.shape, dtype=np.uint8)
    scores = image_scores(guess, truth)
    assert scores["ssim"] is None  # undefined, and said so: not NaN
    assert all(np.isfinite(scores[k]) for k in ("psnr", "delta_e"))
    assert "—" in format_table({"tiny": {**scores, "colourfulness": 0.0}})  # shown as "does not apply"
    three = lambda x: x[:, :1, :1].repeat(3, 1).repeat(3, 2)  # noqa: E731 - 3×3: the smallest window fits
    assert image_scores(three(guess), three(truth))["ssim"] is not None


def test_reference_rows_are_the_floor_the_palette_truth_and_the_ceiling():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    palette = Palette.fit(images, 8)
    rows = reference_scores(images, palette)
    assert list(rows) == list(REFERENCE_ROWS)
    snapped, grey = rows["palette truth"], rows["grey baseline"]
    assert snapped["pixel_accuracy"] == 1 and snapped["balanced_accuracy"] == 1
    assert grey["colourfulness"] == 0 and snapped["colourfulness"] > 0
    assert snapped["delta_e"] < grey["delta_e"] and snapped["cross_entropy"] is None
    # the best choice per pixel is a ceiling: no palette picture beats it, the snapped truth included
    assert rows["best palette colour"]["delta_e"] < snapped["delta_e"]
    assert rows["best palette colour + input luma"]["delta_e"] < rows["palette truth + input luma"]["delta_e"]


@pytest.mark.parametrize("keep_luma", [False, True])
def test_best_palette_colours_is_the_per_pixel_best_choice(keep_luma):
    """Brute force: every palette colour (on the pixel's own lightness if asked) scored by ΔE2000, first index on ties."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (3, 5, 7, 3), dtype=np.uint8)
    images[0, 0, :2] = images[1, 1, 1]  # repeated colours are solved once and shared
    palette = load_palette("horse16")
    got = best_palette_colours(images, palette, keep_luma=keep_luma)
    for pixel, chosen in zip(images.reshape(-1, 3), got.reshape(-1, 3), strict=True):
        candidates = with_luma(palette.colors, np.repeat(pixel[None], 16, 0)) if keep_luma else palette.colors
        delta = deltaE_ciede2000(np.repeat(rgb2lab(pixel[None, None])[0], 16, 0), rgb2lab(candidates[:, None])[:, 0])
        np.testing.assert_array_equal(chosen, candidates[delta.argmin()])
    if keep_luma:
        assert (luma(got) == luma(images)).all()


@pytest.mark.data
def test_best_palette_colour_beats_the_palette_truth_on_real_horses(real_cifar):
    """Issue 22: on 200 horse test pictures the snapped truth was called a ceiling, but the best choice is far better."""
    from colorlib.data import load_cifar10

    images = load_cifar10("horse", "test", root=real_cifar).images[:200]
    rows = reference_scores(images, load_palette("horse32"))
    assert rows["palette truth"]["delta_e"] == pytest.approx(7.43, abs=0.01)
    assert rows["best palette colour"]["delta_e"] == pytest.approx(6.59, abs=0.01)
    assert rows["palette truth + input luma"]["delta_e"] == pytest.approx(6.95, abs=0.01)
    assert rows["best palette colour + input luma"]["delta_e"] == pytest.approx(3.76, abs=0.01)


def test_score_argmax_agrees_with_evaluate_and_annealed_mean_differs():
    torch.manual_seed(0)
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    palette = Palette.fit(images, 6)
    model = build("unet", 6, nf=4).eval()
    data = ColorData.from_images(images, palette)
    plain = evaluate(model, data.grey, data.targets)
    argmax = score(model, palette, images)
    assert argmax["cross_entropy"] == pytest.approx(plain["cross_entropy"], rel=1e-6)
    assert argmax["pixel_accuracy"] == pytest.approx(plain["pixel_accuracy"])
    mean = score(model, palette, images, "annealed-mean", 1.0)
    assert mean["cross_entropy"] == argmax["cross_entropy"] and mean["delta_e"] != argmax["delta_e"]
    with pytest.raises(ColorlibError, match="temperature"):
        score(model, palette, images, "annealed-mean", 0)


def test_cross_class_matrix_rows_are_models_and_columns_classes():
    torch.manual_seed(0)
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 256, (2, 3, 8, 8, 3), dtype=np.uint8)
    palette = Palette.fit(np.concatenate([a, b]), 4)
    models = {"m1": (build("cnn", 4, nf=4).eval(), palette), "m2": (build("unet", 4, nf=4).eval(), palette)}
    matrix = cross_class_matrix(models, {"a": a, "b": b})
    assert matrix.shape == (2, 2)
    data = ColorData.from_images(b, palette)
    assert matrix[1, 1] == pytest.approx(evaluate(models["m2"][0], data.grey, data.targets)["cross_entropy"])
    with pytest.raises(ColorlibError, match="cross_entropy or pixel_accuracy"):
        cross_class_matrix(models, {"a": a}, "psnr")


def test_compare_builds_reference_rows_then_model_rows():
    torch.manual_seed(0)
    images = np.random.default_rng(4).integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    palette = Palette.fit(images, 4)
    model = build("cnn", 4, nf=4).eval()
    rows = compare({"cnn": (model, palette)}, images, {"argmax": {}, "mean": {"decoding": "annealed-mean"}}, {"fitted": palette})
    assert list(rows) == [
        "grey baseline",
        "palette truth (fitted)",
        "palette truth (fitted) + input luma",
        "best palette colour (fitted)",
        "best palette colour (fitted) + input luma",
        "cnn, argmax",
        "cnn, mean",
    ]
    assert rows["cnn, argmax"] == score(model, palette, images)
    table = format_table(rows, markdown=True).splitlines()
    assert table[0].startswith("|  | CE | pixel acc") and len(table) == 2 + len(rows)
    assert "| grey baseline | — |" in table[2]


def test_regression_models_are_scored_on_pictures_only():
    torch.manual_seed(0)
    images = np.random.default_rng(5).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    palette = Palette.fit(images, 4)
    model = build("unet", 4, nf=4, objective="regress").eval()
    result = score(model, palette, images, per_image=True)
    assert result["cross_entropy"] is None and result["pixel_accuracy"] is None and result["balanced_accuracy"] is None
    assert result["delta_e"] > 0 and result["per_image"]["delta_e"].shape == (4,) and result["per_image"]["cross_entropy"] is None
    assert result["delta_e"] == pytest.approx(result["per_image"]["delta_e"].mean())
    with torch.no_grad():
        expected = (model(ColorData.from_images(images, palette).grey).clamp(0, 1) * 255).round().permute(0, 2, 3, 1)
    assert result["colourfulness"] == pytest.approx(colourfulness(expected.to(torch.uint8).numpy()))
    assert "| regress | — | — | — |" in format_table({"regress": result}, markdown=True)
    grey = torch.rand(2, 1, 8, 8)
    targets = torch.from_numpy(images[:2])
    assert set(evaluate(model, grey, targets)) == {"mse", "images"} and predict(model, grey).shape == (2, 8, 8, 3)


def test_difference_finds_a_real_shift_and_calls_noise_noise():
    from colorlib.metrics import difference

    rng = np.random.default_rng(0)
    base = rng.normal(10, 3, 500) + rng.normal(0, 0.2, (3, 500))  # 3 seeds × 500 images, each image's own difficulty
    shifted = base + 0.5 + rng.normal(0, 0.2, base.shape)
    d = difference(shifted, base)
    assert d["difference"] == pytest.approx(0.5, abs=0.05) and 0 < d["low"] < 0.5 < d["high"] and d["p"] < 1e-6
    noise = difference(base + rng.normal(0, 0.2, base.shape), base)
    assert noise["low"] < 0 < noise["high"] and noise["p"] > 0.05
    # seeds that disagree widen the interval: the same mean shift, spread over seeds, is no longer certain
    spread = difference(base + np.array([[-1.5], [0.5], [2.5]]), base)
    assert spread["high"] - spread["low"] > 5 * (d["high"] - d["low"]) and spread["df"] < 3
    with pytest.raises(ColorlibError, match="same N pictures"):
        difference(base, base[:, :10])


def test_difference_of_one_run_each_is_the_paired_t_interval():
    from scipy import stats

    from colorlib.metrics import difference

    rng = np.random.default_rng(1)
    a, b = rng.normal(12, 3, 8), rng.normal(13, 3, 8)  # eight photographs
    d = difference(a, b)
    test = stats.ttest_rel(a, b)
    low, high = test.confidence_interval(0.95)
    assert (d["low"], d["high"], d["p"], d["df"]) == pytest.approx((low, high, test.pvalue, 7))


@pytest.mark.parametrize("seed_sd", [0.1, 0.3])
def test_difference_intervals_cover_a_known_effect_95_percent_of_the_time(seed_sd):
    """Simulated experiments like the series' (3 seeds × 1,000 test pictures, a known effect of 0.3): the
    95% intervals cover it in 93-97% of 1,000 experiments (resampling the seeds covered 0.89 and 0.81)."""
    from colorlib.metrics import difference

    rng = np.random.default_rng(int(seed_sd * 10))
    covered = 0
    for _ in range(1000):
        picture = rng.normal(0, 1, 1000)  # how hard each picture is, for both models
        a = 0.3 + picture + rng.normal(0, 0.5, 1000) + rng.normal(0, seed_sd, (3, 1)) + rng.normal(0, 0.2, (3, 1000))
        b = picture + rng.normal(0, 0.5, 1000) + rng.normal(0, seed_sd, (3, 1)) + rng.normal(0, 0.2, (3, 1000))
        d = difference(a, b)
        covered += d["low"] <= 0.3 <= d["high"]
    assert 0.93 <= covered / 1000 <= 0.97, covered


def test_false_discovery_is_benjamini_hochberg():
    from colorlib.metrics import false_discovery

    q = false_discovery([0.01, 0.04, 0.03, 0.5])
    # sorted 0.01, 0.03, 0.04, 0.5 → p·m/rank 0.04, 0.06, 0.0533, 0.5 → the running minimum from the top
    np.testing.assert_allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.5])


def test_palettes_with_the_same_colours_share_one_lookup_table():
    import gc
    import tracemalloc

    from colorlib.palette import load_palette

    images = np.random.default_rng(0).integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    gc.collect()
    tracemalloc.start()
    try:
        palettes = [load_palette("horse16") for _ in range(6)]
        results = [p.quantize(images) for p in palettes]
        held = tracemalloc.get_traced_memory()[0]
        other = Palette(palettes[0].colors, "lab")  # another space: another table
        other.quantize(images[:1])
        with_lab = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    table = (1 << 24) * 2  # one index byte and one "known" flag per 24-bit colour
    assert table <= held < 1.5 * table  # six palettes, one table (six would be 6 × 32 MiB)
    assert with_lab - held >= table
    assert all(np.array_equal(r, results[0]) for r in results)
    assert palettes[0]._table is palettes[5]._table and other._table is not palettes[0]._table


def _scores_under_both_kernels(model, palette, images, **how) -> list[dict]:
    """`score` with oneDNN's fp32 convolutions and with PyTorch's own: two ways of rounding, as two CPUs round."""
    out = []
    for onednn in (True, False):
        with torch.backends.mkldnn.flags(enabled=onednn):
            out.append(score(model, palette, images, per_image=True, **how))
    return out


@pytest.mark.parametrize("how", [{}, {"decoding": "annealed-mean"}, {"keep_luma": True}])
def test_scores_do_not_depend_on_which_convolution_kernels_run(how):
    """Issue 22 (15): a chapter's checked figure came out 10.174 on one CPU and 10.175 on another. fp32
    convolutions round differently on AVX2, AVX-512 and AMX; scores, run in float64 on a CPU, do not."""
    torch.manual_seed(0)
    model = build("unet", 16)  # full width: small convolutions may not reach oneDNN at all
    for m in model.modules():  # BatchNorm statistics of a trained model, not the identity of a new one
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    palette = Palette(rng.integers(0, 256, (16, 3), dtype=np.uint8))
    first, second = _scores_under_both_kernels(model, palette, images, **how)
    for key in ("cross_entropy", "psnr", "ssim", "delta_e", "colourfulness", "pixel_accuracy"):
        assert first[key] == pytest.approx(second[key], rel=1e-12, abs=1e-12), key
    np.testing.assert_allclose(first["per_image"]["cross_entropy"], second["per_image"]["cross_entropy"], rtol=1e-12)
    data = ColorData.from_images(images, palette)
    with torch.no_grad():  # the same network in float64, by hand
        reference = F.cross_entropy(copy.deepcopy(model).double().eval()(data.grey.double()), data.targets.long()).item()
    assert first["cross_entropy"] == pytest.approx(reference, rel=0, abs=1e-8)  # float64's figure, whichever kernels ran
    # Training's validation runs in float32 and rounds as float32 does: whether two kernels agree depends on the CPU,
    # but no float32 lies within 4.7e-8 of this reference, so fp32 is always off where the score is not.
    fp32 = evaluate(model, data.grey, data.targets, exact=False)["cross_entropy"]
    assert abs(fp32 - reference) > 1e-8
    assert model.training and next(model.parameters()).dtype == torch.float32  # the model itself untouched


def _lab_pixels(lab: list[tuple[float, float, float]]) -> np.ndarray:
    """A 1×1×N uint8 RGB picture of the given CIELAB colours (rounded to uint8)."""
    from skimage.color import lab2rgb

    rgb = lab2rgb(np.array(lab, np.float64)[None]) * 255
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)[None]


def test_hue_agreement_by_hand():
    from colorlib.metrics import hue_agreement, hue_agreement_counts

    # truth: four clearly coloured pixels (C*ab 40, hue 0°) and one faint one (C*ab 8), not counted
    truth = _lab_pixels([(60, 40, 0)] * 4 + [(60, 8, 0)])
    # prediction: hue 25° (agrees), hue 70° (too far), C*ab 5 (names no hue), hue -30° (agrees); the faint pixel's is ignored
    c = 40
    predicted = _lab_pixels(
        [
            (60, c * math.cos(math.radians(25)), c * math.sin(math.radians(25))),
            (60, c * math.cos(math.radians(70)), c * math.sin(math.radians(70))),
            (60, 5, 0),
            (60, c * math.cos(math.radians(-30)), c * math.sin(math.radians(-30))),
            (60, -40, 0),
        ]
    )
    agree, coloured = hue_agreement_counts(predicted, truth)
    assert agree.tolist() == [2] and coloured.tolist() == [4]
    assert hue_agreement(predicted, truth) == 0.5
    assert hue_agreement(truth, truth) == 1.0
    grey = np.repeat(luma(truth)[..., None], 3, -1)
    assert hue_agreement(grey, truth) == 0.0
    # pooled over pictures, not averaged per picture: 2 of 4, then 1 of 1 -> 3 of 5
    second = _lab_pixels([(60, 40, 0)] + [(60, 8, 0)] * 4)
    both = hue_agreement(np.concatenate([predicted, second]), np.concatenate([truth, second]))
    assert both == pytest.approx(3 / 5)
    # hue wraps round: 170° against -170° is 20° apart
    a = _lab_pixels([(60, c * math.cos(math.radians(170)), c * math.sin(math.radians(170)))])
    b = _lab_pixels([(60, c * math.cos(math.radians(-170)), c * math.sin(math.radians(-170)))])
    assert hue_agreement(a, b) == 1.0


def test_hue_agreement_refuses_what_it_cannot_measure():
    from colorlib.metrics import hue_agreement

    grey = np.full((2, 4, 4, 3), 128, np.uint8)
    with pytest.raises(ColorlibError, match="chroma above 20"):
        hue_agreement(grey, grey)
    with pytest.raises(ColorlibError, match="one shape"):
        hue_agreement(grey[:1], grey)


def test_colourfulness_ratio_of_means_and_mean_of_ratios():
    from colorlib.metrics import colourfulness_mean_of_ratios, colourfulness_per_image, colourfulness_ratio

    rng = np.random.default_rng(0)
    truth = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    truth[2] = 100  # a grey original: left out of the mean of ratios, and weighs nothing in the ratio of means
    predicted = (truth // 2).astype(np.uint8)
    predicted[0] = truth[0]
    t, p = colourfulness_per_image(truth), colourfulness_per_image(predicted)
    assert colourfulness_ratio(predicted, truth) == pytest.approx(p.mean() / t.mean())
    assert colourfulness_mean_of_ratios(predicted, truth) == pytest.approx((1 + p[1] / t[1]) / 2)
    assert colourfulness_ratio(truth, truth) == 1.0
    assert colourfulness_ratio(np.full_like(truth, 7), truth) == 0.0
    with pytest.raises(ColorlibError, match="all grey"):
        colourfulness_ratio(truth[2:], truth[2:])
    with pytest.raises(ColorlibError, match="all grey"):
        colourfulness_mean_of_ratios(truth[2:], truth[2:])


def test_chroma_models_are_scored_like_classifiers_with_their_bins_under_the_lightness():
    from colorlib.metrics import best_palette_colours, cross_class_matrix, reference_scores

    palette = load_palette("all-ab")
    torch.manual_seed(0)
    model = build("unet", palette.num_colors, nf=8, objective="chroma")
    images = np.random.default_rng(0).integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    scored = score(model, palette, images, decoding="annealed-mean")
    # a picture does not give back its bin (the chroma shown depends on the lightness): no picture accuracies
    assert scored["cross_entropy"] > 0 and scored["pixel_accuracy"] is None and scored["balanced_accuracy"] is None
    matrix = cross_class_matrix({"chroma": (model, palette)}, {"random": images})
    assert matrix.shape == (1, 1) and matrix[0, 0] == pytest.approx(scored["cross_entropy"], rel=1e-6)
    # the best bin per pixel is decoded on the pixel's own lightness, and beats the bins' truth by ΔE2000
    best = best_palette_colours(images, palette)
    np.testing.assert_array_equal(luma(best), luma(images))
    refs = reference_scores(images, palette)
    assert refs["best palette colour"]["delta_e"] <= refs["palette truth"]["delta_e"] + 1e-9
    assert refs["palette truth"]["pixel_accuracy"] is None


def test_shapes_the_colour_measures_refuse():
    from colorlib.metrics import colourfulness_ratio, hue_agreement

    flat = np.zeros((4, 3), np.uint8)
    with pytest.raises(ColorlibError, match="one shape"):
        hue_agreement(flat, flat)
    pictures = np.random.default_rng(0).integers(0, 256, (3, 4, 4, 3), dtype=np.uint8)
    with pytest.raises(ColorlibError, match="shaped as the originals"):
        colourfulness_ratio(pictures[:2], pictures)

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from colorlib.data import ColorData
from colorlib.errors import ColorlibError
from colorlib.metrics import (
    balanced_accuracy,
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
)  # fmt: skip
from colorlib.models import build
from colorlib.palette import Palette


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
    assert scores["psnr"] == pytest.approx(peak_signal_noise_ratio(truth, noisy, data_range=255))
    assert scores["delta_e"] == pytest.approx(deltaE_ciede2000(rgb2lab(truth), rgb2lab(noisy)).mean())
    assert 0 < scores["ssim"] < 1
    perfect = image_scores(truth, truth)
    assert perfect["psnr"] == math.inf and perfect["ssim"] == pytest.approx(1) and perfect["delta_e"] == 0
    with pytest.raises(ColorlibError, match="one shape"):
        image_scores(truth[:2], truth)


def test_reference_rows_are_the_floor_and_the_ceiling():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    palette = Palette.fit(images, 8)
    rows = reference_scores(images, palette)
    oracle, grey = rows["palette oracle"], rows["grey baseline"]
    assert oracle["pixel_accuracy"] == 1 and oracle["balanced_accuracy"] == 1
    assert grey["colourfulness"] == 0 and oracle["colourfulness"] > 0
    assert oracle["delta_e"] < grey["delta_e"] and oracle["cross_entropy"] is None


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
    rows = compare({"cnn": (model, palette)}, images, {"argmax": {}, "mean": {"decoding": "annealed-mean"}},
                   {"fitted": palette})  # fmt: skip
    assert list(rows) == ["grey baseline", "palette oracle (fitted)", "cnn, argmax", "cnn, mean"]
    assert rows["cnn, argmax"] == score(model, palette, images)
    table = format_table(rows, markdown=True).splitlines()
    assert table[0].startswith("|  | CE | pixel acc") and len(table) == 2 + len(rows)
    assert "| grey baseline | — |" in table[2]

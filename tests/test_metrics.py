import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from colorlib.metrics import cross_entropy, evaluate, pixel_accuracy, predict, quantization_error
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

"""Every shipped run loads, is what its name says, and reproduces its recorded validation figures."""

import json
import subprocess
import sys

import pytest
import torch

import colorlib
from colorlib.errors import RunError
from colorlib.pretrained import FOLDER, ORIGINAL_SCORES, pretrained, pretrained_names

NAMES = [f"{a}_{c}{k}" for a in ("cnn", "unet") for c in ("horse", "cat") for k in (16, 32)]


def test_all_eight_are_shipped_and_small():
    assert pretrained_names() == sorted(NAMES)
    total = sum(f.stat().st_size for f in FOLDER.rglob("*") if f.is_file())
    assert total < 25 * 2**20, f"{total / 2**20:.1f} MB"
    assert not list(FOLDER.rglob("checkpoint.pt"))


@pytest.mark.parametrize("name", NAMES)
def test_shipped_run_matches_its_name(name):
    arch, rest = name.split("_")
    cls, k = rest.rstrip("0123456789"), int(rest[len(rest.rstrip("0123456789")):])
    run = pretrained(arch, cls, k)
    assert run.model.config.arch == arch and run.palette.num_colors == k and not run.model.training
    assert run.config["train"]["classes"] == [cls]
    assert run.palette == colorlib.load_palette(f"horse{k}")  # the original recipe: horse palettes for both
    assert run.config["command"].startswith(f"colorlib train --arch {arch} --classes {cls} --palette horse{k}")
    assert len(run.history) == run.config["train"]["epochs"] == len(run.snapshots.epochs)
    torch.load(FOLDER / name / "weights.pt", weights_only=True)
    # the point of shipping them: each beats the original project's final weights
    ce, acc = ORIGINAL_SCORES[arch, cls, k]
    assert run.history[-1]["val_loss"] < ce and run.history[-1]["val_accuracy"] > acc


def test_unknown_pretrained_run():
    with pytest.raises(RunError, match="choose arch"):
        pretrained("resnet", "horse", 32)


@pytest.mark.data
@pytest.mark.parametrize("name", NAMES)
def test_recorded_validation_figures_reproduce_with_colorlib_evaluate(name, real_cifar):
    result = subprocess.run([sys.executable, "-m", "colorlib.cli", "evaluate", str(FOLDER / name), "--json",
                             "--data", str(real_cifar)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    last = json.loads((FOLDER / name / "history.json").read_text())[-1]
    assert figures["images"] == 1000
    assert figures["cross_entropy"] == pytest.approx(last["val_loss"], abs=1e-3)
    assert figures["pixel_accuracy"] == pytest.approx(last["val_accuracy"], abs=1e-3)

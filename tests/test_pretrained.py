"""Every shipped run loads, is what its name says, and reproduces its recorded validation figures."""

import json
import subprocess
import sys

import pytest
import torch

import colorlib
from colorlib.data import CLASSES
from colorlib.errors import RunError
from colorlib.pretrained import FOLDER, ORIGINAL_SCORES, VARIANTS, pretrained, pretrained_names

NAMES = [f"{a}_{c}{k}" for a in ("cnn", "unet") for c in ("horse", "cat") for k in (16, 32)]
EXTRA = [f"unet_{c}32_{v}" for c in ("horse", "cat") for v in VARIANTS]
EXTRA += [f"unet_{c}32" for c in CLASSES if c not in ("horse", "cat")]


def test_all_are_shipped_and_small():
    assert pretrained_names() == sorted(NAMES + EXTRA)
    total = sum(f.stat().st_size for f in FOLDER.rglob("*") if f.is_file())
    assert total < 30 * 2**20, f"{total / 2**20:.1f} MB"  # the notebooks add under 10 MB: under 40 MB in all
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
    ce, acc, _ = ORIGINAL_SCORES[arch, cls, k]
    assert run.history[-1]["val_loss"] < ce and run.history[-1]["val_accuracy"] > acc


@pytest.mark.parametrize("name", EXTRA)
def test_notebook_06_runs_are_what_their_names_say(name):
    parts = name.split("_")
    cls, variant = parts[1][:-2], "_".join(parts[2:]) or None
    run = pretrained("unet", cls, 32, variant)
    train = run.config["train"]
    assert run.model.config.arch == "unet" and train["classes"] == [cls] and train["epochs"] == len(run.history) == 30
    assert (train["schedule"], train["lr"], train["batch_size"], train["seed"]) == ("onecycle", 0.02, 100, 0)
    lab = variant is not None and "lab" in variant
    assert run.palette == colorlib.load_palette("horse32-lab" if lab else "horse32")  # compares colours and space
    rebalanced = variant is not None and "rebalance" in variant
    assert train["rebalance"] == (0.5 if rebalanced else None)
    assert (run.config["rebalance"] is not None) == rebalanced
    assert "--arch unet" in run.config["command"] and f"--classes {cls} " in run.config["command"]


def test_unknown_pretrained_run():
    with pytest.raises(RunError, match="no shipped run 'resnet_horse32'; the shipped runs are cnn_cat16"):
        pretrained("resnet", "horse", 32)


@pytest.mark.data
@pytest.mark.parametrize("name", ["unet_horse32", "cnn_cat16"])
def test_recorded_validation_figures_reproduce_with_colorlib_evaluate(name, real_cifar):
    result = subprocess.run([sys.executable, "-m", "colorlib.cli", "evaluate", str(FOLDER / name), "--json",
                             "--data", str(real_cifar)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    last = json.loads((FOLDER / name / "history.json").read_text())[-1]
    assert figures["images"] == 1000
    assert figures["cross_entropy"] == pytest.approx(last["val_loss"], abs=1e-3)
    assert figures["pixel_accuracy"] == pytest.approx(last["val_accuracy"], abs=1e-3)


@pytest.mark.data
def test_every_shipped_run_reproduces_its_recorded_figures(real_cifar):
    from colorlib.data import ColorData, load_cifar10
    from colorlib.metrics import evaluate

    images = {}
    for name in pretrained_names():
        run = colorlib.load_run(FOLDER / name)
        cls = run.config["train"]["classes"][0]
        images.setdefault(cls, load_cifar10(cls, "test", real_cifar).images)
        data = ColorData.from_images(images[cls], run.palette)
        figures = evaluate(run.model, data.grey, data.targets)
        assert figures["cross_entropy"] == pytest.approx(run.history[-1]["val_loss"], abs=1e-3), name
        assert figures["pixel_accuracy"] == pytest.approx(run.history[-1]["val_accuracy"], abs=1e-3), name

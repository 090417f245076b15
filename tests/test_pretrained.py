"""Every shipped run loads, is what its name says, was trained on the honest protocol (holdout
validation, the recipe the experiments chose on it), reproduces its recorded holdout figures, and
the original's eight experiments beat the original project's published weights on the test split."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import colorlib
from colorlib.config import _LEGACY
from colorlib.data import CLASSES, load_cifar10, split_holdout
from colorlib.errors import RunError
from colorlib.pretrained import FOLDER, ORIGINAL_SCORES, pretrained, pretrained_names

NAMES = [f"{a}_{c}{k}" for a in ("cnn", "unet") for c in ("horse", "cat") for k in (16, 32)]
EXTRA = [f"unet_{c}32_{v}" for c in ("horse", "cat") for v in ("lab", "rebalance", "lab_rebalance")]
EXTRA += [f"unet_{c}32" for c in CLASSES if c not in ("horse", "cat")] + ["unet_horse32_regress"]
GENERAL = ["unet_all32", "unet_all32_lab", "cnn_all32"]  # for photographs (issue 14)
EXPERIMENTS = json.loads((Path(__file__).resolve().parent.parent / "docs" / "experiments.json").read_text())
COLOUR = json.loads((Path(__file__).resolve().parent.parent / "docs" / "colour.json").read_text())
CHROMA = [COLOUR["choice"]["shipped"]] if COLOUR["choice"].get("shipped") else []  # experiments/colour.py's choice (issue 25)


def test_all_are_shipped_and_small():
    assert pretrained_names() == sorted(NAMES + EXTRA + GENERAL + CHROMA)
    total = sum(f.stat().st_size for f in FOLDER.rglob("*") if f.is_file())
    assert total < 30 * 2**20, f"{total / 2**20:.1f} MB"  # the notebooks add under 10 MB: under 40 MB in all
    assert not list(FOLDER.rglob("checkpoint.pt"))


@pytest.mark.parametrize("name", NAMES + EXTRA + GENERAL)
def test_shipped_runs_use_the_holdout_and_the_chosen_recipe(name):
    run = colorlib.load_run(FOLDER / name)
    train = run.config["train"]
    assert train["val_split"] == "holdout" and run.config["data"]["val_split"] == "holdout"
    assert run.config["data"]["holdout_fraction"] == 0.1 and train["split_seed"] == 0
    assert (train["schedule"], train["epochs"], train["batch_size"], train["seed"]) == ("onecycle", 30, 100, 0)
    assert train["lr"] == EXPERIMENTS["recipe"]["peak_lr"]  # chosen on the holdout, not the test split
    assert len(run.history) == 30 == len(run.snapshots.epochs) and not run.model.training
    assert run.config["command"].startswith(f"colorlib train --arch {train['arch']} --classes {train['classes'][0]} ")
    assert run.config["command"].endswith(f"--out colorlib/pretrained/{name}")
    torch.load(FOLDER / name / "weights.pt", weights_only=True)


@pytest.mark.parametrize("name", NAMES)
def test_the_original_experiments_are_what_their_names_say(name):
    arch, rest = name.split("_")
    cls, k = rest.rstrip("0123456789"), int(rest[len(rest.rstrip("0123456789")) :])
    run = pretrained(arch, cls, k)
    assert run.model.config.arch == arch and run.palette.num_colors == k and run.config["train"]["classes"] == [cls]
    assert run.palette == colorlib.load_palette(f"horse{k}")  # the original recipe: horse palettes for both


@pytest.mark.parametrize("name", EXTRA)
def test_the_other_runs_are_what_their_names_say(name):
    parts = name.split("_")
    cls, variant = parts[1][:-2], "_".join(parts[2:]) or None
    run = pretrained("unet", cls, 32, variant)
    train = run.config["train"]
    assert run.model.config.arch == "unet" and train["classes"] == [cls]
    lab = variant is not None and "lab" in variant
    assert run.palette == colorlib.load_palette("horse32-lab" if lab else "horse32")  # compares colours and space
    rebalanced = variant is not None and "rebalance" in variant
    assert train["rebalance"] == (0.5 if rebalanced else None) and (run.config["rebalance"] is not None) == rebalanced
    assert run.model.config.objective == ("regress" if variant == "regress" else "classify")


@pytest.mark.parametrize("name", GENERAL)
def test_the_general_runs_are_what_their_names_say(name):
    arch, rest = name.split("_", 1)
    run = pretrained(arch, "all", 32, rest[len("all32_") :] or None)
    train = run.config["train"]
    assert run.model.config.arch == arch and train["classes"] == ["all"]
    assert run.palette == colorlib.load_palette("all32-lab" if "lab" in name else "all32")  # the all-class palettes
    assert train["rebalance"] == (0.5 if "rebalance" in name else None)
    assert run.model.config.objective == "classify"


def test_the_default_model_is_the_one_the_colour_rule_chose():
    """pretrained.DEFAULT_RUN is experiments/colour.py's choice, shipped with the temperature chosen with it and
    trained as that experiment's recipe says; the previous default if the rule kept it."""
    from colorlib.pretrained import DEFAULT_RUN, resolve
    from experiments.colour import config

    choice = COLOUR["choice"]
    if choice["by"] == "kept":
        assert DEFAULT_RUN == "unet_all32_lab" and not CHROMA
        return
    assert DEFAULT_RUN == choice["shipped"] and resolve(DEFAULT_RUN) == FOLDER / DEFAULT_RUN
    run = colorlib.load_run(FOLDER / DEFAULT_RUN)
    candidate = COLOUR["candidates"][choice["candidate"]]
    assert run.temperature == candidate["temperature"] and run.config["decoding"]["chosen_by"] == "experiments/colour.py"
    ignore = ("device", "precision", "skips")  # where it ran; skips: None is all three, which the run spells out
    saved = {**_LEGACY, **run.config["train"]}  # settings newer than the run: as it was trained without them
    trained = {k: v for k, v in saved.items() if k not in ignore}
    wanted = {k: v for k, v in config(candidate["run"]).__dict__.items() if k not in ignore}
    assert trained == json.loads(json.dumps(wanted))  # the recipe of the run the rule chose, and its 10 epochs
    assert len(run.history) == wanted["epochs"] and run.model.config.objective == "chroma" and run.palette.space == "ab"
    assert run.palette == colorlib.load_palette(wanted["palette"]) and len(run.model.config.skips) == 3


def test_unknown_pretrained_run():
    expected = "no shipped run 'resnet_horse32'; did you mean unet_horse32 or unet_horse32_lab\\? `colorlib pretrained list`"
    with pytest.raises(RunError, match=expected):
        pretrained("resnet", "horse", 32)


@pytest.mark.data
@pytest.mark.parametrize("name", ["unet_horse32", "cnn_cat16", "unet_horse32_regress"])
def test_recorded_holdout_figures_reproduce_with_colorlib_evaluate(name, real_cifar):
    cmd = [
        sys.executable,
        "-m",
        "colorlib.cli",
        "evaluate",
        str(FOLDER / name),
        "--json",
        "--split",
        "holdout",
        "--data",
        str(real_cifar),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["images"] == 500
    last = json.loads((FOLDER / name / "history.json").read_text())[-1]
    if name.endswith("regress"):
        assert figures["cross_entropy"] is None and last["val_loss_name"] == "mean squared error"
        return
    assert figures["cross_entropy"] == pytest.approx(last["val_loss"], abs=1e-3)
    assert figures["pixel_accuracy"] == pytest.approx(last["val_accuracy"], abs=1e-3)


@pytest.mark.data
def test_every_shipped_run_reproduces_its_recorded_holdout_figures(real_cifar):
    from colorlib.data import ColorData
    from colorlib.metrics import evaluate

    held = {}
    for name in pretrained_names():
        run = colorlib.load_run(FOLDER / name)
        cls = run.config["train"]["classes"][0]
        held.setdefault(cls, split_holdout(load_cifar10(cls, "train", real_cifar))[1].images)
        data = ColorData.from_images(held[cls], run.palette)
        regress = run.model.config.objective == "regress"
        figures = evaluate(run.model, data.grey, data.rgb if regress else data.targets)
        assert figures["mse" if regress else "cross_entropy"] == pytest.approx(run.history[-1]["val_loss"], abs=1e-3), name
        if not regress:
            assert figures["pixel_accuracy"] == pytest.approx(run.history[-1]["val_accuracy"], abs=1e-3), name


@pytest.mark.data
@pytest.mark.parametrize("name", NAMES)
def test_each_original_experiment_beats_the_published_weights_on_the_test_split(name, real_cifar):
    """By cross-entropy, and by ΔE2000 of the decoded picture (palette-independent: the palettes differ)."""
    from colorlib.metrics import score

    run = colorlib.load_run(FOLDER / name)
    arch, cls, k = run.model.config.arch, run.config["train"]["classes"][0], run.palette.num_colors
    ce, _, delta_e = ORIGINAL_SCORES[arch, cls, k]
    mine = score(run.model, run.palette, load_cifar10(cls, "test", real_cifar).images)
    assert mine["cross_entropy"] < ce and mine["delta_e"] < delta_e, (mine["cross_entropy"], ce, mine["delta_e"], delta_e)

"""experiments/ as library-quality code: each script runs, as `python -m experiments.NAME`, at its smallest
setting on a fake CIFAR-10 large enough for a batch of 100, and writes what it says it writes."""

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from colorlib.data import BATCHES_DIR, CLASSES, TEST_BATCHES, TRAIN_BATCHES
from colorlib.runs import load_run

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import smooth_images, write_batch  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cifar(tmp_path_factory) -> Path:
    """A CIFAR-10-layout folder: 24 images per class per train batch (120 a class), 12 per class to test."""
    root = tmp_path_factory.mktemp("cifar-exp")
    (root / BATCHES_DIR).mkdir()
    for i, name in enumerate(TRAIN_BATCHES + TEST_BATCHES):
        per_class = 12 if name in TEST_BATCHES else 24
        labels = [c for c in range(len(CLASSES)) for _ in range(per_class)]
        write_batch(root / BATCHES_DIR / name, smooth_images(len(labels), seed=100 + i), labels, bytes_keys=False)
    (root / BATCHES_DIR / "batches.meta").write_bytes(pickle.dumps({"label_names": list(CLASSES)}))
    return root


def _run(module: str, *args: str, data: Path) -> str:
    env = {**os.environ, "COLORLIB_DATA": str(data), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-m", f"experiments.{module}", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_experiments_smallest_setting_trains_chooses_and_reports(cifar, tmp_path):
    out = _run(
        "experiments",
        "--runs",
        str(tmp_path / "runs"),
        "--out",
        str(tmp_path),
        "--epochs",
        "1",
        "--seeds",
        "2",
        "--lrs",
        "0.01",
        "0.04",
        data=cifar,
    )
    assert "recipe: one-cycle to peak lr" in out
    doc = json.loads((tmp_path / "experiments.json").read_text())
    assert doc["epochs"] == 1 and doc["seeds"] == [0, 1]
    assert set(doc["recipe"]["mean_by_lr"]) == {"0.01", "0.04"}
    report = (tmp_path / "experiments.md").read_text()
    assert "2 seeds" in report and "UNet + input luma − grey picture (equal lightness), horse" in report
    history = json.loads((tmp_path / "runs" / "sweep" / "unet_cat32_s1" / "history.json").read_text())
    assert len(history) == 1


def test_beyond_the_seed_smallest_setting(cifar, tmp_path):
    _run("beyond_the_seed", "--images", "8", "--out", str(tmp_path), data=cifar)
    text = (tmp_path / "beyond_the_seed.md").read_text()
    assert "best palette colour (horse32) + input luma" in text and "First 8 test images" in text
    assert (tmp_path / "cross_class.png").stat().st_size > 1000


def test_photos_smallest_setting(cifar, tmp_path):
    _run("photos", "--photos", "2", "--scales", "native", "32", "--out", str(tmp_path), data=cifar)
    doc = json.loads((tmp_path / "photos.json").read_text())
    assert doc["photos"] == ["astronaut", "chelsea"] and doc["chosen"][1] in ("native", "32")
    assert set(doc["comparisons"]) >= {"chosen pipeline, leave one photo out (honest)"}
    assert (tmp_path / "photos.png").stat().st_size > 1000


def test_pretrained_runs_smallest_setting_trains_the_variants(cifar, tmp_path):
    _run("pretrained_runs", "--train", "--epochs", "1", "--runs", str(tmp_path), data=cifar)
    trained = sorted(p.name for p in (tmp_path / "pretrained").iterdir())
    assert "unet_cat32_lab" in trained and "unet_horse32_rebalance" in trained
    config = json.loads((tmp_path / "pretrained" / "unet_cat32_lab" / "config.json").read_text())
    assert config["command"].startswith("colorlib train --arch unet --classes cat --palette horse32-lab --epochs 1 ")


def test_ttq_smallest_setting_selects_by_its_rule(cifar, tmp_path):
    candidates = ["e6_lr0.08_b25", "e8_lr0.04", "e8_lr0.16"]  # the last, capped at 1 epoch, is the shipped recipe's
    args = ["--runs", str(tmp_path / "runs"), "--out", str(tmp_path), "--workers", "1", "--max-epochs", "1"]
    _run("ttq", *args, "--candidates", *candidates, data=cifar)
    doc = json.loads((tmp_path / "ttq.json").read_text())
    assert set(doc["candidates"]) == set(candidates) and set(doc["baseline"]) == {"unet_horse32", "cnn_cat16"}
    for row in doc["candidates"].values():
        lead = doc["baseline"]["unet_horse32"]
        if row["mean"] is None:  # screened out: UNet seed 0 more than 1% above the target scaled to seed 0
            assert row["seed0"]["unet_horse32"] > 1.01 * 1.005 * lead["seeds"][0]
        else:
            assert row["qualifies"] == all(row["mean"][c] <= b["target"] for c, b in doc["baseline"].items())
    qualifying = [n for n, r in doc["candidates"].items() if r["qualifies"]]
    assert "e8_lr0.16" in qualifying and doc["choice"] in qualifying  # it equals its own baseline
    assert doc["candidates"]["e8_lr0.16"]["relative"] == 1 and doc["choice"] == min(
        qualifying, key=lambda n: doc["candidates"][n]["relative"]
    )
    assert len(json.loads((tmp_path / "runs" / "unet_horse32" / "shipped_s2" / "history.json").read_text())) == 1
    assert "| shipped recipe" in (tmp_path / "ttq.md").read_text()
    _run("ttq", *args, "--candidates", *candidates, "--stage", "test", data=cifar)
    tested = json.loads((tmp_path / "ttq.json").read_text())["test"]["cnn_cat16"]
    assert len(tested["cross_entropy by seed"]["shipped"]) == 3 and "scored − shipped recipe" in (tmp_path / "ttq.md").read_text()
    if doc["choice"] == "e8_lr0.16":  # the same runs: no difference at all
        assert tested["delta_e choice - shipped recipe"]["difference"] == 0
    _run("ttq", *args, "--stage", "confirm", data=cifar)  # step 6: six seeds of the UNet pick and the shipped recipe
    confirmed = json.loads((tmp_path / "ttq_confirm.json").read_text())
    by_seed = confirmed["holdout CE by seed 0-5"]
    assert set(by_seed) == {"shipped", "e15_lr0.32_flip_b25"} and all(len(v) == 6 for v in by_seed.values())
    fresh = confirmed["fresh seeds 3-5 mean"]
    assert confirmed["(a) lower on fresh seeds"] == (fresh["e15_lr0.32_flip_b25"] < fresh["shipped"])
    low, high = confirmed["seeds 0-5 difference"]["low"], confirmed["seeds 0-5 difference"]["high"]
    assert low < confirmed["seeds 0-5 difference"]["mean"] < high
    assert confirmed["confirmed"] == (confirmed["(a) lower on fresh seeds"] and high < 0)
    verdict = "not confirmed" if not confirmed["confirmed"] else "confirmed: it becomes"
    assert verdict in (tmp_path / "ttq_confirm.md").read_text()


def test_colour_smallest_setting_chooses_by_its_rule(cifar, tmp_path):
    args = ["--runs", str(tmp_path / "runs"), "--out", str(tmp_path), "--workers", "2", "--max-epochs", "1", "--only", "chroma64"]
    _run("colour", *args, data=cifar)
    doc = json.loads((tmp_path / "colour.json").read_text())
    from experiments.colour import MIN_COLOURFULNESS, MIN_HUE, TEMPERATURES, _figures, choose

    runs = {v["run"] for v in doc["candidates"].values()}
    assert runs == {"default (unet_all32_lab)", "chroma64"} and len(doc["candidates"]) == 2 * len(TEMPERATURES)
    names = list(doc["grey"]["photos"])
    assert len(names) == 8 and doc["grey"]["holdout"]["hue_pooled"] == 0 and doc["grey"]["holdout"]["colourfulness"] == 0
    figs = {c: _figures(v, doc["grey"], names) for c, v in doc["candidates"].items()}
    feasible = [
        c
        for c, f in figs.items()
        if all(s["colourfulness"] >= MIN_COLOURFULNESS and s["hue"] >= MIN_HUE and s["relative"] < 1 for s in f.values())
    ]
    choice = doc["choice"]
    assert (choice["by"] == "feasible") == bool(feasible) and (choice["candidate"] in feasible or not feasible)
    assert choose(doc, names)[0] == choice["candidate"]
    assert set(choice["leave_one_out"]["picks"]) == set(names)
    report = (tmp_path / "colour.md").read_text()
    assert (tmp_path / "colour_frontier.png").stat().st_size > 10_000 and "| grey picture |" in report
    assert "**Provisional**" in report and "chroma_grid" in report  # only one of the runs was trained
    assert (tmp_path / "colour_photos.png").exists() and (tmp_path / "colour_cifar.png").exists()
    _run("colour", *args, "--stage", "test", data=cifar)
    tested = json.loads((tmp_path / "colour.json").read_text())["test"]
    assert tested["images"] == 120 and "choice - grey picture, ΔE2000" in tested
    assert doc["costs"]["chroma64"]["bins"] == 64 and doc["costs"]["chroma64"]["onnx_bytes"] > 100_000
    _run("colour", *args, "--stage", "ship", "--ship-to", str(tmp_path / "shipped"), data=cifar)
    choice = json.loads((tmp_path / "colour.json").read_text())["choice"]
    if choice["by"] == "kept":  # the rule kept the current default: nothing to ship
        assert choice["shipped"] is None and not (tmp_path / "shipped").exists()
    else:
        shipped = load_run(tmp_path / "shipped" / choice["shipped"])
        assert shipped.temperature == doc["candidates"][choice["candidate"]]["temperature"]
        assert "checkpoint.pt" not in {p.name for p in shipped.path.iterdir()}

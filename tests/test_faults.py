"""Training survives kill -9 at any moment: resuming gives bitwise the run an uninterrupted one gives."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from colorlib.runs import load_run

ARGS = "train --arch unet --nf 8 --classes horse cat --palette horse16 --epochs 8 --batch-size 10 --lr 3e-3".split()
ARGS += ["--device", "cpu", "--quiet"]


def _start(fake_cifar, out, resume):
    cmd = [sys.executable, "-m", "colorlib.cli", *ARGS, "--data", str(fake_cifar), "--out", str(out)]
    return subprocess.Popen(cmd + (["--resume"] if resume else []), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _assert_readable(out) -> None:
    """Whatever moment the kill hit, every real file in the run is whole (temp files may remain)."""
    for name in ("config.json", "history.json"):
        if (out / name).exists():
            json.loads((out / name).read_text())
    for name in ("weights.pt", "checkpoint.pt"):
        if (out / name).exists():
            torch.load(out / name, weights_only=True)
    if (out / "snapshots.npz").exists():
        np.load(out / "snapshots.npz")["predictions"]
    if (out / "checkpoint.pt").exists():  # a kill between checkpoint and exports still loads as one epoch
        checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
        run = load_run(out)
        assert run.history == checkpoint["history"] and len(run.snapshots.epochs) == len(run.history)
        for key, value in checkpoint["model"].items():
            assert torch.equal(value, run.model.state_dict()[key]), key


def _epochs_done(out) -> int:
    try:
        return len(json.loads((out / "history.json").read_text()))
    except (OSError, ValueError):
        return 0


@pytest.mark.slow
def test_kill_9_at_random_moments_then_resume_is_bitwise_identical(fake_cifar, tmp_path):
    reference = tmp_path / "reference"
    done = _start(fake_cifar, reference, resume=False)
    assert done.wait(timeout=300) == 0, done.stderr.read().decode()[-2000:]

    # Kill points: once during start-up, then at a random moment inside epochs 3, 5 and 7 (each
    # epoch ends with a save, so some kills land mid-save). Progress is read from history.json.
    out, rng, kills = tmp_path / "interrupted", random.Random(1234), 0
    for after_epochs in (None, 2, 4, 6):
        proc = _start(fake_cifar, out, resume=True)
        if after_epochs is None:
            time.sleep(0.5)
        else:
            deadline = time.time() + 120
            while time.time() < deadline and proc.poll() is None and _epochs_done(out) < after_epochs:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        _assert_readable(out)
    final = _start(fake_cifar, out, resume=True)
    assert final.wait(timeout=300) == 0, final.stderr.read().decode()[-2000:]
    assert kills >= 3, f"only {kills} kills landed before the run finished"

    a, b = load_run(reference), load_run(out)
    for key, value in a.model.state_dict().items():
        assert torch.equal(value, b.model.state_dict()[key]), key
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in a.history]
    assert strip == [{k: v for k, v in h.items() if k != "seconds"} for h in b.history]
    np.testing.assert_array_equal(a.snapshots.predictions, b.snapshots.predictions)
    assert (out / "loss.png").is_file()


def test_ctrl_c_stops_cleanly_and_keeps_the_last_epoch(fake_cifar, tmp_path):
    out = tmp_path / "run"
    proc = _start(fake_cifar, out, resume=False)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "checkpoint.pt").exists():
        time.sleep(0.05)
    assert (out / "checkpoint.pt").exists(), "training never committed an epoch"
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=60)
    stderr = proc.stderr.read().decode()
    if code == 0:  # it finished all epochs before the signal landed
        return
    assert code == 130 and "interrupted" in stderr and "Traceback" not in stderr, stderr
    run = load_run(out)
    assert len(run.history) >= 1
    resumed = subprocess.run(
        [sys.executable, "-m", "colorlib.cli", *ARGS, "--data", str(fake_cifar), "--out", str(out), "--resume"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert len(load_run(out).history) == 8

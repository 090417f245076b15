"""Training survives kill -9 at any moment: resuming gives bitwise the run an uninterrupted one gives."""

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

ARGS = ["train", "--arch", "unet", "--nf", "8", "--classes", "horse", "cat", "--palette", "horse16", "--epochs", "8",
        "--batch-size", "10", "--lr", "3e-3", "--device", "cpu", "--quiet"]  # fmt: skip


def _start(fake_cifar, out, resume):
    cmd = [sys.executable, "-m", "colorlib.cli", *ARGS, "--data", str(fake_cifar), "--out", str(out)]
    return subprocess.Popen(cmd + (["--resume"] if resume else []), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_kill_9_at_random_moments_then_resume_is_bitwise_identical(fake_cifar, tmp_path):
    reference = tmp_path / "reference"
    done = _start(fake_cifar, reference, resume=False)
    assert done.wait(timeout=300) == 0, done.stderr.read().decode()[-2000:]

    out, rng, kills = tmp_path / "interrupted", random.Random(1234), 0
    while True:
        proc = _start(fake_cifar, out, resume=True)
        # import + data take ~2 s, each epoch a fraction of a second: kill anywhere in between
        try:
            code = proc.wait(timeout=rng.uniform(1.5, 6.0))
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            assert not list(out.glob("*.tmp")), "a temp file survived where a real file belongs"
            continue
        assert code == 0, proc.stderr.read().decode()[-2000:]
        break
    assert kills >= 2, f"only {kills} kills: the run finished too fast to test anything"

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
    resumed = subprocess.run([sys.executable, "-m", "colorlib.cli", *ARGS, "--data", str(fake_cifar), "--out", str(out),
                              "--resume"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert len(load_run(out).history) == 8

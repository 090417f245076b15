"""The trainer runs unchanged under torchrun: 2 CPU processes (gloo) match one process."""

import json
import subprocess
import sys

import pytest
import torch

from colorlib.cli import main
from colorlib.runs import load_run

ARGS = "train --arch cnn --nf 8 --classes horse --palette horse16 --epochs 3 --batch-size 10 --lr 3e-3 --quiet".split()
ARGS += ["--device", "cpu"]


@pytest.mark.slow
def test_two_gloo_processes_match_one_process(fake_cifar, tmp_path):
    if not torch.distributed.is_available():
        pytest.skip("torch.distributed is not available")
    single = tmp_path / "single"
    assert main([*ARGS, "--data", str(fake_cifar), "--out", str(single)]) == 0
    ddp = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "colorlib.cli",
        *ARGS,
        "--data",
        str(fake_cifar),
        "--out",
        str(ddp),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    a, b = load_run(single), load_run(ddp)
    assert json.loads((ddp / "config.json").read_text())["runtime"]["processes"] == 2
    assert [h["epoch"] for h in b.history] == [0, 1, 2]
    # Same global batches and the same gradients up to BatchNorm statistics, which each process
    # takes over its own half of the batch (SyncBatchNorm does not run on CPUs).
    for ha, hb in zip(a.history, b.history, strict=True):
        assert hb["train_loss"] == pytest.approx(ha["train_loss"], rel=0.03)
        assert hb["val_loss"] == pytest.approx(ha["val_loss"], rel=0.01)
    assert b.history[-1]["val_loss"] < b.history[0]["val_loss"]
    wa, wb = a.model.final.weight, b.model.final.weight
    assert torch.nn.functional.cosine_similarity(wa.flatten(), wb.flatten(), dim=0) > 0.995
    assert not (ddp / ".config.json.tmp").exists()

import json
import shutil

import pytest
import torch

from colorlib.errors import RunError
from colorlib.runs import load_run
from colorlib.train import TrainConfig, train


@pytest.fixture(scope="module")
def run_dir(fake_cifar, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "run"
    config = TrainConfig(arch="cnn", palette="horse16", epochs=1, batch_size=10, nf=8, device="cpu")
    train(config, out, root=fake_cifar, progress=False)
    return out


@pytest.fixture
def copy(run_dir, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(run_dir, dst)
    return dst


def edit_config(path, change):
    config = json.loads((path / "config.json").read_text())
    change(config)
    (path / "config.json").write_text(json.dumps(config))


def test_loads(run_dir):
    run = load_run(run_dir)
    assert run.model.config.arch == "cnn" and run.palette.num_colors == 16 and len(run.history) == 1


def test_missing_things(tmp_path, copy):
    with pytest.raises(RunError, match="no such run directory"):
        load_run(tmp_path / "nope")
    (copy / "weights.pt").unlink()
    assert len(load_run(copy).history) == 1  # checkpoint.pt still holds the epoch
    (copy / "checkpoint.pt").unlink()
    with pytest.raises(RunError, match="weights.pt: missing"):
        load_run(copy)
    (copy / "config.json").unlink()
    with pytest.raises(RunError, match="config.json: missing"):
        load_run(copy)


def test_config_that_is_not_json_or_lacks_keys(copy):
    (copy / "config.json").write_text("{not json")
    with pytest.raises(RunError, match="not valid JSON"):
        load_run(copy)
    (copy / "config.json").write_text(json.dumps({"format": "colorlib-run", "version": 1}))
    with pytest.raises(RunError, match="lacks"):
        load_run(copy)


def test_future_version_and_foreign_config(copy):
    edit_config(copy, lambda c: c.update(version=99))
    with pytest.raises(RunError, match="upgrade colorlib"):
        load_run(copy)
    edit_config(copy, lambda c: c.update(format="something-else", version=1))
    with pytest.raises(RunError, match="not a colorlib run"):
        load_run(copy)


def test_palette_size_must_match_model(copy):
    edit_config(copy, lambda c: c["model"].update(num_colors=32))
    with pytest.raises(RunError, match="16 colours but the model predicts 32"):
        load_run(copy)


def test_truncated_and_foreign_weights(copy):
    (copy / "checkpoint.pt").unlink()  # a finished, shipped run: the exports alone
    data = (copy / "weights.pt").read_bytes()
    (copy / "weights.pt").write_bytes(data[: len(data) // 3])
    with pytest.raises(RunError, match="unreadable"):
        load_run(copy)
    from colorlib.models import build

    torch.save(build("unet", 16, nf=8).state_dict(), copy / "weights.pt")
    with pytest.raises(RunError, match="do not fit the cnn model"):
        load_run(copy)


def test_checkpoint_that_would_run_code_is_refused(copy, hostile):
    payload, target = hostile
    torch.save({"w": payload}, copy / "weights.pt")
    with pytest.raises(RunError, match="weights.pt: unsafe, refused.*GLOBAL posix.system"):
        load_run(copy)
    torch.save({"model": payload, "history": []}, copy / "checkpoint.pt")
    with pytest.raises(RunError, match="checkpoint.pt: unsafe, refused"):
        load_run(copy)
    assert not target.exists()


def test_exports_behind_the_checkpoint_load_from_the_checkpoint(fake_cifar, tmp_path):
    """A kill between checkpoint.pt and the exports: load_run shows the checkpoint's epoch, all of a piece."""
    config = TrainConfig(arch="cnn", palette="horse16", epochs=2, batch_size=10, nf=8, snapshot_count=3, device="cpu")
    one, two = tmp_path / "one", tmp_path / "two"
    train(TrainConfig(**{**config.__dict__, "epochs": 1}), one, root=fake_cifar, progress=False)
    final = train(config, two, root=fake_cifar, progress=False)
    for lagging in (["weights.pt", "history.json", "snapshots.npz"], ["history.json", "snapshots.npz"], ["snapshots.npz"]):
        mixed = tmp_path / f"mixed{len(lagging)}"
        shutil.copytree(two, mixed)
        for name in lagging:  # these files still hold epoch 0
            shutil.copy(one / name, mixed / name)
        run = load_run(mixed)
        assert [h["epoch"] for h in run.history] == [0, 1] and run.snapshots.epochs.tolist() == [0, 1]
        for key, value in final.model.state_dict().items():
            assert torch.equal(value, run.model.state_dict()[key]), key

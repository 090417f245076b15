import importlib
import json

import numpy as np
import pytest
import torch

from colorlib.data import ColorData, load_cifar10
from colorlib.errors import ColorlibError, RunError, TrainingError
from colorlib.metrics import evaluate
from colorlib.models import ColorNet, ModelConfig
from colorlib.palette import load_palette
from colorlib.runs import load_run
from colorlib.train import TrainConfig, train

train_module = importlib.import_module("colorlib.train")  # colorlib.train is also the function


def small(**overrides) -> TrainConfig:
    settings = dict(
        arch="cnn", classes=["horse"], palette="horse16", epochs=3, batch_size=5, lr=3e-3, nf=8, snapshot_count=4, device="cpu"
    )
    settings.update({"schedule": "constant", **overrides})  # constant unless a test says otherwise: mechanics, not the recipe
    return TrainConfig(**settings)


def weights(run) -> dict:
    return run.model.state_dict()


def assert_same_weights(a, b):
    for key, value in weights(a).items():
        assert torch.equal(value, weights(b)[key]), key


def strip_time(history):
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


def test_run_directory_contents(fake_cifar, tmp_path):
    run = train(small(), tmp_path / "run", root=fake_cifar, progress=False)
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert names == {"config.json", "history.json", "weights.pt", "snapshots.npz", "checkpoint.pt", "loss.png"}
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["model"] == {"arch": "cnn", "num_colors": 16, "nf": 8, "kernel": 3, "objective": "classify", "skips": []}
    assert np.array_equal(np.array(config["palette"]["colors"]), load_palette("horse16").colors)
    # the holdout: 10% of the 20 horse training images, never trained on; the test split is untouched
    assert config["data"] == {
        "train_images": 18,
        "val_images": 2,
        "val_split": "holdout",
        "holdout_fraction": 0.1,
        "split_seed": 0,
    }
    assert config["train"]["val_split"] == "holdout" and config["train"]["skips"] == "none"
    assert [h["epoch"] for h in run.history] == [0, 1, 2]
    assert set(run.history[0]) == {
        "epoch",
        "train_loss",
        "val_loss",
        "val_accuracy",
        "lr",
        "seconds",
        "train_loss_name",
        "val_loss_name",
    }
    assert (run.history[0]["train_loss_name"], run.history[0]["val_loss_name"]) == ("cross-entropy", "cross-entropy")
    assert run.snapshots.predictions.shape == (3, 2, 32, 32)  # 4 asked for, the holdout has 2
    assert run.snapshots.images.shape == (2, 32, 32, 3)
    assert not run.model.training
    torch.load(tmp_path / "run" / "weights.pt", weights_only=True)


@pytest.mark.parametrize("objective", ["classify", "regress"])
def test_a_run_without_snapshots_trains_resumes_and_loads(fake_cifar, tmp_path, objective):
    """snapshot_count=0 (keep no validation pictures) is a reasonable request: it must not crash."""
    train(small(snapshot_count=0, epochs=1, objective=objective), tmp_path / "run", root=fake_cifar, progress=False)
    run = train(
        small(snapshot_count=0, epochs=2, objective=objective), tmp_path / "run", root=fake_cifar, progress=False, resume=True
    )
    assert len(run.history) == 2 and len(run.snapshots.images) == 0 and len(run.snapshots.predictions) == 2
    assert len(load_run(tmp_path / "run").snapshots.images) == 0


@pytest.mark.parametrize("split", ["holdout", "test"])
def test_recorded_validation_figures_reproduce(fake_cifar, tmp_path, split):
    from colorlib.data import split_holdout

    run = train(small(val_split=split, snapshot_count=2), tmp_path / "run", root=fake_cifar, progress=False)
    palette = load_palette("horse16")
    images = (
        split_holdout(load_cifar10("horse", "train", root=fake_cifar))[1]
        if split == "holdout"
        else load_cifar10("horse", "test", root=fake_cifar)
    )
    val = ColorData.from_images(images.images, palette)
    result = evaluate(load_run(tmp_path / "run").model, val.grey, val.targets)
    assert result["cross_entropy"] == pytest.approx(run.history[-1]["val_loss"], rel=1e-6)
    assert result["pixel_accuracy"] == pytest.approx(run.history[-1]["val_accuracy"], rel=1e-6)
    last = run.snapshots.at(2)
    expected = run.model(val.grey[:2]).argmax(1).numpy()
    np.testing.assert_array_equal(last, expected)


def test_training_is_deterministic_on_cpu(fake_cifar, tmp_path):
    a = train(small(), tmp_path / "a", root=fake_cifar, progress=False)
    b = train(small(), tmp_path / "b", root=fake_cifar, progress=False)
    assert_same_weights(a, b)
    assert strip_time(a.history) == strip_time(b.history)
    c = train(small(seed=1), tmp_path / "c", root=fake_cifar, progress=False)
    assert not torch.equal(weights(a)["final.weight"], weights(c)["final.weight"])


@pytest.mark.parametrize(
    "schedule, flip, zoom, half",
    [("constant", False, None, 0), ("onecycle", False, None, 0), ("onecycle", True, 0.6, 0), ("onecycle", True, None, 3)],
)
def test_resume_equals_uninterrupted(fake_cifar, tmp_path, schedule, flip, zoom, half):
    # half 3: stopped in epoch 2, resumed on half-size pictures, then full size for epoch 3
    settings = dict(epochs=4, schedule=schedule, flip=flip, zoom=zoom, half_size_epochs=half)
    straight = train(small(**settings), tmp_path / "straight", root=fake_cifar, progress=False)
    # an interrupted run: stop after epoch 1 by failing inside epoch 2, then resume
    calls = {"n": 0}
    real_epoch = train_module._train_epoch

    def failing_epoch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    train_module._train_epoch = failing_epoch
    try:
        with pytest.raises(KeyboardInterrupt):
            train(small(**settings), tmp_path / "resumed", root=fake_cifar, progress=False)
    finally:
        train_module._train_epoch = real_epoch
    assert len(load_run(tmp_path / "resumed").history) == 2
    resumed = train(small(**settings), tmp_path / "resumed", root=fake_cifar, progress=False, resume=True)
    assert_same_weights(straight, resumed)
    assert strip_time(straight.history) == strip_time(resumed.history)
    np.testing.assert_array_equal(straight.snapshots.predictions, resumed.snapshots.predictions)


def test_mirror_flips_the_marked_images_and_their_targets_only():
    grey = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(2, 1, 3, 4)
    which = torch.tensor([True, False])
    for targets in (grey[:, 0].long(), grey[:, 0, :, :, None].expand(-1, -1, -1, 3).to(torch.uint8)):  # indices; RGB
        x, y = train_module._mirror(grey, targets, which)
        assert torch.equal(x[0], grey[0].flip(-1)) and torch.equal(x[1], grey[1])
        assert torch.equal(y[0], targets[0].flip(1)) and torch.equal(y[1], targets[1])
        assert torch.equal(y[..., 0] if y.dim() == 4 else y, x[:, 0].to(y.dtype))  # input and target flipped alike


def test_zoom_crops_inputs_and_targets_alike():
    rng = np.random.default_rng(0)
    grey = torch.from_numpy(rng.random((2, 1, 32, 32), dtype=np.float32))
    indices = torch.from_numpy(rng.integers(0, 16, (2, 32, 32), dtype=np.uint8))
    rgb = torch.from_numpy(rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8))
    # the whole picture (side 1): nothing changes
    whole = torch.tensor([[1.0, 0.3, 0.9], [1.0, 0.5, 0.5]], dtype=torch.float64)
    x, y = train_module._zoom(grey, indices, whole, 0.5)
    torch.testing.assert_close(x, grey, atol=1e-5, rtol=0)
    assert torch.equal(y, indices)
    # half the side, centred: output pixel i samples input (i + 15.5) / 2; the nearest target is 8 + i // 2
    half = torch.tensor([[0.0, 0.5, 0.5]] * 2, dtype=torch.float64)
    for targets in (indices, rgb):
        x, y = train_module._zoom(grey, targets, half, 0.5)
        i = torch.arange(32)
        assert torch.equal(y, targets[:, 8 + i // 2][:, :, 8 + i // 2]) and y.dtype == targets.dtype
    # bilinear at (7.75, 7.75)
    expected = 0.25 * (0.25 * grey[0, 0, 7, 7] + 0.75 * grey[0, 0, 8, 7]) + 0.75 * (
        0.25 * grey[0, 0, 7, 8] + 0.75 * grey[0, 0, 8, 8]
    )
    torch.testing.assert_close(x[0, 0, 0, 0], expected, atol=1e-5, rtol=0)
    # the crop goes where the draws say: draws of 0 take the top-left quarter
    corner = train_module._zoom(grey, indices, torch.tensor([[0.0, 0.0, 0.0]] * 2, dtype=torch.float64), 0.5)[1]
    assert torch.equal(corner, indices[:, i // 2][:, :, i // 2])


def test_halve_averages_inputs_and_keeps_top_left_targets():
    grey = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(2, 1, 4, 4)
    indices = torch.arange(2 * 4 * 4, dtype=torch.uint8).reshape(2, 4, 4)
    rgb = indices[..., None].expand(-1, -1, -1, 3).contiguous()
    for targets in (indices, rgb):
        x, y = train_module._halve(grey, targets)
        assert x.shape == (2, 1, 2, 2) and y.shape == (2, 2, 2, *targets.shape[3:]) and y.dtype == targets.dtype
        assert x[1, 0, 1, 0].item() == (24 + 25 + 28 + 29) / 4  # the block of rows 2-3, columns 0-1 of picture 1
        assert torch.equal(y, targets[:, ::2, ::2])


@pytest.mark.parametrize("objective", ["classify", "regress"])
def test_half_size_epochs_train_on_halved_pictures_and_validate_on_whole_ones(fake_cifar, tmp_path, monkeypatch, objective):
    seen = []
    real_epoch = train_module._train_epoch

    def recording_epoch(net, optimizer, scheduler, grey, targets, *args, **kwargs):
        seen.append((tuple(grey.shape[-2:]), tuple(targets.shape[1:3])))
        return real_epoch(net, optimizer, scheduler, grey, targets, *args, **kwargs)

    monkeypatch.setattr(train_module, "_train_epoch", recording_epoch)
    run = train(small(half_size_epochs=2, objective=objective), tmp_path / "run", root=fake_cifar, progress=False)
    assert seen == [((16, 16), (16, 16))] * 2 + [((32, 32), (32, 32))]
    assert run.snapshots.predictions.shape[2:4] == (32, 32)  # validated on whole pictures every epoch
    assert "--half-size-epochs 2" in run.config["command"]


@pytest.mark.parametrize("bad", [-1, 4, 1.5, "two"])
def test_half_size_epochs_must_fit_in_the_epochs(bad):
    with pytest.raises(TrainingError, match="half_size_epochs"):
        small(half_size_epochs=bad).validate()  # three epochs


def test_half_size_epochs_refuse_sides_not_multiples_of_8_before_writing(tmp_path):
    palette = load_palette("horse16")
    images = np.random.default_rng(0).integers(0, 256, (6, 12, 12, 3), dtype=np.uint8)
    data = ColorData.from_images(images, palette)
    with pytest.raises(TrainingError, match="multiples of 8.*12×12"):
        train(small(half_size_epochs=1), tmp_path / "run", data=(data, data), progress=False)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.2, "half"])
def test_zoom_must_be_a_fraction(bad):
    with pytest.raises(TrainingError, match="zoom"):
        small(zoom=bad).validate()


@pytest.mark.parametrize("objective", ["classify", "regress"])
def test_flipping_mirror_symmetric_pictures_changes_nothing(tmp_path, objective):
    """Pictures equal to their own mirror image: --flip must then train bitwise as without it, which
    holds only if inputs and targets are mirrored together and the batches come in the same order."""
    half = np.random.default_rng(0).integers(0, 256, (40, 32, 16, 3), dtype=np.uint8)
    palette = load_palette("horse16")
    data = [ColorData.from_images(np.concatenate([p, p[:, :, ::-1]], axis=2), palette) for p in (half[:30], half[30:])]
    runs = [
        train(small(flip=flip, objective=objective), tmp_path / str(flip), data=data, progress=False) for flip in (False, True)
    ]
    assert_same_weights(*runs)
    asymmetric = [ColorData.from_images(np.concatenate([p, p], axis=2), palette) for p in (half[:30], half[30:])]
    shifted = [
        train(small(flip=f, objective=objective), tmp_path / f"a{f}", data=asymmetric, progress=False) for f in (False, True)
    ]
    assert not torch.equal(weights(shifted[0])["final.weight"], weights(shifted[1])["final.weight"])


def _lrs_per_step(monkeypatch) -> list[float]:
    """The learning rate of every optimizer step taken from now on."""
    seen: list[float] = []
    real_step = torch.optim.Adam.step

    def step(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", step)
    return seen


def test_constant_schedule_trained_longer_equals_a_longer_run(fake_cifar, tmp_path):
    straight = train(small(epochs=3), tmp_path / "straight", root=fake_cifar, progress=False)
    train(small(epochs=1), tmp_path / "longer", root=fake_cifar, progress=False)
    longer = train(small(epochs=3), tmp_path / "longer", root=fake_cifar, progress=False, resume=True)
    assert_same_weights(straight, longer)
    assert strip_time(straight.history) == strip_time(longer.history)
    assert longer.config["train"]["epochs"] == 3 and longer.config["extensions"] == [
        {"at_epoch": 1, "epochs_from": 1, "epochs_to": 3}
    ]


def test_onecycle_trained_longer_follows_the_replanned_cycle(fake_cifar, tmp_path, monkeypatch):
    # The crash this replaces: "Tried to step 5 times. The specified number of total steps is 4".
    train(small(epochs=1, schedule="onecycle", lr=0.05), tmp_path / "longer", root=fake_cifar, progress=False)
    seen = _lrs_per_step(monkeypatch)
    longer = train(
        small(epochs=3, schedule="onecycle", lr=0.05), tmp_path / "longer", root=fake_cifar, progress=False, resume=True
    )
    resumed_lrs = list(seen)
    seen.clear()
    straight = train(small(epochs=3, schedule="onecycle", lr=0.05), tmp_path / "straight", root=fake_cifar, progress=False)
    steps = len(seen) // 3
    assert len(resumed_lrs) == 2 * steps  # epochs 1 and 2 only
    np.testing.assert_allclose(resumed_lrs, seen[steps:], rtol=1e-12)  # the 3-epoch cycle from the step reached
    assert [h["lr"] for h in longer.history[1:]] == pytest.approx([h["lr"] for h in straight.history[1:]], rel=1e-12)
    assert longer.history[0]["lr"] != pytest.approx(straight.history[0]["lr"])  # epoch 0 ran on the 1-epoch plan
    assert longer.config["extensions"] == [{"at_epoch": 1, "epochs_from": 1, "epochs_to": 3}]
    # and again: a second extension is recorded beside the first
    again = train(
        small(epochs=4, schedule="onecycle", lr=0.05), tmp_path / "longer", root=fake_cifar, progress=False, resume=True
    )
    assert len(again.history) == 4 and len(again.config["extensions"]) == 2


def test_a_run_is_not_shortened_and_nothing_is_touched(fake_cifar, tmp_path, monkeypatch):
    train(small(epochs=2), tmp_path / "run", root=fake_cifar, progress=False)
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    monkeypatch.setattr(train_module, "load_data", lambda *a, **k: pytest.fail("data loaded before the refusal"))
    with pytest.raises(RunError, match="already trained 2 epochs, more than --epochs 1.*--epochs 2 or more"):
        train(small(epochs=1), tmp_path / "run", root=fake_cifar, progress=False, resume=True)
    with pytest.raises(RunError, match="settings differ"):  # refused before the data is read, too
        train(small(epochs=3, lr=0.5), tmp_path / "run", root=fake_cifar, progress=False, resume=True)
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()} == before


def test_existing_run_is_refused_unless_resume_or_force(fake_cifar, tmp_path):
    train(small(epochs=1), tmp_path / "run", root=fake_cifar, progress=False)
    with pytest.raises(RunError, match="--resume.*--force"):
        train(small(epochs=1), tmp_path / "run", root=fake_cifar, progress=False)
    with pytest.raises(RunError, match="settings differ.*lr"):
        train(small(epochs=2, lr=0.5), tmp_path / "run", root=fake_cifar, progress=False, resume=True)
    run = train(small(epochs=2, seed=3), tmp_path / "run", root=fake_cifar, progress=False, force=True)
    assert run.config["train"]["seed"] == 3 and len(run.history) == 2
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(RunError, match="not empty"):
        train(small(epochs=1), tmp_path / "other", root=fake_cifar, progress=False, force=True)
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -1}, "batch_size"),
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"schedule": "cosine"}, "schedule"),
        ({"batch_size": 21}, "larger than"),
        ({"arch": "vgg"}, "architecture"),
        ({"precision": "fp16"}, "precision"),
    ],
)
def test_bad_training_arguments(fake_cifar, tmp_path, overrides, message):
    with pytest.raises(ColorlibError, match=message):
        train(small(**overrides), tmp_path / "run", root=fake_cifar, progress=False)
    assert not (tmp_path / "run").exists()


def test_divergence_stops_with_the_last_good_epoch_kept(fake_cifar, tmp_path, monkeypatch):
    real_epoch = train_module._train_epoch
    calls = {"n": 0}

    def nan_on_third(*args, **kwargs):
        calls["n"] += 1
        loss = real_epoch(*args, **kwargs)
        return float("nan") if calls["n"] == 3 else loss

    monkeypatch.setattr(train_module, "_train_epoch", nan_on_third)
    with pytest.raises(TrainingError, match="diverged at epoch 2.*keeps epoch 1"):
        train(small(epochs=4), tmp_path / "run", root=fake_cifar, progress=False)
    run = load_run(tmp_path / "run")
    assert [h["epoch"] for h in run.history] == [0, 1]
    assert all(torch.isfinite(v.float()).all() for v in run.model.state_dict().values())


def test_custom_data_can_be_passed_in(fake_cifar, tmp_path):
    palette = load_palette("horse16")
    images = load_cifar10("ship", "train", root=fake_cifar).images
    data = ColorData.from_images(images, palette)
    run = train(small(classes=["my-photos"], epochs=1), tmp_path / "run", data=(data, data), progress=False)
    assert run.config["data"]["train_images"] == 20


@pytest.mark.data
def test_two_real_epochs_of_unet_lower_validation_loss(real_cifar, tmp_path):
    config = TrainConfig(arch="unet", classes=["horse"], palette="horse32", epochs=2, lr=1e-3, schedule="constant", device="cpu")
    palette = load_palette("horse32")
    val = ColorData.from_images(load_cifar10("horse", "test", root=real_cifar).images, palette)
    torch.manual_seed(config.seed)  # the trainer's initial model: same seed, same init
    initial = evaluate(ColorNet(ModelConfig("unet", 32)), val.grey, val.targets)["cross_entropy"]
    run = train(config, tmp_path / "run", root=real_cifar, progress=False)
    losses = [h["val_loss"] for h in run.history]
    assert losses[1] < losses[0] < initial, (initial, losses)
    assert run.history[1]["val_accuracy"] > 1 / 32


def test_precision_choices():
    cpu = torch.device("cpu")
    assert train_module.autocast_dtype("fp32", cpu) is None
    assert train_module.autocast_dtype("bf16", cpu) is torch.bfloat16
    assert train_module.autocast_dtype("auto", torch.device("mps")) is None
    assert train_module.autocast_dtype("auto", torch.device("cuda")) is None  # fp32 measured faster on GPUs
    assert train_module.autocast_dtype("bf16", torch.device("cuda")) is torch.bfloat16
    assert train_module.autocast_dtype("auto", cpu) in (None, torch.bfloat16)


def test_fp32_switch_is_recorded(fake_cifar, tmp_path):
    run = train(small(epochs=1, precision="fp32"), tmp_path / "run", root=fake_cifar, progress=False)
    assert run.config["runtime"]["autocast"] is None and run.config["train"]["precision"] == "fp32"
    fast = train(small(epochs=1), tmp_path / "fast", root=fake_cifar, progress=False)
    expected = train_module.autocast_dtype("auto", torch.device("cpu"))
    assert fast.config["runtime"]["autocast"] == (str(expected).replace("torch.", "") if expected else None)


def disk_full_on_second(monkeypatch, filename: str):
    """Make the second write of `filename` fail as a full disk would; returns a function that undoes it."""
    import colorlib.runs as runs_module

    real_write = runs_module.atomic_write
    calls = {"n": 0}

    def failing_write(path, data):
        if path.name == filename:
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(28, "No space left on device")
        return real_write(path, data)

    monkeypatch.setattr(runs_module, "atomic_write", failing_write)
    return lambda: monkeypatch.setattr(runs_module, "atomic_write", real_write)


def test_a_failing_save_keeps_the_previous_epoch(fake_cifar, tmp_path, monkeypatch):
    undo = disk_full_on_second(monkeypatch, "checkpoint.pt")
    with pytest.raises(RunError, match="saving epoch 1 failed.*No space left.*keeps epoch 0"):
        train(small(epochs=3), tmp_path / "run", root=fake_cifar, progress=False)
    undo()
    run = load_run(tmp_path / "run")
    assert [h["epoch"] for h in run.history] == [0]
    resumed = train(small(epochs=3), tmp_path / "run", root=fake_cifar, progress=False, resume=True)
    assert [h["epoch"] for h in resumed.history] == [0, 1, 2]


def test_a_failing_export_after_the_checkpoint_says_resume_repairs_it(fake_cifar, tmp_path, monkeypatch):
    undo = disk_full_on_second(monkeypatch, "history.json")
    with pytest.raises(RunError, match="epoch 1 is saved in checkpoint.pt.*No space left.*--resume rewrites them"):
        train(small(epochs=3), tmp_path / "run", root=fake_cifar, progress=False)
    undo()
    assert len(json.loads((tmp_path / "run" / "history.json").read_text())) == 1  # the export lags …
    assert [h["epoch"] for h in load_run(tmp_path / "run").history] == [0, 1]  # … the run does not
    resumed = train(small(epochs=3), tmp_path / "run", root=fake_cifar, progress=False, resume=True)
    assert [h["epoch"] for h in resumed.history] == [0, 1, 2]


def test_ctrl_c_during_a_save_lands_after_it(fake_cifar, tmp_path, monkeypatch):
    import os
    import signal

    import colorlib.runs as runs_module

    real_write = runs_module.atomic_write
    before = signal.getsignal(signal.SIGINT)  # Python's default, or SIG_IGN in a job started in the background

    def interrupted_write(path, data):
        if path.name == "checkpoint.pt":
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives in the middle of saving epoch 0
        return real_write(path, data)

    monkeypatch.setattr(runs_module, "atomic_write", interrupted_write)
    with pytest.raises(KeyboardInterrupt):
        train(small(epochs=3), tmp_path / "run", root=fake_cifar, progress=False)
    run = load_run(tmp_path / "run")
    assert [h["epoch"] for h in run.history] == [0]
    assert len(json.loads((tmp_path / "run" / "history.json").read_text())) == 1  # the exports were finished too
    assert signal.getsignal(signal.SIGINT) is before  # the handler put back as it was


def test_rebalance_weights_follow_zhang_et_al():
    palette = load_palette("horse16")
    rng = np.random.default_rng(0)
    targets = torch.from_numpy(rng.choice(16, size=(50, 8, 8), p=np.r_[[0.5], np.full(15, 0.5 / 15)]).astype(np.uint8))
    weights = train_module.rebalance_weights(targets, palette, 0.5)
    prior = torch.bincount(targets.reshape(-1).long(), minlength=16).double() / targets.numel()
    lab = torch.from_numpy(palette.lab_colors)
    smooth = torch.exp(-(torch.cdist(lab, lab) ** 2) / 50) @ prior
    smooth /= smooth.sum()
    assert float((smooth * weights.double()).sum()) == pytest.approx(1, rel=1e-5)  # expected weight 1
    assert weights[0] < weights[1:].min()  # the common colour counts least
    expected = 1 / (0.5 * smooth + 0.5 / 16)
    torch.testing.assert_close(weights.double(), expected / (smooth * expected).sum(), rtol=1e-5, atol=0)
    uniform = train_module.rebalance_weights(targets, palette, 1.0)  # λ = 1: plain cross-entropy
    torch.testing.assert_close(uniform, torch.ones(16))


def test_rebalanced_training_records_its_weights_and_differs(fake_cifar, tmp_path):
    plain = train(small(epochs=1), tmp_path / "plain", root=fake_cifar, progress=False)
    rebalanced = train(small(epochs=1, rebalance=0.5), tmp_path / "rebalanced", root=fake_cifar, progress=False)
    info = rebalanced.config["rebalance"]
    assert info["lambda"] == 0.5 and info["sigma"] == 5.0 and len(info["weights"]) == 16
    assert plain.config["rebalance"] is None
    assert plain.history[0]["train_loss"] != rebalanced.history[0]["train_loss"]
    with pytest.raises(RunError, match="rebalance"):  # resuming with other settings is refused
        train(small(epochs=2), tmp_path / "rebalanced", root=fake_cifar, progress=False, resume=True)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "half"])
def test_rebalance_must_be_a_fraction(bad):
    with pytest.raises(TrainingError, match="rebalance"):
        small(rebalance=bad).validate()


def test_regression_objective_lowers_the_colour_error(fake_cifar, tmp_path):
    config = small(arch="unet", objective="regress", epochs=6, lr=1e-2, skips="down1,grey")
    run = train(config, tmp_path / "run", root=fake_cifar, progress=False)
    assert run.model.config.objective == "regress" and run.model.config.skips == ("down1", "grey")
    losses = [h["val_loss"] for h in run.history]
    from colorlib.data import split_holdout

    held = split_holdout(load_cifar10("horse", "train", root=fake_cifar))[1]
    grey = ColorData.from_images(held.images, load_palette("horse16")).grey
    torch.manual_seed(0)
    untrained = evaluate(ColorNet(run.model.config), grey, torch.from_numpy(held.images))["mse"]
    assert losses[-1] < losses[0] and losses[-1] < 0.5 * untrained  # MSE of RGB in [0, 1] on the holdout
    assert run.history[-1]["val_loss_name"] == "mean squared error" and run.history[-1]["val_accuracy"] is None
    assert run.snapshots.predictions.shape == (6, 2, 32, 32, 3)  # colours, not palette indices
    expected = (run.model(grey).permute(0, 2, 3, 1).detach().clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    np.testing.assert_array_equal(run.snapshots.at(5), expected)
    mse = ((expected / 255 - held.images / 255) ** 2).mean()
    assert losses[-1] == pytest.approx(mse, rel=0.05)  # the recorded loss is the unclipped output's: close


def test_holdout_settings_are_resume_keys_and_validated(fake_cifar, tmp_path):
    train(small(epochs=1), tmp_path / "run", root=fake_cifar, progress=False)
    for change in ({"split_seed": 1}, {"val_split": "test"}, {"objective": "regress"}, {"arch": "unet", "skips": "grey"}):
        with pytest.raises(RunError, match="settings differ"):
            train(small(epochs=2, **change), tmp_path / "run", root=fake_cifar, progress=False, resume=True)
    for bad, message in (
        ({"val_split": "train"}, "unknown validation split"),
        ({"split_seed": -1}, "split_seed"),
        ({"objective": "regress", "rebalance": 0.5}, "drop --rebalance"),
        ({"skips": "grey"}, "cnn has no skip"),
    ):
        with pytest.raises(TrainingError, match=message):
            train(small(**bad), tmp_path / "bad", root=fake_cifar, progress=False)


def test_weighted_training_loss_is_named_in_history_and_figure(fake_cifar, tmp_path):
    run = train(small(epochs=1, rebalance=0.5), tmp_path / "run", root=fake_cifar, progress=False)
    assert run.history[0]["train_loss_name"] == "weighted cross-entropy" and run.history[0]["val_loss_name"] == "cross-entropy"
    from colorlib.plot import loss_figure

    labels = [line.get_label() for line in loss_figure(run).axes[0].get_lines()]
    assert labels == ["run train (weighted cross-entropy)", "run validation (cross-entropy)"]


def test_the_epoch_loop_moves_no_tensor_between_devices(fake_cifar, tmp_path, monkeypatch):
    """The selection goes to the device once, before training: no batch is copied from the host (on a GPU
    that copy would cost every step). Moving any picture or target tensor inside an epoch fails this test;
    only the epoch's shuffled order (one vector of indices) may travel."""
    real_epoch = train_module._train_epoch

    def guarded_epoch(*args, **kwargs):
        calls = []
        with monkeypatch.context() as m:
            for name in ("to", "cuda", "pin_memory"):

                def record(self, *args, _name=name, **kwargs):
                    if self.dim() > 1:
                        calls.append(_name)
                    return self

                m.setattr(torch.Tensor, name, record)
            try:
                return real_epoch(*args, **kwargs)
            finally:
                assert not calls, f"tensors moved inside the epoch loop: {calls[:3]}"

    monkeypatch.setattr(train_module, "_train_epoch", guarded_epoch)
    run = train(small(epochs=2), tmp_path / "run", root=fake_cifar, progress=False)
    assert len(run.history) == 2


@pytest.fixture
def chroma_palette(fake_cifar, tmp_path):
    """A gamut of the fake horses' chroma (bins of 25 units: few enough for these random colours), as a file."""
    from colorlib.palette import Palette

    path = tmp_path / "gamut.npy"
    Palette.gamut(load_cifar10("horse", "train", root=fake_cifar).images, step=25).save(path)
    return str(path)


def test_chroma_objective_trains_over_ab_bins_under_the_input_lightness(fake_cifar, tmp_path, chroma_palette):
    from colorlib.data import luma, split_holdout
    from colorlib.metrics import score

    config = small(arch="unet", objective="chroma", palette=chroma_palette, palette_space="ab", epochs=2, rebalance=0.5)
    run = train(config, tmp_path / "run", root=fake_cifar, progress=False)
    assert run.model.config.objective == "chroma" and run.palette.space == "ab"
    assert run.model.config.num_colors == run.palette.num_colors
    assert run.history[-1]["val_loss_name"] == "cross-entropy" and run.history[-1]["val_accuracy"] is not None
    # snapshots and scores decode each bin's chroma under the picture's own lightness, exactly
    snap = run.snapshots.rgb(1, run.palette)
    np.testing.assert_array_equal(luma(snap), luma(run.snapshots.images))
    held = split_holdout(load_cifar10("horse", "train", root=fake_cifar))[1].images
    scores = score(run.model, run.palette, held, decoding="annealed-mean", per_image=True)
    assert scores["cross_entropy"] == pytest.approx(run.history[-1]["val_loss"], rel=1e-4)
    # the recorded command trains the same run again
    assert "--objective chroma" in run.config["command"] and "--palette-space ab" in run.config["command"]


def test_chroma_resumes_bit_for_bit(fake_cifar, tmp_path, chroma_palette):
    config = small(arch="unet", objective="chroma", palette=chroma_palette, palette_space="ab", epochs=3, flip=True)
    straight = train(config, tmp_path / "straight", root=fake_cifar, progress=False)
    train(small(**{**config.__dict__, "epochs": 1}), tmp_path / "resumed", root=fake_cifar, progress=False)
    resumed = train(config, tmp_path / "resumed", root=fake_cifar, progress=False, resume=True)
    assert_same_weights(straight, resumed)
    assert strip_time(straight.history) == strip_time(resumed.history)


@pytest.mark.parametrize(
    "objective, palette, message",
    [("chroma", "horse16", "ab palette"), ("classify", "all-ab", "--objective chroma"), ("regress", "all-ab", "chroma")],
)
def test_objective_and_palette_must_agree_before_any_data_loads(tmp_path, objective, palette, message):
    with pytest.raises(TrainingError, match=message):
        train(small(objective=objective, palette=palette), tmp_path / "run", root=tmp_path / "nowhere")
    assert not (tmp_path / "run").exists()

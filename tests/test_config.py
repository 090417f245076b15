"""TrainConfig is the one place a training setting lives: the `colorlib train` options are made from its fields."""

import subprocess
import sys
from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from colorlib.config import _RESUME_KEYS, ARCHS, OBJECTIVES, PRECISIONS, SCHEDULES, SKIPS, VAL_SPLITS, TrainConfig
from colorlib.data import CLASSES
from colorlib.errors import TrainingError

names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=12)
configs = st.builds(
    TrainConfig,
    arch=st.sampled_from(ARCHS),
    classes=st.lists(st.sampled_from([*CLASSES, "all", "3"]), min_size=1, max_size=4),
    palette=names,
    palette_space=st.none() | st.sampled_from(["rgb", "lab"]),
    epochs=st.integers(-5, 10_000),
    batch_size=st.integers(-5, 10_000),
    lr=st.floats(allow_nan=False, allow_infinity=False),
    seed=st.integers(-(2**40), 2**40),
    schedule=st.sampled_from(SCHEDULES),
    nf=st.integers(1, 512),
    snapshot_count=st.integers(-3, 100),
    drop_grey=st.booleans(),
    val_split=st.sampled_from(VAL_SPLITS),
    split_seed=st.integers(-3, 2**31),
    objective=st.sampled_from(OBJECTIVES),
    skips=st.none() | st.sampled_from(["all", "none", *SKIPS, "down1,grey"]),
    device=st.sampled_from(["auto", "cpu", "cuda:1", "mps"]),
    precision=st.sampled_from(PRECISIONS),
    channels_last=st.booleans(),
    rebalance=st.none() | st.floats(0, 1),
)


@given(configs)
def test_a_config_survives_its_own_command_line(config):
    """Any config, valid or not (validation is a separate step), round-trips through its options."""
    assert TrainConfig.from_argv(config.to_argv()) == config


def test_defaults_need_no_options_and_unknown_ones_are_refused():
    assert TrainConfig().to_argv() == ["--arch", "unet", "--classes", "horse", "--palette", "horse32"]
    assert TrainConfig(seed=-1, lr=0.1).to_argv()[-3:] == ["--lr", "0.1", "--seed=-1"]
    assert TrainConfig.from_argv([]) == TrainConfig()
    assert TrainConfig.from_argv(["--snapshots", "3"]).snapshot_count == 3  # today's spelling, an alias
    with pytest.raises(TrainingError, match="not a training setting: --out R"):
        TrainConfig.from_argv(["--out", "R"])
    with pytest.raises(TrainingError, match="invalid choice"):
        TrainConfig.from_argv(["--arch", "resnet"])


def test_every_field_has_an_option_named_after_it_in_train_help():
    text = subprocess.run(
        [sys.executable, "-m", "colorlib.cli", "train", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for f in fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in text, f.name
        assert f.metadata["help"].split()[0] in text, f.name


def test_resume_compares_the_settings_the_fields_say_must_agree():
    assert "epochs" not in _RESUME_KEYS and "device" not in _RESUME_KEYS  # train longer; move to another device
    assert {"arch", "classes", "palette", "lr", "seed", "schedule", "channels_last", "rebalance"} <= set(_RESUME_KEYS)
    assert set(_RESUME_KEYS) == {f.name for f in fields(TrainConfig)} - {"epochs", "device"}


def test_the_cli_builds_the_config_from_the_same_options(monkeypatch, capsys):
    from colorlib import cli

    seen = []

    def stop(self):
        seen.append(self)
        raise TrainingError("stopped before any work")

    monkeypatch.setattr(TrainConfig, "validate", stop)
    assert cli.main(["train", "--classes", "cat", "--lr=0.16", "--no-channels-last", "--snapshots", "4", "--out", "R"]) != 0
    assert seen == [TrainConfig(classes=["cat"], lr=0.16, channels_last=False, snapshot_count=4)]
    assert "stopped before any work" in capsys.readouterr().err

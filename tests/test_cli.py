import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from colorlib.cli import main
from colorlib.palette import load_palette


def run_cli(*args, env=None):
    """The installed console entry point, in a subprocess, as a user runs it."""
    cmd = [sys.executable, "-m", "colorlib.cli", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture(scope="module")
def trained(fake_cifar, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    args = "train --arch cnn --classes horse --palette horse16 --epochs 2 --batch-size 5 --nf 8 --lr 3e-3 --quiet".split()
    code = main([*args, "--data", str(fake_cifar), "--out", str(out)])
    assert code == 0
    return out


def test_train_records_its_command(trained):
    config = json.loads((trained / "config.json").read_text())
    assert config["command"].startswith("colorlib train --arch cnn")


def test_evaluate_json(trained, fake_cifar):
    result = run_cli("evaluate", trained, "--json", "--data", fake_cifar)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert set(figures) == {
        "cross_entropy",
        "pixel_accuracy",
        "balanced_accuracy",
        "psnr",
        "psnr_pooled",
        "ssim",
        "delta_e",
        "colourfulness",
        "colourfulness_truth",
        "images",
    }
    assert figures["images"] == 6 and 0 < figures["cross_entropy"] < 10 and 0 <= figures["pixel_accuracy"] <= 1
    history = json.loads((trained / "history.json").read_text())
    assert figures["cross_entropy"] != pytest.approx(history[-1]["val_loss"], rel=1e-6)  # the test split, not the holdout
    held = json.loads(run_cli("evaluate", trained, "--json", "--split", "holdout", "--data", fake_cifar).stdout)
    assert held["images"] == 2 and held["cross_entropy"] == pytest.approx(history[-1]["val_loss"], rel=1e-6)
    other = json.loads(run_cli("evaluate", trained, "--json", "--classes", "cat", "--data", fake_cifar).stdout)
    assert other["cross_entropy"] != figures["cross_entropy"]


def test_colorize_one_and_many(trained, tmp_path):
    Image.new("L", (37, 21), 128).save(tmp_path / "a.png")
    Image.new("RGB", (8, 8), (10, 200, 30)).save(tmp_path / "b.jpg")
    assert main(["colorize", str(trained), str(tmp_path / "a.png"), "-o", str(tmp_path / "a_out.png")]) == 0
    assert Image.open(tmp_path / "a_out.png").size == (37, 21)
    assert main(["colorize", str(trained), str(tmp_path / "a.png"), str(tmp_path / "b.jpg"), "-o", str(tmp_path / "many")]) == 0
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == ["a_colorized.png", "b_colorized.png"]


def test_palette_fit_and_list(fake_cifar, tmp_path):
    assert (
        main(["palette", "fit", "--classes", "cat", "--colors", "8", "--data", str(fake_cifar), "-o", str(tmp_path / "cat8.npy")])
        == 0
    )
    assert np.load(tmp_path / "cat8.npy").shape == (8, 3)
    errors = run_cli("palette", "error", tmp_path / "cat8.npy", "--classes", "cat", "--data", fake_cifar)
    assert errors.returncode == 0 and "mean RGB error" in errors.stdout and "mean ΔE2000" in errors.stdout, errors.stderr
    gamut = run_cli("palette", "gamut", "--classes", "cat", "--step", "25", "--data", fake_cifar, "-o", tmp_path / "ab.npy")
    assert gamut.returncode == 0 and "ab bins of 25 units" in gamut.stdout, gamut.stderr
    assert load_palette(tmp_path / "ab.npy", "ab").num_colors == int(gamut.stdout.split(": ")[1].split()[0])
    ab_error = run_cli("palette", "error", tmp_path / "ab.npy", "--space", "ab", "--classes", "cat", "--data", fake_cifar)
    rgb_error = run_cli("palette", "error", tmp_path / "ab.npy", "--classes", "cat", "--data", fake_cifar)
    assert ab_error.returncode == 0 and ab_error.stdout != rgb_error.stdout, ab_error.stderr  # the space changes the answer
    listed = run_cli("palette", "list")
    assert listed.returncode == 0 and "horse32" in listed.stdout.split()


@pytest.mark.parametrize(
    "args, message",
    [
        (["evaluate", "/nonexistent/run"], "neither a run directory nor a shipped run"),
        (["colorize", "/nonexistent/run", "x.png", "-o", "y.png"], "neither a run directory nor a shipped run"),
        (["train", "--classes", "zebra", "--out", "{tmp}/r"], "unknown CIFAR-10 class 'zebra'"),
        (["train", "--epochs", "0", "--out", "{tmp}/r"], "epochs must be a positive integer"),
        (["train", "--palette", "nope", "--out", "{tmp}/r"], "neither a palette file nor a shipped palette"),
    ],
)
def test_errors_are_one_line_with_non_zero_exit(fake_cifar, tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = run_cli(*args, env={"COLORLIB_DATA": str(fake_cifar)})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("colorlib: error:") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback():
    result = run_cli("--debug", "evaluate", "/nonexistent/run")
    assert result.returncode != 0 and "Traceback" in result.stderr and "RunError" in result.stderr


def test_missing_data_offline(tmp_path):
    result = run_cli("evaluate", "/nonexistent", env={"COLORLIB_DATA": str(tmp_path)})
    assert result.returncode == 1
    result = run_cli("palette", "fit", "-o", tmp_path / "p.npy", env={"COLORLIB_DATA": str(tmp_path)})
    assert result.returncode == 1 and "CIFAR-10 not found" in result.stderr and "--download" in result.stderr
    assert not (tmp_path / "p.npy").exists()


def test_colorize_bad_image_writes_nothing(trained, tmp_path):
    Image.new("L", (8, 8)).save(tmp_path / "good.png")
    (tmp_path / "bad.png").write_text("nope")
    result = run_cli("colorize", trained, tmp_path / "good.png", tmp_path / "bad.png", "-o", tmp_path / "out")
    assert result.returncode == 1 and "bad.png" in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_evaluate_table_with_reference_rows_and_annealed_mean(trained, fake_cifar):
    result = run_cli(
        "evaluate", trained, "--references", "--decoding", "annealed-mean", "--temperature", "0.5", "--data", fake_cifar
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "annealed-mean decoding at T=0.5" in lines[0] and "ΔE2000" in lines[1]
    assert [line.split()[0] for line in lines[2:]] == [str(trained), str(trained), "grey", "palette", "palette", "best", "best"]
    assert lines[3].startswith(f"{trained} + input luma") and lines[-1].startswith("best palette colour + input luma")
    rows = json.loads(run_cli("evaluate", trained, "--references", "--json", "--data", fake_cifar).stdout)
    assert rows["palette truth"]["pixel_accuracy"] == 1 and rows["grey baseline"]["colourfulness"] == 0
    assert rows["best palette colour"]["delta_e"] <= rows["palette truth"]["delta_e"]
    assert rows[f"{trained} + input luma"] == json.loads(
        run_cli("evaluate", trained, "--json", "--keep-luma", "--data", fake_cifar).stdout
    )
    mean = json.loads(run_cli("evaluate", trained, "--json", "--decoding", "annealed-mean", "--data", fake_cifar).stdout)
    argmax = json.loads(run_cli("evaluate", trained, "--json", "--data", fake_cifar).stdout)
    assert mean["cross_entropy"] == argmax["cross_entropy"] and mean["delta_e"] != argmax["delta_e"]
    kept = json.loads(run_cli("evaluate", trained, "--json", "--keep-luma", "--data", fake_cifar).stdout)
    assert kept["cross_entropy"] == argmax["cross_entropy"] and kept["psnr"] != argmax["psnr"]


def test_colorize_annealed_mean(trained, tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (16, 24, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    assert main(["colorize", str(trained), str(tmp_path / "a.png"), "-o", str(tmp_path / "argmax.png"), "--scale", "native"]) == 0
    assert (
        main(
            [
                "colorize",
                str(trained),
                str(tmp_path / "a.png"),
                "-o",
                str(tmp_path / "mean.png"),
                "--decoding",
                "annealed-mean",
                "--temperature",
                "1",
                "--scale",
                "native",
            ]
        )
        == 0
    )
    argmax, mean = (np.asarray(Image.open(tmp_path / n).convert("RGB")) for n in ("argmax.png", "mean.png"))
    palette = {tuple(c) for c in json.loads((trained / "config.json").read_text())["palette"]["colors"]}
    assert {tuple(c) for c in argmax.reshape(-1, 3)} <= palette  # argmax paints palette colours only
    assert not {tuple(c) for c in mean.reshape(-1, 3)} <= palette  # the mean is continuous
    result = run_cli(
        "colorize", trained, tmp_path / "a.png", "-o", tmp_path / "x.png", "--decoding", "annealed-mean", "--temperature", "0"
    )
    assert result.returncode == 1 and "temperature must be a positive number" in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_cross_class_table_json_and_heatmap(trained, fake_cifar, tmp_path):
    shutil.copytree(trained, tmp_path / "copy")
    result = run_cli(
        "cross-class",
        trained,
        tmp_path / "copy",
        "--classes",
        "horse",
        "cat",
        "--json",
        "--figure",
        tmp_path / "m.png",
        "--data",
        fake_cifar,
    )
    assert result.returncode == 0, result.stderr
    table = json.loads(result.stdout)
    assert table["classes"] == ["cat", "horse"] and len(table["values"]) == 2
    assert table["values"][0] == table["values"][1] and table["values"][0][0] != table["values"][0][1]
    horse = json.loads(run_cli("evaluate", trained, "--json", "--classes", "horse", "--data", fake_cifar).stdout)
    assert table["values"][0][1] == pytest.approx(horse["cross_entropy"])
    assert Image.open(tmp_path / "m.png").size[0] > 100
    bad = run_cli("cross-class", trained, "--figure", tmp_path / "m.gif", "--data", fake_cifar)
    assert bad.returncode == 1 and "--figure must end in .png" in bad.stderr


def test_train_holdout_regression_without_skips_from_the_shell(fake_cifar, tmp_path):
    out = tmp_path / "run"
    result = run_cli(
        "train",
        "--arch",
        "unet",
        "--classes",
        "horse",
        "--epochs",
        "2",
        "--batch-size",
        "6",
        "--nf",
        "4",
        "--val-split",
        "holdout",
        "--split-seed",
        "3",
        "--objective",
        "regress",
        "--skips",
        "none",
        "--data",
        fake_cifar,
        "--out",
        out,
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    assert "(mean squared error, holdout split)" in result.stdout
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["objective"] == "regress" and config["model"]["skips"] == []
    assert config["data"]["split_seed"] == 3 and config["data"]["val_images"] == 2
    rows = json.loads(run_cli("evaluate", out, "--json", "--data", fake_cifar).stdout)
    assert rows["cross_entropy"] is None and rows["pixel_accuracy"] is None and rows["delta_e"] > 0
    assert main(["colorize", str(out), str(tmp_path / "x.png"), "-o", str(tmp_path / "y.png")]) == 1  # no such image
    Image.new("L", (10, 6), 90).save(tmp_path / "x.png")
    assert main(["colorize", str(out), str(tmp_path / "x.png"), "-o", str(tmp_path / "y.png")]) == 0
    assert Image.open(tmp_path / "y.png").size == (10, 6)


@pytest.mark.parametrize("argv", [["--help"], ["palette", "list"], ["pretrained", "list"], ["colorize", "--help"]])
def test_quick_commands_do_not_load_torch(argv):
    """`import colorlib` and the listing commands stay quick: PyTorch loads only where a model is used."""
    probe = (
        f"import sys\nfrom colorlib.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\nimport colorlib\nprint(colorlib.load_palette)\n"
        "assert 'torch' not in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


TYPOS = {  # argv, what the one line must say: each is refused before PyTorch is imported
    "train-epochs": (["train", "--epochs", "0", "--out", "{tmp}/r"], "epochs must be a positive integer"),
    "train-class": (["train", "--classes", "hrose", "--out", "{tmp}/r"], "did you mean horse?"),
    "train-palette": (["train", "--palette", "hrose32", "--out", "{tmp}/r"], "did you mean horse32 or"),
    "train-no-data": (["train", "--data", "{tmp}/nodata", "--out", "{tmp}/r"], "CIFAR-10 not found"),
    "train-skips": (["train", "--arch", "unet", "--skips", "dwn1", "--out", "{tmp}/r"], "dwn1"),
    "evaluate-run": (["evaluate", "unet_hrse32"], "did you mean unet_horse32"),
    "evaluate-decoding": (["evaluate", "unet_horse32", "--decoding", "annealed-mean", "--temperature", "0"], "temperature"),
    "colorize-run": (["colorize", "--run", "unet_hrse32", "{tmp}/x.png", "-o", "{tmp}/y.png"], "did you mean"),
    "colorize-image": (["colorize", "{tmp}/missing.png", "-o", "{tmp}/y.png"], "missing.png"),
    "colorize-scale": (["colorize", "{tmp}/x.png", "--scale", "tiny", "-o", "{tmp}/y.png"], "--scale must be"),
    "colorize-out": (["colorize", "{tmp}/x.png", "-o", "{tmp}/nowhere/y.png"], "does not exist"),
    "cross-class": (["cross-class", "unet_horse32", "unet_ct32"], "did you mean unet_cat32"),
    "palette-fit": (["palette", "fit", "--colors", "1", "-o", "{tmp}/p.npy"], "2 to 256 colours"),
    "palette-gamut": (["palette", "gamut", "--step", "0", "-o", "{tmp}/p.npy"], "--step must be > 0"),
    "train-objective": (["train", "--objective", "chroma", "--out", "{tmp}/r"], "use an ab palette"),
    "palette-error": (["palette", "error", "hrose32"], "did you mean horse32 or horse32-lab?"),
    "export-onnx": (["export-onnx", "unet_hrse32", "-o", "{tmp}/m.onnx"], "did you mean unet_horse32"),
}


@pytest.mark.parametrize("name", TYPOS)
def test_a_typo_is_refused_in_one_line_before_torch_loads(name, tmp_path):
    """A mistyped argument costs a fraction of a second: one line naming it, exit 1, PyTorch never imported."""
    argv, needle = TYPOS[name]
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    Image.new("L", (8, 8), 90).save(tmp_path / "x.png")
    probe = (
        f"import sys\nfrom colorlib.cli import main\ncode = main({argv!r})\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\nsys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLORLIB_DATA": str(tmp_path / "nodata")},
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("colorlib: error: ") and needle in lines[0], result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.png"]  # nothing written


def test_a_reader_that_leaves_early_is_no_error():
    """`colorlib pretrained list | head -1`: the pipe closes before colorlib has written; it exits quietly."""
    read, write = os.pipe()
    os.close(read)  # the reader has gone before a byte is written
    proc = subprocess.run(
        [sys.executable, "-m", "colorlib.cli", "pretrained", "list"], stdout=write, stderr=subprocess.PIPE, text=True, timeout=120
    )
    os.close(write)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_pretrained_list_and_run_names():
    from colorlib.errors import RunError
    from colorlib.pretrained import FOLDER, pretrained_names, resolve

    result = run_cli("pretrained", "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == pretrained_names()
    assert any(line.startswith("unet_horse32 ") and "UNet, horse, horse32 palette" in line for line in lines)
    assert resolve("unet_horse32") == FOLDER / "unet_horse32" and resolve(FOLDER / "cnn_cat16") == FOLDER / "cnn_cat16"
    shipped = "did you mean unet_horse32 or unet_horse32_lab\\? `colorlib pretrained list` shows all"
    with pytest.raises(RunError, match=f"unet_hrse32: neither a run directory nor a shipped run; {shipped}"):
        resolve("unet_hrse32")


def test_the_package_keeps_its_functions_under_their_module_names():
    import importlib

    import colorlib

    for name in ("train", "colorize", "pretrained"):
        importlib.import_module(f"colorlib.{name}")  # binding the submodule must not replace the function
        assert callable(getattr(colorlib, name)) and not isinstance(getattr(colorlib, name), type(colorlib))
    assert set(colorlib.__all__) <= set(dir(colorlib))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        colorlib.nope  # noqa: B018


def test_export_onnx_gives_the_same_logits_as_pytorch(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    import onnx
    import torch

    import colorlib

    assert main(["export-onnx", "unet_horse32", "-o", str(tmp_path / "m.onnx")]) == 0
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    run = colorlib.pretrained("unet", "horse", 32)
    for shape in [(1, 1, 32, 32), (2, 1, 48, 80), (1, 1, 132, 200)]:  # any batch and size (multiples of 4)
        grey = torch.rand(*shape, generator=torch.Generator().manual_seed(sum(shape)))
        got = session.run(None, {"grey": grey.numpy()})[0]
        with torch.no_grad():
            expected = run.model.float()(grey).numpy()
        assert got.shape == expected.shape and np.abs(got - expected).max() < 1e-3  # float32 reordering, no more
    meta = json.loads({p.key: p.value for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}["colorlib"])
    assert meta["objective"] == "classify" and np.array_equal(meta["palette"]["colors"], run.palette.colors)
    assert run.model.training is False and next(run.model.parameters()).dtype == torch.float32
    assert main(["export-onnx", "unet_nope", "-o", str(tmp_path / "x.onnx")]) == 1
    assert main(["export-onnx", "unet_horse32", "-o", str(tmp_path / "no" / "x.onnx")]) == 1 and not (tmp_path / "no").exists()


def test_colorize_with_no_run_is_colorlib_colorize_with_no_run(tmp_path):
    """The shell's one command and Python's one call give the same picture: the default model, scale and decoding."""
    import colorlib

    photo = np.random.default_rng(4).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    assert main(["colorize", str(tmp_path / "photo.png"), "-o", str(tmp_path / "out.png")]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out.png").convert("RGB")), colorlib.colorize(photo))
    assert main(["colorize", str(tmp_path / "photo.png"), "-o", str(tmp_path / "n.png"), "--scale", "native"]) == 0
    native = colorlib.colorize(photo, scale="native")  # the original way: argmax, palette colours
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "n.png").convert("RGB")), native)
    assert main(["colorize", str(tmp_path / "photo.png"), "-o", str(tmp_path / "p.png"), "--no-keep-luma"]) == 0
    plain = colorlib.colorize(photo, keep_luma=False)  # the upsampled colour with the network's own lightness
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "p.png").convert("RGB")), plain)
    assert not np.array_equal(plain, colorlib.colorize(photo))


def test_colorize_one_command_run_names_and_the_older_form(trained, tmp_path, monkeypatch):
    """`colorlib colorize photo.jpg -o out.png` (the default run), `--run NAME|DIR`, and `colorize RUN_DIR IMAGE…`."""
    import importlib

    from colorlib.data import luma

    shipped = importlib.import_module("colorlib.pretrained")
    monkeypatch.setattr(shipped, "DEFAULT_RUN", "unet_horse16")
    photo = np.random.default_rng(3).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")

    def made(*argv):
        assert main(list(map(str, argv))) == 0
        return np.asarray(Image.open(argv[-1]).convert("RGB"))

    default = made("colorize", tmp_path / "photo.png", "-o", tmp_path / "default.png")
    assert default.shape == photo.shape and (luma(default) == luma(photo)).all()
    named = made("colorize", tmp_path / "photo.png", "--run", "unet_horse16", "-o", tmp_path / "n.png")
    np.testing.assert_array_equal(named, default)
    np.testing.assert_array_equal(
        made("colorize", "--run", shipped.FOLDER / "unet_horse16", tmp_path / "photo.png", "-o", tmp_path / "d.png"), default
    )
    np.testing.assert_array_equal(made("colorize", "unet_horse16", tmp_path / "photo.png", "-o", tmp_path / "o.png"), default)
    older = made("colorize", trained, tmp_path / "photo.png", "-o", tmp_path / "older.png")  # RUN_DIR IMAGE
    assert older.shape == photo.shape and not np.array_equal(older, default)
    native = made("colorize", tmp_path / "photo.png", "--scale", "native", "-o", tmp_path / "native.png")
    palette = {tuple(c) for c in shipped.pretrained("unet", "horse", 16).palette.colors.tolist()}
    assert {tuple(c) for c in native.reshape(-1, 3).tolist()} <= palette  # the original way: palette colours
    for argv, needle in [
        (
            ["colorize", "unet_zebra32", tmp_path / "photo.png", "-o", tmp_path / "z.png"],
            "unet_zebra32: neither a run directory nor a shipped run; did you mean ",
        ),
        (["colorize", "--run", "nope", tmp_path / "photo.png", "-o", tmp_path / "z.png"], "nope: neither a run directory"),
        (["colorize", "unet_horse16", "-o", tmp_path / "z.png"], "unet_horse16 is a run; name at least one image"),
        (["colorize", tmp_path / "photo.png", "--scale", "tiny", "-o", tmp_path / "z.png"], "--scale must be native, auto or"),
        (["colorize", tmp_path / "photo.png", "--scale", "2", "-o", tmp_path / "z.png"], "scale must be 'native', 'auto' or"),
    ]:
        result = run_cli(*argv)
        assert result.returncode == 1 and result.stderr.count("\n") == 1 and needle in result.stderr, result.stderr
        assert not (tmp_path / "z.png").exists()

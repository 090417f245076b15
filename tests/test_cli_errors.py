"""Every bad input to the command line fails the same way.

Exit status 1, exactly one stderr line `colorlib: error: …` that names the culprit (file or value)
and the fix, no traceback, nothing on stdout, and nothing written: the test's folder (inputs,
run copies, output paths) is byte-for-byte what it was before the command. A hostile pickle
would create a marker file if it ran; the marker must never appear.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import io
import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import colorlib
from colorlib.cli import main
from colorlib.data import BATCHES_DIR, CLASSES
from colorlib.models import build
from colorlib.palette import load_palette
from colorlib.pretrained import FOLDER as PRETRAINED

colorize_module = importlib.import_module("colorlib.colorize")  # colorlib.colorize is also the function

# The tiny run every case damages a copy of (the settings `train --resume` must repeat).
RUN_ARGS = "train --arch cnn --classes horse --palette horse16 --epochs 2 --batch-size 5 --nf 8 --device cpu --quiet".split()


@pytest.fixture(scope="module")
def trained(fake_cifar, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli-errors") / "run"
    assert main([*RUN_ARGS, "--data", str(fake_cifar), "--out", str(out)]) == 0
    return out


@dataclass
class Ctx:
    """What a case's setup may change; command arguments name these as {tmp}, {run}, {data}, {img}."""

    tmp: Path
    run: Path  # a full copy of `trained` (checkpoint.pt included)
    data: Path  # fake_cifar, or a damaged copy
    img: Path  # a good greyscale PNG
    trained: Path
    fake_cifar: Path
    payload: object  # unpickling it runs `touch marker`
    marker: Path
    monkeypatch: pytest.MonkeyPatch

    def format(self, text: str) -> str:
        return text.format(tmp=self.tmp, run=self.run, data=self.data, img=self.img)


Setup = Callable[[Ctx], None]


def tree(root: Path) -> dict[str, tuple]:
    """Every file and folder under `root`: kind, permissions and content hash."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else None
        out[str(p.relative_to(root))] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), digest)
    return out


def assert_one_error(code: int, stdout: str, stderr: str, needles: list[str]) -> None:
    assert code == 1, f"exit {code}; stderr: {stderr}"
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert lines[0].startswith("colorlib: error: "), stderr
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    assert stdout == "", stdout


# -- inputs ------------------------------------------------------------------------------------------


def _encoded(fmt: str, size: tuple[int, int] = (64, 64), mode: str = "RGB") -> bytes:
    """Random-noise image bytes: they do not compress, so cutting them in half cuts the pixel data."""
    pixels = np.random.default_rng(0).integers(0, 256, (size[1], size[0], len(mode)), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels.squeeze(-1) if mode == "L" else pixels, mode).save(buf, fmt)
    return buf.getvalue()


PNG, JPEG = _encoded("PNG"), _encoded("JPEG")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>\n'


def file(name: str, content: bytes | Callable[[], bytes]) -> Setup:
    def setup(ctx: Ctx) -> None:
        (ctx.tmp / name).write_bytes(content() if callable(content) else content)

    return setup


def folder(name: str) -> Setup:
    return lambda ctx: (ctx.tmp / name).mkdir()


def patch(target: object, name: str, value: object, then: Setup | None = None) -> Setup:
    def setup(ctx: Ctx) -> None:
        ctx.monkeypatch.setattr(target, name, value)
        if then:
            then(ctx)

    return setup


def npy(name: str, array: np.ndarray | Callable[[Ctx], np.ndarray]) -> Setup:
    def setup(ctx: Ctx) -> None:
        a = array(ctx) if callable(array) else array
        np.save(ctx.tmp / name, a, allow_pickle=a.dtype.hasobject)

    return setup


def objects(*items) -> np.ndarray:
    a = np.empty(len(items), dtype=object)
    a[:] = items
    return a


def data_copy(change: Callable[[Path, Ctx], None]) -> Setup:
    """ctx.data becomes a copy of fake_cifar with `change` applied to every batch file."""

    def setup(ctx: Ctx) -> None:
        ctx.data = ctx.tmp / "data"
        shutil.copytree(ctx.fake_cifar, ctx.data)
        for batch in sorted((ctx.data / BATCHES_DIR).glob("*_batch*")):
            change(batch, ctx)

    return setup


def truncate(path: Path, ctx: Ctx) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garbage(path: Path, ctx: Ctx) -> None:
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())


def wrong_layout(path: Path, ctx: Ctx) -> None:
    path.write_bytes(pickle.dumps({"data": np.zeros((2, 10), np.uint8), "labels": [0, 1]}))


def hostile_batch(path: Path, ctx: Ctx) -> None:
    path.write_bytes(pickle.dumps({"data": ctx.payload, "labels": [0]}))


def _edit_batch(path: Path, change: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, list]]) -> None:
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = change(batch["data"], np.asarray(batch["labels"]))
    path.write_bytes(pickle.dumps({"data": data, "labels": list(labels)}, protocol=2))


def all_grey(path: Path, ctx: Ctx) -> None:
    """Every image R = G = B (the red plane copied into green and blue)."""

    def change(data, labels):
        planes = data.reshape(len(data), 3, 1024)
        return np.repeat(planes[:, :1], 3, axis=1).reshape(len(data), -1), labels

    _edit_batch(path, change)


def no_horses(path: Path, ctx: Ctx) -> None:
    _edit_batch(path, lambda data, labels: (data[labels != CLASSES.index("horse")], labels[labels != CLASSES.index("horse")]))


def offline(ctx: Ctx) -> None:
    """No CIFAR-10, and the archive's address refuses connections (a closed port on 127.0.0.1), as offline."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx.monkeypatch.setenv("COLORLIB_CIFAR_URL", f"http://127.0.0.1:{port}/cifar-10-python.tar.gz")
    ctx.monkeypatch.delenv("COLORLIB_CIFAR_MD5", raising=False)
    ctx.data = ctx.tmp / "nowhere" / "deep"


def edit_config(change: Callable[[dict], object]) -> Setup:
    def setup(ctx: Ctx) -> None:
        config = json.loads((ctx.run / "config.json").read_text())
        change(config)
        (ctx.run / "config.json").write_text(json.dumps(config))

    return setup


def run_file(name: str, content: Callable[[Ctx], bytes | None]) -> Setup:
    """Replace (None: delete) one file of an exported run, i.e. one without checkpoint.pt, as shipped.

    With no checkpoint.pt, load_run reads weights.pt; the checkpoint cases below use `train --resume`.
    """

    def setup(ctx: Ctx) -> None:
        if name != "checkpoint.pt":
            (ctx.run / "checkpoint.pt").unlink()
        data = content(ctx)
        if data is None:
            (ctx.run / name).unlink()
        else:
            (ctx.run / name).write_bytes(data)

    return setup


def half_of(name: str) -> Callable[[Ctx], bytes]:
    return lambda ctx: (ctx.trained / name).read_bytes()[: (ctx.trained / name).stat().st_size // 2]


def saved(obj: Callable[[Ctx], object]) -> Callable[[Ctx], bytes]:
    def content(ctx: Ctx) -> bytes:
        buf = io.BytesIO()
        torch.save(obj(ctx), buf)
        return buf.getvalue()

    return content


def both(*setups: Setup) -> Setup:
    def setup(ctx: Ctx) -> None:
        for s in setups:
            s(ctx)

    return setup


# -- commands ----------------------------------------------------------------------------------------

EVALUATE = ["evaluate", "{run}", "--data", "{data}"]
COLORIZE = ["colorize", "{run}", "{img}", "-o", "{tmp}/out.png"]
TRAIN = [*RUN_ARGS, "--epochs", "1", "--data", "{data}", "--out", "{tmp}/new"]
FIT = ["palette", "fit", "--classes", "horse", "--colors", "4", "--data", "{data}", "-o", "{tmp}/p.npy"]
PALETTE_ERROR = ["palette", "error", "horse16", "--classes", "horse", "--data", "{data}"]
RESUME = [*RUN_ARGS, "--epochs", "3", "--data", "{data}", "--out", "{run}", "--resume"]


def bad_image(name: str) -> list[str]:
    return ["colorize", "{run}", f"{{tmp}}/{name}", "-o", "{tmp}/out.png"]


# command, the batch file it reads first
DATA_COMMANDS = {
    "evaluate": (EVALUATE, "test_batch"),
    "train": (TRAIN, "data_batch_1"),
    "fit": (FIT, "data_batch_1"),
    "palette-error": (PALETTE_ERROR, "test_batch"),
}
RUN_COMMANDS = {"evaluate": EVALUATE, "colorize": COLORIZE}
PALETTE_COMMANDS = {
    "palette-error": ["palette", "error", "{tmp}/bad.npy", "--data", "{data}"],
    "train": [*TRAIN, "--palette", "{tmp}/bad.npy"],
}

BAD_PALETTES = {  # name: (array, what the message says)
    "wrong-shape": (np.zeros((4, 4), np.uint8), ["K×3", "(4, 4)"]),
    "one-colour": (np.array([[0, 0, 0]], np.uint8), ["2 to 256 colours, got 1"]),
    "257-colours": (
        np.stack([np.arange(257) % 256, np.arange(257) // 256, np.zeros(257)], 1).astype(np.uint8),
        ["2 to 256 colours, got 257"],
    ),
    "nan": (np.array([[0.1, np.nan, 0.2], [0, 0, 0]]), ["NaN"]),
    "inf": (np.array([[0.1, np.inf, 0.2], [0, 0, 0]]), ["infinity"]),
    "float-above-1": (np.array([[0.1, 1.5, 0.2], [0, 0, 0]]), ["[0, 1]", "uint8"]),
    "int-above-255": (np.array([[0, 300, 0], [0, 0, 0]]), ["0..255", "300"]),
    "negative": (np.array([[-1, 3, 0], [0, 0, 0]]), ["0..255", "-1"]),
    "duplicates": (np.array([[1, 2, 3], [4, 5, 6], [1, 2, 3]], np.uint8), ["duplicate colour [1, 2, 3]", "distinct"]),
    "strings": (np.array([["a", "b", "c"], ["d", "e", "f"]]), ["must be numbers"]),
    "objects-not-a-codebook": (objects({"a": 1}, 2), ["not a CSC321 palette", "codebook"]),
    "hostile-pickle": (lambda ctx: objects(ctx.payload), ["refusing to load global", "system"]),
}

CASES = [
    # -- images: colorize RUN IMAGE -o OUT ---------------------------------------------------------------
    pytest.param(bad_image("missing.png"), ["{tmp}/missing.png", "no such image file"], None, id="image-missing"),
    pytest.param(bad_image("dir"), ["{tmp}/dir", "is a folder"], folder("dir"), id="image-folder"),
    pytest.param(bad_image("empty.png"), ["empty.png", "cannot read as an image"], file("empty.png", b""), id="image-empty"),
    pytest.param(
        bad_image("cut.png"), ["cut.png", "damaged or truncated"], file("cut.png", PNG[: len(PNG) // 2]), id="image-truncated-png"
    ),
    pytest.param(
        bad_image("cut.jpg"),
        ["cut.jpg", "damaged or truncated"],
        file("cut.jpg", JPEG[: len(JPEG) // 2]),
        id="image-truncated-jpeg",
    ),
    pytest.param(
        bad_image("text.png"),
        ["text.png", "cannot read as an image"],
        file("text.png", b"not an image\n"),
        id="image-text-named-png",
    ),
    pytest.param(bad_image("doc.pdf"), ["doc.pdf", "cannot read as an image"], file("doc.pdf", PDF), id="image-pdf"),
    pytest.param(bad_image("pic.svg"), ["pic.svg", "cannot read as an image"], file("pic.svg", SVG), id="image-svg"),
    pytest.param(
        bad_image("blob.bin"),
        ["blob.bin", "cannot read as an image"],
        file("blob.bin", bytes(range(256)) * 4),
        id="image-plain-bytes",
    ),
    pytest.param(
        bad_image("big.png"),
        ["big.png", "decompression bomb", "--max-pixels"],
        patch(Image, "MAX_IMAGE_PIXELS", 1000, file("big.png", lambda: _encoded("PNG", (200, 200), "L"))),
        id="image-decompression-bomb",
    ),
    pytest.param(
        bad_image("big.png"),
        ["big.png", "100×100 = 10,000 pixels", "limit of 5,000", "--max-pixels"],
        patch(colorize_module, "MAX_PIXELS", 5000, file("big.png", lambda: _encoded("PNG", (100, 100), "L"))),
        id="image-above-default-max-pixels",
    ),
    pytest.param(
        [*bad_image("big.png"), "--max-pixels", "9999"],
        ["big.png", "limit of 9,999", "--max-pixels"],
        file("big.png", lambda: _encoded("PNG", (100, 100), "L")),
        id="image-above-max-pixels-option",
    ),
    pytest.param([*COLORIZE, "--max-pixels", "0"], ["--max-pixels", "positive", "got 0"], None, id="image-max-pixels-0"),
    pytest.param(
        ["colorize", "{run}", "{img}", "{tmp}/text.png", "-o", "{tmp}/outdir"],
        ["text.png", "cannot read"],
        file("text.png", b"nope"),
        id="image-one-bad-of-several",
    ),
    pytest.param(
        ["colorize", "{run}", "{img}", "{img}", "-o", "{tmp}/taken.png"],
        ["taken.png", "is a file", "folder"],
        file("taken.png", PNG),
        id="image-several-into-a-file",
    ),
    pytest.param(
        ["colorize", "{run}", "{img}", "-o", "{tmp}/nowhere/out.png"],
        ["{tmp}/nowhere", "does not exist"],
        None,
        id="image-output-folder-missing",
    ),
    pytest.param(
        ["colorize", "{run}", "{img}", "-o", "{tmp}/out.xyz"],
        ["out.xyz", "unknown image format", ".png"],
        None,
        id="image-output-unknown-format",
    ),
    # -- palettes: palette error FILE, train --palette FILE ----------------------------------------------
    *[
        pytest.param(command, ["{tmp}/bad.npy", *message], npy("bad.npy", array), id=f"palette-{name}-{cmd}")
        for name, (array, message) in BAD_PALETTES.items()
        for cmd, command in PALETTE_COMMANDS.items()
    ],
    *[
        pytest.param(
            command,
            ["config.json", "palette has 32 colours", "predicts 16"],
            edit_config(lambda c: c["palette"].update(colors=load_palette("horse32").colors.tolist())),
            id=f"palette-run-k-mismatch-{cmd}",
        )
        for cmd, command in RUN_COMMANDS.items()
    ],
    # -- runs: evaluate RUN, colorize RUN (damaged copies of an exported run) ------------------------------
    *[
        case
        for cmd, command in RUN_COMMANDS.items()
        for case in [
            pytest.param(
                command,
                ["{tmp}/nope", "neither a run directory nor a shipped run", "`colorlib pretrained list` shows all"],
                lambda ctx: setattr(ctx, "run", ctx.tmp / "nope"),
                id=f"run-missing-{cmd}",
            ),
            pytest.param(
                command,
                ["{run}/config.json: missing", "colorlib run directory"],
                run_file("config.json", lambda c: None),
                id=f"run-no-config-{cmd}",
            ),
            pytest.param(
                command,
                ["{run}/weights.pt: missing", "train it again"],
                run_file("weights.pt", lambda c: None),
                id=f"run-no-weights-{cmd}",
            ),
            pytest.param(
                command,
                ["{run}/weights.pt", "unreadable"],
                run_file("weights.pt", half_of("weights.pt")),
                id=f"run-truncated-weights-{cmd}",
            ),
            pytest.param(
                command,
                ["{run}/weights.pt", "do not fit the cnn model"],
                run_file("weights.pt", lambda c: (PRETRAINED / "unet_horse16" / "weights.pt").read_bytes()),
                id=f"run-unet-weights-in-cnn-run-{cmd}",
            ),
            pytest.param(
                command,
                ["{run}/weights.pt", "do not fit the cnn model"],
                run_file("weights.pt", saved(lambda c: build("cnn", 32, nf=8).state_dict())),
                id=f"run-weights-of-another-k-{cmd}",
            ),
            pytest.param(
                command,
                ["{run}/weights.pt", "unsafe"],
                run_file("weights.pt", saved(lambda c: {"w": c.payload})),
                id=f"run-hostile-weights-{cmd}",
            ),
            pytest.param(
                command,
                ["{run}/config.json", "not valid JSON"],
                run_file("config.json", lambda c: b"{not json"),
                id=f"run-config-not-json-{cmd}",
            ),
            pytest.param(
                command,
                ["config.json", "lacks", "'palette'"],
                run_file("config.json", lambda c: b'{"format": "colorlib-run", "version": 1}'),
                id=f"run-config-lacks-keys-{cmd}",
            ),
            pytest.param(
                command,
                ["config.json", "version 99", "upgrade colorlib"],
                edit_config(lambda c: c.update(version=99)),
                id=f"run-future-version-{cmd}",
            ),
        ]
    ],
    pytest.param(
        RESUME,
        ["{run}/checkpoint.pt", "unsafe"],
        run_file("checkpoint.pt", saved(lambda c: {"model": c.payload})),
        id="run-hostile-checkpoint-resume",
    ),
    pytest.param(
        RESUME,
        ["{run}/checkpoint.pt", "unreadable"],
        run_file("checkpoint.pt", half_of("checkpoint.pt")),
        id="run-truncated-checkpoint-resume",
    ),
    # -- data: evaluate / train / palette fit / palette error --data DIR ----------------------------------
    *[
        case
        for cmd, (command, batch) in DATA_COMMANDS.items()
        for case in [
            pytest.param(
                command,
                ["CIFAR-10 not found", "{tmp}/nowhere", "--download"],
                lambda ctx: setattr(ctx, "data", ctx.tmp / "nowhere"),
                id=f"data-missing-{cmd}",
            ),
            pytest.param(
                [*command, "--download"],
                [
                    "downloading CIFAR-10 from http://127.0.0.1:",
                    "into {tmp}/nowhere/deep failed",
                    "refused",
                    "md5 c58f30108f718f92721af3b95e74349a",
                    "tar -xzf",
                    "COLORLIB_DATA=DIR",
                ],
                offline,
                id=f"data-download-offline-{cmd}",
            ),
            pytest.param(
                command, [f"{batch}: not a valid CIFAR-10 batch", "re-download"], data_copy(truncate), id=f"data-truncated-{cmd}"
            ),
            pytest.param(
                command, [f"{batch}: not a valid CIFAR-10 batch", "re-download"], data_copy(garbage), id=f"data-garbage-{cmd}"
            ),
            pytest.param(
                command,
                [f"{batch}: 'data' must be a uint8 N×3072 array", "re-download"],
                data_copy(wrong_layout),
                id=f"data-wrong-layout-{cmd}",
            ),
            pytest.param(
                command,
                [f"{batch}: not a valid CIFAR-10 batch", "refusing to load global", "re-download"],
                data_copy(hostile_batch),
                id=f"data-hostile-{cmd}",
            ),
            pytest.param(
                [*command, "--classes", "zebra"],
                ["unknown CIFAR-10 class 'zebra'", "airplane, automobile", "truck"],
                None,
                id=f"data-unknown-class-{cmd}",
            ),
        ]
    ],
    pytest.param(
        [*TRAIN, "--drop-grey"],
        ["['horse'] (train)", "only greyscale", "--drop-grey", "keep them"],
        data_copy(all_grey),
        id="data-drop-grey-leaves-nothing-train",
    ),
    pytest.param(
        EVALUATE,
        ["['horse'] (test)", "only greyscale", "--drop-grey"],
        both(data_copy(all_grey), edit_config(lambda c: c["train"].update(drop_grey=True))),
        id="data-drop-grey-leaves-nothing-evaluate",
    ),
    *[
        pytest.param(
            DATA_COMMANDS[cmd][0],
            ["['horse']", "holds no images", "choose other classes"],
            data_copy(no_horses),
            id=f"data-no-images-of-the-class-{cmd}",
        )
        for cmd in DATA_COMMANDS
    ],
    # -- training arguments: train ... --------------------------------------------------------------------
    pytest.param([*TRAIN, "--epochs", "0"], ["epochs must be a positive integer, got 0"], None, id="train-epochs-0"),
    pytest.param([*TRAIN, "--epochs", "-1"], ["epochs must be a positive integer, got -1"], None, id="train-epochs-negative"),
    pytest.param([*TRAIN, "--batch-size", "0"], ["batch_size must be a positive integer, got 0"], None, id="train-batch-size-0"),
    pytest.param(
        [*TRAIN, "--batch-size", "21"],
        ["batch_size 21 is larger than the 18 training images"],
        None,
        id="train-batch-size-above-data",
    ),
    pytest.param([*TRAIN, "--lr", "0"], ["lr must be a positive number, got 0.0"], None, id="train-lr-0"),
    pytest.param([*TRAIN, "--lr", "-1"], ["lr must be a positive number, got -1.0"], None, id="train-lr-negative"),
    pytest.param([*TRAIN, "--lr", "nan"], ["lr must be a positive number, got nan"], None, id="train-lr-nan"),
    pytest.param([*TRAIN, "--skips", "down1,up3"], ["unknown skip 'up3'", "down2, down1, grey"], None, id="train-skips-unknown"),
    pytest.param([*TRAIN, "--skips", "grey"], ["the cnn has no skip connections", "--arch unet"], None, id="train-skips-on-cnn"),
    pytest.param(
        [*TRAIN, "--objective", "regress", "--rebalance", "0.5"],
        ["a regression model has none", "drop --rebalance"],
        None,
        id="train-regress-rebalance",
    ),
    pytest.param(
        [*TRAIN, "--split-seed", "-2"],
        ["split_seed must be a non-negative integer, got -2"],
        None,
        id="train-split-seed-negative",
    ),
    pytest.param(
        [*EVALUATE, "--split", "holdout"],
        ["did not validate on a holdout", "--split test"],
        edit_config(lambda c: c["data"].update(val_split="test")),
        id="evaluate-holdout-of-a-test-split-run",
    ),
    pytest.param(
        [*TRAIN, "--out", "{run}", "--seed", "1"],
        ["{run}: already holds a run", "--resume", "--force"],
        None,
        id="train-out-holds-another-run",
    ),
    pytest.param(
        [*TRAIN, "--out", "{run}", "--seed", "1", "--resume"],
        ["{run}: cannot resume", "(seed)", "--force"],
        None,
        id="train-resume-with-other-settings",
    ),
    pytest.param(
        [*TRAIN, "--out", "{tmp}/notes.txt"],
        ["notes.txt: exists and is not a folder", "choose another --out"],
        file("notes.txt", b"mine\n"),
        id="train-out-is-a-file",
    ),
    pytest.param(
        [*TRAIN, "--out", "{tmp}/mine"],
        ["{tmp}/mine: folder is not empty", "choose an empty or new --out"],
        both(folder("mine"), lambda ctx: (ctx.tmp / "mine" / "notes.txt").write_text("mine\n")),
        id="train-out-is-a-non-run-folder",
    ),
    # -- resuming an exported run, users' own temp files, and what a refused checkpoint says --------------------
    pytest.param(
        [*TRAIN, "--out", "{run}", "--seed", "1", "--resume"],
        ["{run}", "--force"],
        lambda ctx: (ctx.run / "checkpoint.pt").unlink(),
        id="train-resume-exported-run-with-other-settings",
    ),
    pytest.param(
        RESUME,
        ["{run}: the run has no checkpoint.pt", "--force"],
        lambda ctx: (ctx.run / "checkpoint.pt").unlink(),
        id="train-resume-exported-run",
    ),
    pytest.param(
        [*TRAIN, "--out", "{tmp}/mine"],
        ["{tmp}/mine: folder is not empty"],
        both(folder("mine"), lambda ctx: (ctx.tmp / "mine" / ".draft.tmp").write_text("mine\n")),
        id="train-out-folder-holding-a-users-tmp-file",
    ),
    pytest.param(
        EVALUATE,
        ["{run}/weights.pt", "posix.system"],
        run_file("weights.pt", saved(lambda c: {"w": c.payload})),
        id="run-hostile-weights-message-names-the-global",
    ),
]


@pytest.fixture
def ctx(trained, fake_cifar, tmp_path, hostile, monkeypatch) -> Ctx:
    img = tmp_path / "photo.png"
    Image.new("L", (20, 12), 128).save(img)
    shutil.copytree(trained, tmp_path / "run")
    payload, marker = hostile
    return Ctx(tmp_path, tmp_path / "run", fake_cifar, img, trained, fake_cifar, payload, marker, monkeypatch)


def _prepare(ctx: Ctx, args: list[str], needles: list[str], setup: Setup | None) -> tuple[list[str], list[str]]:
    if setup:
        setup(ctx)
    return [ctx.format(a) for a in args], [ctx.format(n) for n in needles]


@pytest.mark.parametrize("args, needles, setup", CASES)
def test_bad_input_is_one_clear_line_and_writes_nothing(ctx, capsys, args, needles, setup):
    args, needles = _prepare(ctx, args, needles, setup)
    before = tree(ctx.tmp)
    code = main(args)
    out, err = capsys.readouterr()
    assert_one_error(code, out, err, needles)
    assert tree(ctx.tmp) == before, "the failed command changed files"
    assert not ctx.marker.exists(), "a hostile pickle ran"


SUBPROCESS_CASES = ["image-truncated-png", "run-hostile-weights-evaluate", "data-missing-train", "palette-hostile-pickle-train"]


@pytest.mark.parametrize("args, needles, setup", [c for c in CASES if c.id in SUBPROCESS_CASES])
def test_bad_input_in_a_real_process(ctx, args, needles, setup):
    """The same, as a user runs it: `python -m colorlib.cli` (warnings or stray output would show here)."""
    args, needles = _prepare(ctx, args, needles, setup)
    before = tree(ctx.tmp)
    result = subprocess.run([sys.executable, "-m", "colorlib.cli", *args], capture_output=True, text=True, timeout=300)
    assert_one_error(result.returncode, result.stdout, result.stderr, needles)
    assert tree(ctx.tmp) == before
    assert not ctx.marker.exists()


def test_hostile_payloads_are_live(ctx):
    """The payloads above really run code when loaded naively: the refusals are not vacuous."""
    for load in (
        lambda: pickle.loads(pickle.dumps({"data": ctx.payload})),
        lambda: torch.load(io.BytesIO(saved(lambda c: {"w": c.payload})(ctx)), weights_only=False),
        lambda: (npy("evil.npy", objects(ctx.payload))(ctx), np.load(ctx.tmp / "evil.npy", allow_pickle=True)),
    ):
        load()
        assert ctx.marker.exists()
        ctx.marker.unlink()


# -- the --max-pixels override ---------------------------------------------------------------------------


def test_max_pixels_option_lets_a_large_image_through(ctx, capsys, monkeypatch):
    monkeypatch.setattr(colorize_module, "MAX_PIXELS", 5000)
    Image.new("L", (100, 100), 90).save(ctx.tmp / "big.png")
    out = ctx.tmp / "big_colour.png"
    assert main(["colorize", str(ctx.run), str(ctx.tmp / "big.png"), "-o", str(out)]) == 1
    assert main(["colorize", str(ctx.run), str(ctx.tmp / "big.png"), "-o", str(out), "--max-pixels", "10000"]) == 0
    assert Image.open(out).size == (100, 100)
    assert capsys.readouterr().out.strip() == f"wrote {out}"


def test_max_pixels_option_also_raises_the_decompression_bomb_limit(ctx, capsys, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    Image.new("L", (200, 200), 90).save(ctx.tmp / "big.png")
    out = ctx.tmp / "big_colour.png"
    assert main(["colorize", str(ctx.run), str(ctx.tmp / "big.png"), "-o", str(out), "--max-pixels", "50000"]) == 0
    assert Image.MAX_IMAGE_PIXELS == 1000, "the command must restore Pillow's limit"
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    assert Image.open(out).size == (200, 200)


# -- a read-only output folder ---------------------------------------------------------------------------


PROBE = """
import pathlib, sys
try:
    import colorlib
except ImportError:
    sys.exit(4)
if pathlib.Path(colorlib.__file__).resolve().parent != pathlib.Path(sys.argv[2]):
    sys.exit(5)  # some other colorlib: the tests would not test this checkout
try:
    (pathlib.Path(sys.argv[1]) / "x").touch()
except PermissionError:
    sys.exit(0)
sys.exit(3)
"""


PACKAGE = Path(colorlib.__file__).resolve().parent  # the checkout under test


@functools.cache
def _unprivileged() -> tuple[str, ...] | None:
    """A command prefix under which Python imports colorlib from this checkout but cannot write a
    root-owned 0o555 folder (None: no way).

    Not root: nothing (chmod is enough). Root ignores permissions, so the child drops to nobody
    (65534); the interpreter and the checkout may live in a 0o700 folder (root's home, mktemp -d),
    so the second try keeps only the capability to read and search (CAP_DAC_READ_SEARCH), never to write.
    """
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    nobody = (setpriv, "--reuid=65534", "--regid=65534", "--clear-groups")
    read_search = ("--inh-caps=-all,+dac_read_search", "--ambient-caps=-all,+dac_read_search")
    base = Path(tempfile.mkdtemp(prefix="colorlib-probe-"))
    try:
        base.chmod(0o755)
        (base / "ro").mkdir(mode=0o555)
        for prefix in (nobody, nobody + read_search):
            cmd = [*prefix, sys.executable, "-c", PROBE, str(base / "ro"), str(PACKAGE)]
            if subprocess.run(cmd, capture_output=True, env=_child_env(base), cwd=base, timeout=60).returncode == 0:
                return prefix
        return None
    finally:
        shutil.rmtree(base)


def _child_env(home: Path) -> dict[str, str]:
    """An environment a user without a home of its own can import torch and matplotlib in."""
    return {
        **os.environ,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home),
        "MPLCONFIGDIR": str(home),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@pytest.fixture
def read_only(fake_cifar, trained):
    """(prefix, base): a world-readable temp folder holding copies of the data and the run, and `out` at 0o555."""
    prefix = _unprivileged()
    if prefix is None:
        pytest.skip(
            "running as root, and no unprivileged child (setpriv, with or without CAP_DAC_READ_SEARCH) can "
            f"import colorlib from {PACKAGE}: cannot make a folder read-only to it"
        )
    base = Path(tempfile.mkdtemp(prefix="colorlib-ro-"))
    shutil.copytree(fake_cifar, base / "data")
    shutil.copytree(trained, base / "run")
    Image.new("L", (20, 12), 128).save(base / "photo.png")
    for p in [base, *base.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    (base / "out").mkdir(mode=0o555)
    (base / "out").chmod(0o555)
    yield prefix, base
    (base / "out").chmod(0o755)
    shutil.rmtree(base)


@pytest.mark.parametrize(
    "args, needles",
    [
        (
            [
                "train",
                "--arch",
                "cnn",
                "--nf",
                "8",
                "--palette",
                "horse16",
                "--epochs",
                "1",
                "--batch-size",
                "5",
                "--device",
                "cpu",
                "--quiet",
                "--data",
                "{base}/data",
                "--out",
                "{base}/out",
            ],
            ["{base}/out: cannot write the run there", "Permission denied", "choose another --out"],
        ),
        (
            ["colorize", "{base}/run", "{base}/photo.png", "-o", "{base}/out/photo.png"],
            ["{base}/out/photo.png: cannot write", "Permission denied", "choose another -o"],
        ),
    ],
    ids=["train", "colorize"],
)
def test_read_only_output_folder(read_only, args, needles):
    prefix, base = read_only
    before = tree(base)
    cmd = [*prefix, sys.executable, "-m", "colorlib.cli", *(a.format(base=base) for a in args)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=_child_env(base / "data"), cwd=base, timeout=300)
    assert_one_error(result.returncode, result.stdout, result.stderr, [n.format(base=base) for n in needles])
    assert tree(base) == before


API_TRAIN = """
import sys
from colorlib.errors import RunError
from colorlib.train import TrainConfig, train
try:
    train(TrainConfig(arch="cnn", palette="horse16", epochs=1, batch_size=5, nf=8, device="cpu"), sys.argv[1],
          root=sys.argv[2], progress=False)
except RunError as e:
    print(e)
    sys.exit(0)
sys.exit(3)
"""


def test_api_refuses_a_read_only_output_folder(read_only):
    """colorlib.train.train itself: in a subprocess, since as root only a child can drop privileges."""
    prefix, base = read_only
    before = tree(base)
    cmd = [*prefix, sys.executable, "-c", API_TRAIN, str(base / "out"), str(base / "data")]
    result = subprocess.run(cmd, capture_output=True, text=True, env=_child_env(base / "data"), cwd=base, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{base / 'out'}: cannot write the run there (Permission denied)" in result.stdout
    assert tree(base) == before

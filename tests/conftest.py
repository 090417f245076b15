"""Shared fixtures: a tiny CIFAR-format dataset written by the tests, and the real data when present."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from colorlib.data import BATCHES_DIR, CLASSES, TEST_BATCHES, TRAIN_BATCHES

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def smooth_images(n: int, seed: int) -> np.ndarray:
    """n colourful 32×32 uint8 images: random smooth gradients, so palettes and models have structure."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:32, 0:32] / 31.0
    base = rng.uniform(0, 255, (n, 1, 1, 3))
    gx, gy = rng.uniform(-120, 120, (2, n, 1, 1, 3))
    img = base + gx * xx[None, :, :, None] + gy * yy[None, :, :, None]
    return np.clip(img, 0, 255).astype(np.uint8)


def write_batch(path: Path, images: np.ndarray, labels: list[int], bytes_keys: bool) -> None:
    data = images.transpose(0, 3, 1, 2).reshape(len(images), -1)  # R, G, B planes as in CIFAR-10
    batch = {"batch_label": "fake", "labels": labels, "data": data, "filenames": [f"{i}.png" for i in labels]}
    if bytes_keys:  # the original archive is a Python 2 pickle: bytes keys
        batch = {k.encode(): v for k, v in batch.items()}
    path.write_bytes(pickle.dumps(batch, protocol=2))


@pytest.fixture(scope="session")
def fake_cifar(tmp_path_factory) -> Path:
    """A CIFAR-10-layout folder: 4 images per class per train batch (200 train), 6 per class test (60)."""
    root = tmp_path_factory.mktemp("cifar")
    folder = root / BATCHES_DIR
    folder.mkdir()
    for i, name in enumerate(TRAIN_BATCHES + TEST_BATCHES):
        per_class = 6 if name in TEST_BATCHES else 4
        labels = [c for c in range(len(CLASSES)) for _ in range(per_class)]
        images = smooth_images(len(labels), seed=i)
        if i == 0:
            images[0] = images[0, :, :, :1]  # one image that is already greyscale (R=G=B)
        write_batch(folder / name, images, labels, bytes_keys=i % 2 == 0)
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list(CLASSES)}))
    return root


@pytest.fixture(scope="session")
def cifar_mirror(fake_cifar, tmp_path_factory):
    """(url, md5): the fake dataset as a cifar-10-python.tar.gz served over 127.0.0.1, like the real archive."""
    import hashlib
    import http.server
    import tarfile
    import threading

    folder = tmp_path_factory.mktemp("mirror")
    archive = folder / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(fake_cifar / BATCHES_DIR, arcname=BATCHES_DIR)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/{archive.name}", hashlib.md5(archive.read_bytes()).hexdigest()
    server.shutdown()


class HostilePayload:
    """Unpickling this runs a shell command that creates `target`: a stand-in for malicious code."""

    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


@pytest.fixture
def hostile(tmp_path):
    """(payload, target): a pickle payload and the file it would create if it ever ran."""
    target = tmp_path / "pwned"
    return HostilePayload(target), target


def _real_root() -> Path | None:
    for candidate in (os.environ.get("COLORLIB_DATA"), SHARED / "cifar10"):
        if candidate and (Path(candidate) / BATCHES_DIR / "test_batch").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def real_cifar() -> Path:
    root = _real_root()
    if root is None:
        pytest.skip("CIFAR-10 not found (set COLORLIB_DATA to the folder holding cifar-10-batches-py/)")
    return root


@pytest.fixture(scope="session")
def seed_reference() -> Path:
    path = SHARED / "reference" / "seed"
    if not (path / "checkpoints").is_dir():
        pytest.skip("the original project's reference files (../shared/reference/seed) are absent")
    return path


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for the browser tests (test_browser.py, test_site.py), one per module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from test_browser import CHROMIUM, FLAGS

    with sync_api.sync_playwright() as p:
        # Playwright gives every launch a fresh, empty profile (user data dir) of its own.
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()

import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from colorlib.data import BATCHES_DIR, CLASSES, ColorData, class_indices, find_root, load_cifar10, read_batch, to_grey
from colorlib.errors import DataError
from colorlib.palette import Palette


def test_to_grey_equals_pillow_L():
    rgb = np.random.default_rng(0).integers(0, 256, (64, 48, 3), dtype=np.uint8)
    rgb[0, :3] = [[255, 255, 255], [0, 0, 0], [255, 0, 0]]
    expected = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float32) / 255
    grey = to_grey(rgb)
    assert grey.dtype == np.float32 and grey.shape == (64, 48)
    np.testing.assert_array_equal(grey, expected)
    assert grey[0, 0] == 1.0 and grey[0, 1] == 0.0


def test_to_grey_of_grey_is_identity():
    levels = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(to_grey(np.stack([levels] * 3, -1)), levels / np.float32(255))


def test_load_by_name_index_and_split(fake_cifar):
    horses = load_cifar10("horse", "train", root=fake_cifar)
    assert len(horses) == 5 * 4 and set(horses.labels) == {CLASSES.index("horse")}
    assert horses.images.shape == (20, 32, 32, 3) and horses.images.dtype == np.uint8
    assert horses.classes == ["horse"]
    both = load_cifar10(["cat", 7], "test", root=fake_cifar)
    assert len(both) == 12 and set(both.labels) == {3, 7}
    assert len(load_cifar10(None, "test", root=fake_cifar)) == 60
    assert len(load_cifar10("all", "test", root=fake_cifar)) == 60


def test_bytes_and_str_keys_give_the_same_layout(fake_cifar):
    # batch 1 is written with bytes keys, batch 2 with str keys: both must read as R, G, B planes
    b1 = read_batch(fake_cifar / BATCHES_DIR / "data_batch_1")
    b2 = read_batch(fake_cifar / BATCHES_DIR / "data_batch_2")
    assert set(b1) == set(b2) == {"batch_label", "labels", "data", "filenames"}
    images = load_cifar10("airplane", "train", root=fake_cifar).images
    raw = b1["data"][0].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(images[0], raw)


def test_drop_grey(fake_cifar):
    with_grey = load_cifar10("airplane", "train", root=fake_cifar)
    without = load_cifar10("airplane", "train", root=fake_cifar, drop_grey=True)
    assert len(without) == len(with_grey) - 1
    assert not any((im[..., 0] == im[..., 1]).all() and (im[..., 1] == im[..., 2]).all() for im in without.images)


def test_unknown_class_lists_the_valid_ones(fake_cifar):
    with pytest.raises(DataError, match="zebra.*airplane, automobile"):
        load_cifar10("zebra", root=fake_cifar)
    with pytest.raises(DataError, match="no classes"):
        class_indices([])
    with pytest.raises(DataError, match="unknown split"):
        load_cifar10("cat", "valid", root=fake_cifar)


def test_missing_data_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("COLORLIB_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="COLORLIB_DATA") as info:
        load_cifar10("cat")
    assert "--download" in str(info.value) and str(tmp_path / "nowhere") in str(info.value)


def test_env_var_and_explicit_root(fake_cifar, monkeypatch):
    monkeypatch.setenv("COLORLIB_DATA", str(fake_cifar))
    assert find_root() == fake_cifar
    assert len(load_cifar10("cat", "test")) == 6


def test_default_root_is_a_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("COLORLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(DataError, match=str(tmp_path / "colorlib")):
        find_root()


def _copy_dataset(src, dst):
    (dst / BATCHES_DIR).mkdir(parents=True)
    for f in (src / BATCHES_DIR).iterdir():
        (dst / BATCHES_DIR / f.name).write_bytes(f.read_bytes())


def test_hostile_batch_is_refused_without_running_code(fake_cifar, tmp_path, hostile):
    root = tmp_path / "evil"
    _copy_dataset(fake_cifar, root)
    payload, target = hostile
    (root / BATCHES_DIR / "test_batch").write_bytes(pickle.dumps({"data": payload}))
    with pytest.raises(DataError, match="refusing to load global"):
        load_cifar10("cat", "test", root=root)
    assert not target.exists()


@pytest.mark.parametrize("damage", ["truncate", "empty", "not-a-dict", "bad-shape", "bad-labels"])
def test_corrupt_batches_give_clear_errors(fake_cifar, tmp_path, damage):
    root = tmp_path / damage
    _copy_dataset(fake_cifar, root)
    path = root / BATCHES_DIR / "test_batch"
    good = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "not-a-dict":
        path.write_bytes(pickle.dumps([1, 2, 3]))
    elif damage == "bad-shape":
        path.write_bytes(pickle.dumps({"data": np.zeros((2, 10), np.uint8), "labels": [0, 1]}))
    else:
        path.write_bytes(pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 12]}))
    with pytest.raises(DataError, match="test_batch") as info:
        load_cifar10("cat", "test", root=root)
    assert "re-download" in str(info.value)


def test_color_data_tensors(fake_cifar):
    images = load_cifar10("horse", "test", root=fake_cifar).images
    palette = Palette.fit(images, 8)
    data = ColorData.from_images(images, palette)
    assert data.grey.shape == (6, 1, 32, 32) and data.grey.dtype == torch.float32
    assert data.targets.shape == (6, 32, 32) and data.targets.dtype == torch.uint8
    np.testing.assert_array_equal(data.grey[:, 0].numpy(), to_grey(images))
    np.testing.assert_array_equal(data.targets.numpy(), palette.quantize(images))


def test_real_cifar10_sizes(real_cifar):
    train = load_cifar10("horse", "train", root=real_cifar)
    test = load_cifar10("horse", "test", root=real_cifar)
    assert (len(train), len(test)) == (5000, 1000)
    everything = load_cifar10(None, "test", root=real_cifar)
    assert len(everything) == 10000 and np.bincount(everything.labels).tolist() == [1000] * 10
    assert len(load_cifar10(None, "test", root=real_cifar, drop_grey=True)) == 10000 - 106


def test_download_uses_torchvisions_md5_checked_download(fake_cifar, tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv_utils
    from torchvision.datasets import CIFAR10

    calls = []

    def fake_download(url, download_root, filename=None, md5=None, **kwargs):
        calls.append((url, filename, md5))
        _copy_dataset(fake_cifar, tmp_path / "fetched")

    monkeypatch.setattr(tv_utils, "download_and_extract_archive", fake_download)
    assert find_root(tmp_path / "fetched", download=True) == tmp_path / "fetched"
    assert calls == [(CIFAR10.url, CIFAR10.filename, CIFAR10.tgz_md5)]
    assert len(load_cifar10("cat", "test", root=tmp_path / "fetched")) == 6

    def failing_download(*args, **kwargs):
        raise RuntimeError("File not found or corrupted.")

    monkeypatch.setattr(tv_utils, "download_and_extract_archive", failing_download)
    with pytest.raises(DataError, match="downloading CIFAR-10 into .* failed.*corrupted"):
        find_root(tmp_path / "elsewhere", download=True)


def test_with_luma_keeps_the_sources_grey_and_the_colours_hue():
    from colorlib.data import grey_rgb, to_grey, with_luma

    rng = np.random.default_rng(0)
    source = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    colour = rng.integers(60, 200, (3, 8, 8, 3), dtype=np.uint8)
    out = with_luma(colour, source)
    assert out.shape == source.shape and out.dtype == np.uint8
    # the lightness is the source's (YCbCr rounding moves it by a level; more only outside the RGB cube)
    luma_error = np.abs(to_grey(out) - to_grey(source)) * 255
    assert np.median(luma_error) <= 1 and np.percentile(luma_error, 90) <= 3 and luma_error.mean() < 1.5
    # grey colours carry no hue: the result is the source's own grey picture
    np.testing.assert_allclose(with_luma(grey_rgb(colour), source).astype(int), grey_rgb(source).astype(int), atol=1)
    # same lightness in, the colour comes back (up to YCbCr rounding)
    np.testing.assert_allclose(with_luma(colour, colour).astype(int), colour.astype(int), atol=3)
    with pytest.raises(DataError, match="one shape"):
        with_luma(colour[:2], source)

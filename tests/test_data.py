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
    for way in ("--data DIR", "root=DIR", "COLORLIB_CIFAR_URL", "COLORLIB_CIFAR_MD5"):  # shell, notebook, a mirror
        assert way in str(info.value), way


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


def test_download_from_a_local_mirror_verifies_and_unpacks(cifar_mirror, tmp_path, monkeypatch, capsys):
    url, md5 = cifar_mirror
    monkeypatch.setenv("COLORLIB_CIFAR_URL", url)
    monkeypatch.setenv("COLORLIB_CIFAR_MD5", md5)
    root = tmp_path / "cache"
    assert find_root(root, download=True) == root
    assert sorted(p.name for p in root.iterdir()) == [BATCHES_DIR]  # no archive or half-unpacked folder left
    assert len(load_cifar10("cat", "test", root=root)) == 6
    err = capsys.readouterr().err
    assert f"downloaded CIFAR-10 from {url} into {root / BATCHES_DIR} (md5 checked)" in err


def test_a_damaged_download_names_the_md5_and_the_manual_route(cifar_mirror, tmp_path, monkeypatch):
    url, md5 = cifar_mirror
    monkeypatch.setenv("COLORLIB_CIFAR_URL", url)
    monkeypatch.setenv("COLORLIB_CIFAR_MD5", "0" * 32)
    root = tmp_path / "cache"
    with pytest.raises(DataError) as info:
        find_root(root, download=True)
    message = str(info.value)
    assert f"the archive's md5 is {md5}, expected {'0' * 32}" in message
    assert f"Instead, download {url} yourself (md5 {'0' * 32})" in message and "COLORLIB_DATA" in message
    assert "--download" not in message  # it was tried: do not suggest it again
    assert not root.exists()  # nothing half written: not even the folder it made


def test_an_offline_download_says_why_and_gives_url_md5_and_unpacking(tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nothing listens on: the connection is refused, as offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("COLORLIB_CIFAR_URL", f"http://127.0.0.1:{port}/cifar-10-python.tar.gz")
    monkeypatch.delenv("COLORLIB_CIFAR_MD5", raising=False)
    with pytest.raises(DataError) as info:
        find_root(tmp_path / "cache", download=True)
    message = str(info.value)
    assert message.startswith(f"downloading CIFAR-10 from http://127.0.0.1:{port}/cifar-10-python.tar.gz into")
    assert "refused" in message.lower() and "md5 c58f30108f718f92721af3b95e74349a" in message
    assert "tar -xzf cifar-10-python.tar.gz" in message and "COLORLIB_DATA=DIR" in message and "root=DIR" in message
    assert "--download" not in message and "not found" not in message


def test_holdout_is_seeded_disjoint_per_class_and_independent_of_the_selection(fake_cifar):
    from colorlib.data import holdout_mask, split_holdout

    both = load_cifar10(["cat", "horse"], "train", root=fake_cifar)
    train, held = split_holdout(both)
    assert len(held) == 4 and len(train) == 36 and held.split == "holdout"  # 10% of 20 per class
    assert list(np.bincount(held.labels, minlength=10)[[3, 7]]) == [2, 2]
    flat = lambda x: {im.tobytes() for im in x.images}  # noqa: E731
    assert not flat(train) & flat(held) and flat(train) | flat(held) == flat(both)
    horses = load_cifar10("horse", "train", root=fake_cifar)
    assert flat(split_holdout(horses)[1]) == flat(held.take(held.labels == 7))  # the same horses held out
    again = split_holdout(load_cifar10(["cat", "horse"], "train", root=fake_cifar))[1]
    np.testing.assert_array_equal(again.images, held.images)
    assert not np.array_equal(holdout_mask(both.labels, seed=1), holdout_mask(both.labels, seed=0))
    with pytest.raises(DataError, match="from the train split"):
        split_holdout(load_cifar10("cat", "test", root=fake_cifar))


def test_with_luma_keeps_the_sources_luma_exactly_and_the_colours_chroma():
    from colorlib.data import grey_rgb, luma, with_luma

    rng = np.random.default_rng(0)
    source = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    colour = rng.integers(60, 200, (3, 8, 8, 3), dtype=np.uint8)
    out = with_luma(colour, source)
    assert out.shape == source.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(luma(out), luma(source))
    pillow = np.asarray(Image.fromarray(source.reshape(-1, 8, 3)).convert("L")).reshape(3, 8, 8)
    np.testing.assert_array_equal(luma(source), pillow)
    # grey colours carry no chroma: the result is the source's own grey picture
    np.testing.assert_array_equal(with_luma(grey_rgb(colour), source), grey_rgb(source))
    # the same lightness in: the colour comes back unchanged
    everything = rng.integers(0, 256, (200_000, 3), dtype=np.uint8)
    np.testing.assert_array_equal(with_luma(everything, everything), everything)
    # pure red under a luma of 250 does not exist: its chroma shrinks toward grey, keeping the hue
    red = with_luma(np.array([[255, 0, 0]], np.uint8), np.full((1, 3), 250, np.uint8))
    np.testing.assert_array_equal(red, [[255, 248, 248]])
    with pytest.raises(DataError, match="one shape"):
        with_luma(colour[:2], source)


def test_with_luma_property_every_luma_level_under_every_shipped_palette_colour():
    from colorlib.data import luma, with_luma
    from colorlib.palette import load_palette, shipped_palettes

    colours = np.unique(np.concatenate([load_palette(n).colors for n in shipped_palettes()]), axis=0)
    c = np.repeat(colours, 256, axis=0)
    y = np.tile(np.arange(256), len(colours)).astype(np.uint8)
    out = with_luma(c, np.repeat(y[:, None], 3, axis=1))
    np.testing.assert_array_equal(luma(out), y)  # exact, always
    w = np.array([19595, 38470, 7471]) / 65536
    chroma = c - (c @ w)[:, None]  # each colour's offset from its own grey
    got = out - y[:, None].astype(float)
    fits = ((y[:, None] + chroma >= 0) & (y[:, None] + chroma <= 255)).all(axis=1)
    assert 0.2 < fits.mean() < 1  # both cases occur
    # where the colour exists at that lightness its chroma is kept, up to rounding
    assert np.abs(got[fits] - chroma[fits]).max() <= 1
    # elsewhere: the same hue (chroma scaled by one s in [0, 1], up to rounding) at the edge of the gamut
    s = (got[~fits] * chroma[~fits]).sum(1) / (chroma[~fits] ** 2).sum(1)
    assert ((s > -0.01) & (s < 1.05)).all()  # never more chroma than the colour had (up to rounding)
    assert np.abs(got[~fits] - s[:, None] * chroma[~fits]).max() <= 1
    edge = np.minimum(out[~fits].min(1), 255 - out[~fits].max(1))
    assert edge.max() <= 1

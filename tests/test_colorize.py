import numpy as np
import pytest
from PIL import Image

from colorlib.colorize import colorize, read_image
from colorlib.data import with_luma
from colorlib.errors import ImageError, PaletteError
from colorlib.models import build
from colorlib.palette import load_palette
from colorlib.runs import Run


@pytest.fixture(scope="module")
def run() -> Run:
    palette = load_palette("horse16")
    return Run(build("unet", 16, nf=8).eval(), palette, config={}, history=[])


@pytest.mark.parametrize("size", [(1, 1), (1, 7), (3, 3), (5, 9), (31, 33), (64, 48)])
def test_output_has_the_input_size(run, size):
    w, h = size
    rgb = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    out = colorize(run, rgb, scale="native")
    assert out.shape == (h, w, 3) and out.dtype == np.uint8
    # the original way: every output pixel is a palette colour
    assert (run.palette.decode(run.palette.quantize(out)) == out).all()


def test_probabilities(run):
    out, probs = colorize(run, np.zeros((10, 6), np.uint8), return_probs=True, scale="native")
    assert probs.shape == (10, 6, 16)
    np.testing.assert_allclose(probs.sum(-1), 1, rtol=1e-5)
    np.testing.assert_array_equal(run.palette.decode(probs.argmax(-1)), out)


def test_colour_is_ignored_only_luma_matters(run):
    rgb = np.random.default_rng(1).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    grey = np.asarray(Image.fromarray(rgb).convert("L"))
    np.testing.assert_array_equal(colorize(run, rgb), colorize(run, grey))
    np.testing.assert_array_equal(colorize(run, Image.fromarray(rgb)), colorize(run, grey))


MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "YCbCr", "I", "I;16", "F"]


@pytest.mark.parametrize("mode", MODES)
def test_every_pillow_mode(run, tmp_path, mode):
    base = Image.fromarray(np.random.default_rng(2).integers(0, 256, (13, 17, 3), dtype=np.uint8))
    img = base.convert(mode) if mode not in ("I", "I;16", "F") else base.convert("L").convert(mode)
    out = colorize(run, img)
    assert out.shape == (13, 17, 3)
    if mode in ("L", "I", "F", "I;16"):
        # a grey image in any bit depth gives the same picture as its 8-bit version
        np.testing.assert_array_equal(out, colorize(run, base.convert("L")))


def test_sixteen_bit_values_are_scaled(run):
    levels = (np.arange(0, 65536, 257, dtype=np.uint16)[:256]).reshape(16, 16)
    rgb = read_image(Image.fromarray(levels))  # uint16 → mode I;16
    np.testing.assert_array_equal(rgb[..., 0], np.arange(256).reshape(16, 16))


def test_transparency_is_composited_over_white():
    rgba = np.zeros((2, 2, 4), np.uint8)  # fully transparent black
    assert (read_image(Image.fromarray(rgba, "RGBA")) == 255).all()
    assert (read_image(rgba) == 255).all()  # an RGBA array is read as the same picture as an RGBA image
    half = np.full((1, 1, 4), [0, 0, 0, 128], np.uint8)
    assert read_image(half).tolist() == read_image(Image.fromarray(half, "RGBA")).tolist() == [[[127, 127, 127]]]


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (40, 20), (200, 10, 10))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    img.save(tmp_path / "rotated.jpg", exif=exif)
    assert read_image(tmp_path / "rotated.jpg").shape == (40, 20, 3)


def test_file_errors(run, tmp_path):
    with pytest.raises(ImageError, match="no such image"):
        colorize(run, tmp_path / "missing.png")
    with pytest.raises(ImageError, match="folder"):
        colorize(run, tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="empty.png"):
        colorize(run, tmp_path / "empty.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ImageError, match="cannot read"):
        colorize(run, tmp_path / "text.png")
    Image.new("RGB", (64, 64), (1, 2, 3)).save(tmp_path / "ok.png")
    data = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="cut.png"):
        colorize(run, tmp_path / "cut.png")


def test_size_limit(run):
    with pytest.raises(ImageError, match="max_pixels"):
        colorize(run, np.zeros((100, 100), np.uint8), max_pixels=5000)


def test_palette_must_fit_the_model(run):
    with pytest.raises(ImageError, match="16"):
        colorize(run.model, np.zeros((4, 4), np.uint8), palette=load_palette("horse32"))


def test_animated_gif_uses_the_first_frame_and_says_so(run, tmp_path):
    frames = [Image.new("L", (9, 7), v) for v in (0, 255)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    with pytest.warns(UserWarning, match="2 frames"):
        rgb = read_image(tmp_path / "anim.gif")
    assert rgb.shape == (7, 9, 3) and (rgb == 0).all()


def test_decompression_bomb_is_refused_clearly(tmp_path, monkeypatch):
    Image.new("L", (200, 200)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 40,000 px is now "too many"
    with pytest.raises(ImageError, match="decompression bomb.*MAX_IMAGE_PIXELS"):
        read_image(tmp_path / "big.png")


def test_annealed_mean_decoding(run):
    rgb = np.random.default_rng(5).integers(0, 256, (12, 20, 3), dtype=np.uint8)
    argmax, probs = colorize(run, rgb, return_probs=True, scale="native")
    mean = colorize(run, rgb, decoding="annealed-mean", temperature=1.0, scale="native")
    assert mean.shape == argmax.shape and mean.dtype == np.uint8
    expected = np.clip(np.rint(probs @ run.palette.colors.astype(np.float32)), 0, 255)  # T = 1: the plain mean
    np.testing.assert_allclose(mean.astype(int), expected.astype(int), atol=1)
    cold = colorize(run, rgb, decoding="annealed-mean", temperature=1e-3, scale="native")
    top2 = np.sort(np.log(probs), axis=-1)[..., -2:]
    clear = top2[..., 1] - top2[..., 0] > 0.02  # where the best colour leads, T → 0 gives argmax exactly
    assert clear.mean() > 0.5
    np.testing.assert_array_equal(cold[clear], argmax[clear])
    with pytest.raises(PaletteError, match="unknown decoding"):
        colorize(run, rgb, decoding="median")


def test_keep_luma_puts_back_the_inputs_lightness(run):
    from colorlib.data import to_grey

    rgb = np.random.default_rng(6).integers(0, 256, (9, 13, 3), dtype=np.uint8)
    plain = colorize(run, rgb, scale="native")
    kept = colorize(run, rgb, keep_luma=True, scale="native")
    assert kept.shape == rgb.shape
    error = lambda out: np.abs(to_grey(out) - to_grey(rgb)).mean() * 255  # noqa: E731
    assert error(kept) == 0 < 1.5 < error(plain)  # exactly the input's luma


def test_keep_luma_false_is_honoured_at_the_working_scale(run):
    from colorlib.data import luma

    rgb = np.random.default_rng(9).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    kept, plain = colorize(run, rgb, scale=48), colorize(run, rgb, scale=48, keep_luma=False)
    assert (luma(kept) == luma(rgb)).all()
    assert np.abs(luma(plain).astype(int) - luma(rgb)).mean() > 5  # the network's own, upsampled lightness
    np.testing.assert_array_equal(with_luma(plain, rgb), kept)  # the same colour, only the lightness differs


def test_working_size():
    from colorlib.colorize import WORKING_SIDE, working_size

    assert working_size(480, 640, "auto") == (WORKING_SIDE, round(640 * WORKING_SIDE / 480))
    assert working_size(640, 480, 32) == (43, 32) and working_size(480, 640, "native") == (480, 640)
    assert working_size(30, 40, 64) == (30, 40)  # already small: its own size
    for bad in ("big", 3, -8, 2.5, True):
        with pytest.raises(ImageError, match="scale must be"):
            working_size(10, 10, bad)


def test_the_network_sees_the_photo_at_the_working_scale_and_the_colour_is_smooth(run):
    from colorlib.data import luma

    seen = []
    hook = run.model.register_forward_pre_hook(lambda module, args: seen.append(tuple(args[0].shape)))
    try:
        rgb = np.random.default_rng(7).integers(0, 256, (200, 300, 3), dtype=np.uint8)
        out = colorize(run, rgb, scale=48)
        native = colorize(run, rgb, scale="native")
    finally:
        hook.remove()
    assert seen == [(1, 1, 48, 72), (1, 1, 200, 300)]  # 48 × 72 is already a multiple of 4: no padding
    assert out.shape == rgb.shape and (luma(out) == luma(rgb)).all()
    # no palette blobs at full size: the upsampled colour takes many more values than the K palette colours
    assert len(np.unique(out.reshape(-1, 3), axis=0)) > 10 * run.palette.num_colors
    assert len(np.unique(native.reshape(-1, 3), axis=0)) <= run.palette.num_colors
    probs = colorize(run, rgb, scale=48, return_probs=True)[1]
    assert probs.shape == (200, 300, 16)
    np.testing.assert_allclose(probs.sum(-1), 1, rtol=1e-4)


def test_default_run_and_run_names(run, monkeypatch, tmp_path):
    import importlib

    from colorlib.errors import RunError
    from colorlib.runs import load_run

    shipped = importlib.import_module("colorlib.pretrained")  # the module (colorlib.pretrained is its function)
    rgb = np.random.default_rng(8).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    monkeypatch.setattr(shipped, "DEFAULT_RUN", "unet_horse16")
    horse16 = load_run(shipped.FOLDER / "unet_horse16")
    np.testing.assert_array_equal(colorize(rgb), colorize(horse16, rgb))  # no run named: the default
    np.testing.assert_array_equal(colorize("unet_horse16", rgb), colorize(horse16, rgb))  # a shipped name
    np.testing.assert_array_equal(colorize(shipped.FOLDER / "unet_horse16", rgb), colorize(horse16, rgb))  # a folder
    with pytest.raises(RunError, match="unet_zebra32: neither a run directory nor a shipped run; did you mean unet_"):
        colorize("unet_zebra32", rgb)
    with pytest.raises(ImageError, match="takes a Run"):
        colorize(42, rgb)


def test_the_default_colours_photographs_better_than_grey_and_in_colour():
    """Issue 14's goal on the shipped photographs: the default beats the grey picture on mean ΔE2000
    and keeps at least 40% of the originals' colourfulness, each photo at its own size and lightness."""
    from colorlib.data import grey_rgb, luma, photos
    from colorlib.metrics import colourfulness, per_image_scores

    ours, grey, share = [], [], []
    for photo in photos().values():
        out = colorize(photo)  # no run named: the default model and pipeline
        assert out.shape == photo.shape and (luma(out) == luma(photo)).all()
        ours.append(per_image_scores(out[None], photo[None])["delta_e"][0])
        grey.append(per_image_scores(grey_rgb(photo)[None], photo[None])["delta_e"][0])
        share.append(colourfulness(out) / colourfulness(photo))
    assert np.mean(ours) < np.mean(grey) and np.mean(share) >= 0.4, (np.mean(ours), np.mean(grey), np.mean(share))


def test_the_default_paints_the_rockets_night_sky_blue():
    """Not sepia: the sky above scikit-image's rocket comes out blue (more blue than red)."""
    from colorlib.data import photos

    sky = colorize(photos()["rocket"])[:120].astype(int)  # the top rows: sky only
    assert (sky[..., 2] - sky[..., 0]).mean() > 10


@pytest.mark.parametrize("scale, decoding", [("native", "argmax"), ("native", "annealed-mean"), ("auto", None), (48, "argmax")])
def test_a_chroma_model_keeps_the_picture_lightness_exactly(scale, decoding):
    import torch

    from colorlib.data import luma

    palette = load_palette("all-ab")
    torch.manual_seed(0)
    model = build("unet", palette.num_colors, nf=8, objective="chroma")
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)  # sides not multiples of 4
    coloured = colorize(model, picture, palette=palette, scale=scale, decoding=decoding, precision="fp32")
    assert coloured.shape == picture.shape
    np.testing.assert_array_equal(luma(coloured), luma(picture))
    assert (coloured.max(-1) != coloured.min(-1)).any()  # and it has colour


def test_the_temperature_chosen_with_a_run_is_its_default(run):
    """A run's config may carry the temperature chosen for it; colorize uses it unless told another."""
    import dataclasses

    rgb = np.random.default_rng(7).integers(0, 256, (12, 20, 3), dtype=np.uint8)
    how = dict(decoding="annealed-mean", scale="native")
    chosen = dataclasses.replace(run, config={"decoding": {"temperature": 1.0}})
    assert run.temperature == 0.38 and chosen.temperature == 1.0
    np.testing.assert_array_equal(colorize(chosen, rgb, **how), colorize(run, rgb, temperature=1.0, **how))
    np.testing.assert_array_equal(colorize(run, rgb, **how), colorize(run, rgb, temperature=0.38, **how))
    assert (colorize(chosen, rgb, **how) != colorize(run, rgb, **how)).any()  # the two temperatures differ here
    np.testing.assert_array_equal(colorize(chosen, rgb, temperature=0.38, **how), colorize(run, rgb, **how))

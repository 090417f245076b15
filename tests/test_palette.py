import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from colorlib.errors import PaletteError
from colorlib.palette import Palette, load_palette, shipped_palettes


def random_palette(k: int, seed: int, space: str = "rgb") -> Palette:
    rng = np.random.default_rng(seed)
    colors = np.unique(rng.integers(0, 256, (k * 2, 3), dtype=np.uint8), axis=0)
    return Palette(rng.permutation(colors)[:k], space)


@pytest.mark.parametrize("space", ["rgb", "lab"])
@pytest.mark.parametrize("k", [2, 16, 32, 256])
def test_quantize_equals_brute_force(space, k):
    palette = random_palette(k, seed=k)
    palette = Palette(palette.colors, space)
    pixels = np.random.default_rng(1).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    idx = palette.quantize(pixels)
    assert idx.shape == (40, 50) and idx.dtype == np.uint8
    np.testing.assert_array_equal(idx, palette.nearest_brute_force(pixels))
    # a second call goes through the cached table and must agree
    np.testing.assert_array_equal(palette.quantize(pixels[::-1]), idx[::-1])


@pytest.mark.parametrize("tie", [1e-6, 1e9])  # 1e9: every pixel takes the near-tie path (brute force on Lab)
def test_lab_quantize_equals_brute_force_on_many_colours(tie, monkeypatch):
    import colorlib.palette as palette_module

    monkeypatch.setattr(palette_module, "LAB_TIE", tie)
    palette_module._TABLES.clear()  # a fresh table: this call solves every colour itself
    palette = Palette(load_palette("all32-lab").colors, "lab")
    colours = np.random.default_rng(2).integers(0, 256, (60000, 3), dtype=np.uint8)
    np.testing.assert_array_equal(palette.quantize(colours), palette.nearest_brute_force(colours))


def test_ties_go_to_the_first_colour():
    # (0,0,0) and (2,0,0) are equally far from (1,0,0): brute force (argmin) picks index 0
    palette = Palette(np.array([[2, 0, 0], [0, 0, 0], [9, 9, 9]], np.uint8))
    assert palette.quantize(np.array([[1, 0, 0]], np.uint8)).tolist() == [0]
    palette = Palette(np.array([[0, 0, 0], [2, 0, 0], [9, 9, 9]], np.uint8))
    assert palette.quantize(np.array([[1, 0, 0]], np.uint8)).tolist() == [0]


@pytest.mark.parametrize("k", [32, 33, 256])  # 33 and 256: past float32's exact range, the float64 keys
def test_exact_ties_on_a_lattice_match_brute_force(k):
    # Colours two levels apart: every pixel between them is equally far from two to eight colours,
    # so the packed key's tie rule (first index) is tested in bulk; the corners test the largest keys.
    lattice = np.array([(r, g, b) for r in range(100, 116, 2) for g in range(100, 116, 2) for b in range(100, 108, 2)])
    colors = np.random.default_rng(k).permutation(lattice)[: k - 2]
    colors = np.vstack([colors, [[0, 0, 0], [255, 255, 255]]]).astype(np.uint8)
    palette = Palette(np.random.default_rng(0).permutation(colors))
    grid = np.array([(r, g, b) for r in range(99, 118) for g in range(99, 118) for b in range(99, 110)], np.uint8)
    corners = np.array([(r, g, b) for r in (0, 255) for g in (0, 255) for b in (0, 255)], np.uint8)
    pixels = np.vstack([grid, corners])
    np.testing.assert_array_equal(palette.quantize(pixels), palette.nearest_brute_force(pixels))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 40),
    st.integers(0, 2**32 - 1),
    st.lists(st.tuples(*[st.integers(0, 255)] * 3), min_size=1, max_size=64),
)
def test_property_quantize_is_exact_and_decode_idempotent(k, seed, pixels):
    palette = random_palette(k, seed)
    x = np.array(pixels, np.uint8)
    idx = palette.quantize(x)
    np.testing.assert_array_equal(idx, palette.nearest_brute_force(x))
    saturated = palette.decode(idx)
    np.testing.assert_array_equal(palette.decode(palette.quantize(saturated)), saturated)


def test_palette_colours_map_to_themselves():
    palette = random_palette(32, seed=3)
    np.testing.assert_array_equal(palette.quantize(palette.colors), np.arange(32))


def test_decode_rejects_out_of_range_indices():
    palette = random_palette(4, seed=0)
    with pytest.raises(PaletteError, match="out of range"):
        palette.decode(np.array([0, 4]))


def test_quantize_rejects_non_uint8():
    with pytest.raises(PaletteError, match="uint8"):
        random_palette(4, 0).quantize(np.zeros((2, 2, 3), np.float32))


def test_save_load_round_trip(tmp_path):
    palette = random_palette(16, seed=5)
    palette.save(tmp_path / "p.npy")
    assert Palette.load(tmp_path / "p.npy") == palette
    assert Palette.load(tmp_path / "p.npy", space="lab").space == "lab"
    assert not list(tmp_path.glob(".*tmp"))


def test_load_float_and_csc321_formats(tmp_path):
    colors = random_palette(8, seed=2).colors
    np.save(tmp_path / "float.npy", colors / 255.0)
    np.testing.assert_array_equal(Palette.load(tmp_path / "float.npy").colors, colors)
    codebook = np.empty(2, dtype=object)  # CSC321: item 0 is k-means centres over pixels / 256
    codebook[0], codebook[1] = colors / 256.0, 0.5
    np.save(tmp_path / "csc321.npy", codebook, allow_pickle=True)
    np.testing.assert_array_equal(Palette.load(tmp_path / "csc321.npy").colors, colors)


def test_reference_palettes_load(seed_reference):
    for k in (16, 24, 32):
        path = seed_reference / "palettes" / f"colour_kmeans{k}_cat7.npy"
        expected = np.load(path, allow_pickle=True, encoding="bytes")[0]
        palette = Palette.load(path)
        assert palette.num_colors == k
        np.testing.assert_allclose(palette.colors / 256.0, expected, atol=0.5 / 256 + 1e-9)


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((4, 4), np.uint8), "K×3"),
        (np.zeros(3, np.uint8), "K×3"),
        (np.array([[0, 0, 0]], np.uint8), "2 to 256"),
        (np.arange(257 * 3).reshape(257, 3) % 256, "2 to 256"),
        (np.array([[0.1, np.nan, 0.2], [0, 0, 0]]), "NaN"),
        (np.array([[0.1, np.inf, 0.2], [0, 0, 0]]), "NaN"),
        (np.array([[0.1, 1.5, 0.2], [0, 0, 0]]), r"\[0, 1\]"),
        (np.array([[0, 300, 0], [0, 0, 0]]), "0..255"),
        (np.array([[-1, 3, 0], [0, 0, 0]]), "0..255"),
        (np.array([[1, 2, 3], [4, 5, 6], [1, 2, 3]], np.uint8), "duplicate"),
        (np.array([["a", "b", "c"], ["d", "e", "f"]]), "numbers"),
    ],
)
def test_bad_palette_files_name_the_file(tmp_path, array, message):
    path = tmp_path / "bad.npy"
    np.save(path, array)
    with pytest.raises(PaletteError, match=message) as info:
        Palette.load(path)
    assert str(path) in str(info.value)


def test_missing_folder_and_garbage_files(tmp_path):
    with pytest.raises(PaletteError, match="no such palette file"):
        Palette.load(tmp_path / "missing.npy")
    with pytest.raises(PaletteError, match="is a folder"):
        Palette.load(tmp_path)
    (tmp_path / "text.npy").write_text("hello")
    with pytest.raises(PaletteError, match="not a readable"):
        Palette.load(tmp_path / "text.npy")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}, 2], dtype=object), allow_pickle=True)
    with pytest.raises(PaletteError):
        Palette.load(tmp_path / "objects.npy")


def test_hostile_pickle_palette_is_refused_without_running_it(tmp_path, hostile):
    payload, target = hostile
    arr = np.empty(1, dtype=object)
    arr[0] = payload
    np.save(tmp_path / "evil.npy", arr, allow_pickle=True)
    # sanity: numpy's own loader would run it
    assert b"system" in (tmp_path / "evil.npy").read_bytes()
    with pytest.raises(PaletteError, match="refusing"):
        Palette.load(tmp_path / "evil.npy")
    assert not target.exists()


def test_shipped_palettes():
    names = shipped_palettes()
    assert {"horse16", "horse32", "cat16", "cat32", "all16", "all32", "horse16-lab", "horse32-lab", "all32-lab"} <= set(names)
    for name in names:
        palette = load_palette(name)
        space = name.rpartition("-")[2] if "-" in name else "rgb"
        assert palette.space == space
        if name != "all-ab":  # the gamut's size is what the data holds: no number in its name
            assert palette.num_colors == int(name.split("-")[0].lstrip("abcdefghijklmnopqrstuvwxyz"))


def test_load_palette_unknown_name():
    with pytest.raises(PaletteError, match="horse32"):
        load_palette("zebra7")


@pytest.mark.parametrize("space", ["rgb", "lab"])
def test_fit_gives_k_distinct_colours_near_the_data(space):
    rng = np.random.default_rng(0)
    centres = np.array([[20, 30, 200], [220, 40, 40], [30, 200, 60], [240, 240, 240]])
    pixels = np.clip(centres[rng.integers(0, 4, 4000)] + rng.normal(0, 4, (4000, 3)), 0, 255).astype(np.uint8)
    palette = Palette.fit(pixels.reshape(40, 100, 3), 4, space=space)
    assert palette.num_colors == 4 and palette.space == space
    # every true centre has a palette colour within a few levels
    dist = np.abs(palette.colors[:, None, :].astype(int) - centres[None]).max(-1).min(0)
    assert (dist <= 6).all(), dist
    assert Palette.fit(pixels.reshape(40, 100, 3), 4, space=space) == palette  # seeded: repeatable


def test_fit_rejects_bad_k():
    with pytest.raises(PaletteError, match="2 to 256"):
        Palette.fit(np.zeros((2, 2, 3), np.uint8), 1)
    with pytest.raises(PaletteError, match="fewer than"):
        Palette.fit(np.zeros((2, 2, 3), np.uint8), 3)


@pytest.mark.parametrize("space", ["rgb", "lab"])
def test_annealed_mean_runs_from_argmax_to_the_plain_mean(space):
    palette = Palette(np.array([[0, 0, 0], [200, 40, 40], [40, 200, 40]], np.uint8), space)
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 5.0]])
    argmax = palette.decode_logits(logits)
    np.testing.assert_array_equal(argmax, palette.colors[[0, 2]])
    cold = palette.decode_logits(logits, "annealed-mean", 0.01)
    np.testing.assert_allclose(cold.astype(int), argmax.astype(int), atol=1)  # T → 0 is argmax
    warm = palette.decode_logits(logits, "annealed-mean", 1.0)
    p = torch.softmax(logits, -1).numpy()
    if space == "rgb":  # T = 1: the expected colour under the model's own distribution
        np.testing.assert_array_equal(warm, np.rint(p @ palette.colors.astype(float)).astype(np.uint8))
    else:
        from skimage.color import lab2rgb

        expected = lab2rgb((p @ palette.lab_colors)[:, None, :])[:, 0] * 255
        np.testing.assert_array_equal(warm, np.clip(np.rint(expected), 0, 255).astype(np.uint8))
    assert not (warm == argmax).all()


def test_decoding_errors():
    palette = Palette(np.array([[0, 0, 0], [255, 255, 255]], np.uint8))
    with pytest.raises(PaletteError, match="unknown decoding 'mode'"):
        palette.decode_logits(torch.zeros(1, 2), "mode")
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(PaletteError, match="temperature must be a positive number"):
            palette.decode_logits(torch.zeros(1, 2), "annealed-mean", bad)
    with pytest.raises(PaletteError, match="logits have 3 classes but the palette has 2"):
        palette.decode_logits(torch.zeros(1, 3))


def _lab_to_rgb(lab) -> np.ndarray:
    from skimage.color import lab2rgb

    return np.clip(np.rint(lab2rgb(np.asarray(lab, np.float64).reshape(-1, 1, 3)).reshape(-1, 3) * 255), 0, 255).astype(np.uint8)


def _ab(rgb) -> np.ndarray:
    from skimage.color import rgb2lab

    return rgb2lab(np.asarray(rgb).reshape(-1, 1, 3)).reshape(-1, 3)[:, 1:]


def test_gamut_bins_are_the_grid_cells_the_pixels_fill():
    from tests.conftest import smooth_images

    images = smooth_images(40, seed=3)
    palette = Palette.gamut(images, step=20)
    ab = _ab(images)
    cells = np.unique(np.floor(ab / 20).astype(int), axis=0)
    assert palette.space == "ab" and palette.num_colors == len(cells)
    # each bin is shown by a real pixel whose chroma lies near its cell's centre (within the cell's half-diagonal)
    assert set(map(tuple, palette.colors)) <= set(map(tuple, images.reshape(-1, 3)))
    centres = (cells + 0.5) * 20
    nearest = np.sqrt(((_ab(palette.colors)[:, None] - centres[None]) ** 2).sum(-1)).min(0)
    assert (nearest <= 20 / np.sqrt(2) + 1e-9).all()
    # a share threshold drops the rare cells; too many bins for a palette is refused, saying what to change
    assert Palette.gamut(images, step=20, min_share=0.01).num_colors < palette.num_colors
    with pytest.raises(PaletteError, match="raise step or min_share"):
        Palette.gamut(images, step=1)


def test_an_ab_palette_quantizes_by_chroma_alone():
    grid = [(50, a, b) for a in range(-40, 41, 8) for b in range(-40, 41, 8)]
    palette = Palette.gamut(_lab_to_rgb(grid)[None], 10)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (3000, 3), dtype=np.uint8)
    np.testing.assert_array_equal(palette.quantize(pixels), palette.nearest_brute_force(pixels))
    # one chroma at three lightnesses: one bin
    k = int(np.abs(palette.points - [8, -12]).sum(1).argmin())  # a moderate chroma, in sRGB at each lightness below
    a, b = palette.points[k]
    assert palette.quantize(_lab_to_rgb([(40, a, b), (55, a, b), (70, a, b)])).tolist() == [k, k, k]


def test_an_ab_palette_decodes_under_the_given_lightness():
    from colorlib.data import luma, to_grey

    grid = [(60, a, b) for a in range(-30, 31, 10) for b in range(-30, 31, 10)]
    palette = Palette.gamut(_lab_to_rgb(grid)[None], 10)
    with pytest.raises(PaletteError, match="lightness"):
        palette.decode(np.zeros(4, np.uint8))
    rng = np.random.default_rng(1)
    truth = _lab_to_rgb(np.stack([rng.uniform(45, 75, 500), rng.uniform(-20, 20, 500), rng.uniform(-20, 20, 500)], 1))
    grey = to_grey(truth)
    decoded = palette.decode(palette.quantize(truth), grey)
    np.testing.assert_array_equal(luma(decoded), luma(truth))  # the input's lightness, exactly
    # the chroma is the bin's (these moderate colours exist at every lightness here): within rounding
    assert np.abs(_ab(decoded) - palette.points[palette.quantize(truth)]).max() < 3.5
    np.testing.assert_array_equal(palette.saturate(truth), decoded)
    # the annealed mean at a low temperature is the argmax; at T = 1 it mixes the bins' chroma
    logits = torch.from_numpy(rng.normal(0, 3, (500, palette.num_colors))).float()
    np.testing.assert_array_equal(
        palette.decode_logits(logits, "annealed-mean", 1e-4, grey), palette.decode_logits(logits, "argmax", lightness=grey)
    )
    mixed = palette.decode_logits(logits, "annealed-mean", 1.0, grey)
    np.testing.assert_array_equal(luma(mixed), luma(truth))


def test_objective_and_palette_space_must_agree():
    from colorlib.palette import check_objective, decode_output

    ab, rgb = load_palette("all-ab"), load_palette("horse16")
    check_objective("chroma", ab)
    check_objective("classify", rgb)
    with pytest.raises(PaletteError, match="ab palette"):
        check_objective("chroma", rgb)
    with pytest.raises(PaletteError, match="--objective chroma"):
        check_objective("classify", ab)
    with pytest.raises(PaletteError, match="lightness"):
        decode_output(torch.zeros(2, ab.num_colors), "chroma", ab)


def test_fit_in_ab_finds_the_chroma_clusters():
    rng = np.random.default_rng(0)
    chroma = np.array([[40, 20], [-30, 30], [10, -40], [0, 0]], float)
    lab = np.concatenate([rng.uniform(40, 70, (4000, 1)), chroma[rng.integers(0, 4, 4000)] + rng.normal(0, 1.5, (4000, 2))], 1)
    palette = Palette.fit(_lab_to_rgb(lab).reshape(40, 100, 3), 4, space="ab")
    assert palette.space == "ab" and palette.num_colors == 4
    assert np.sqrt(((palette.points[:, None] - chroma[None]) ** 2).sum(-1)).min(0).max() < 3

"""The palette quantizer: K colours, exact nearest-colour lookup, and the one decoder back to RGB.

Colourisation becomes classification over a palette's K colours. `Palette.quantize` snaps each
pixel to its nearest colour (exactly the brute-force argmin, first index on ties), and
`Palette.decode` turns indices back into uint8 RGB. Nothing else in colorlib converts between
pixels and palette indices.
"""

from __future__ import annotations

import io
import math
import os
import threading
import warnings
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:  # torch loads only where a palette meets a model: `colorlib palette list` stays quick
    import torch

from .atomic import atomic_write
from .config import GAMUT_STEP, SPACES, TEMPERATURE
from .errors import PaletteError, did_you_mean
from .pixels import LUMA_WEIGHTS, rgb_from_unit, to_grey, with_luma
from .unpickle import load_npy

Space = Literal["rgb", "lab", "ab"]  # SPACES (config) says what each means
DECODINGS: tuple[str, ...] = ("argmax", "annealed-mean")
MIN_COLORS, MAX_COLORS = 2, 256
LAB_TIE = 1e-6  # Lab: best two squared distances closer than this are re-ranked by the brute-force sum

# Shipped palettes live in palettes/ at the repository root; wheels carry them as colorlib/palettes.
_SHIPPED_DIRS = (Path(__file__).parent / "palettes", Path(__file__).parent.parent / "palettes")
SHIPPED: dict[str, tuple[str, Space]] = {
    f"{cls}{k}{suffix}": (f"{cls}{k}{suffix}.npy", space)
    for cls in ("horse", "cat", "all")
    for k in (16, 32)
    for suffix, space in (("", "rgb"), ("-lab", "lab"))
    if space == "rgb" or cls == "horse" or (cls, k) == ("all", 32)
}
# chroma bins for the chroma objective: Zhang's grid of 10 units where the pixels are, and k-means in ab
SHIPPED |= {"all-ab": ("all-ab.npy", "ab"), "all64-ab": ("all64-ab.npy", "ab")}


def _lab(rgb_uint8: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of uint8 RGB colours, shape (..., 3) float64, via scikit-image."""
    from skimage.color import rgb2lab

    return rgb2lab(rgb_uint8.reshape(-1, 1, 3)).reshape(rgb_uint8.shape)


def _points(rgb_uint8: np.ndarray, space: str) -> np.ndarray:
    """Where a space measures nearness: RGB itself, CIELAB, or CIELAB's (a*, b*) plane (float64)."""
    if space == "rgb":
        return rgb_uint8.astype(np.float64)
    lab = _lab(rgb_uint8)
    return lab[..., 1:] if space == "ab" else lab


def _rgb_keys(rgb: np.ndarray) -> np.ndarray:
    """24-bit key r | g<<8 | b<<16 of each pixel of a uint8 (..., 3) array, flattened (uint32)."""
    n = rgb.size // 3
    buf = np.empty(rgb.size + 1, np.uint8)  # one spare byte so the last 4-byte read stays inside
    buf[:-1] = rgb.reshape(-1)
    buf[-1] = 0
    # Read 4 little-endian bytes every 3: the low 24 bits are exactly one pixel.
    words = np.ndarray(shape=(n,), dtype="<u4", buffer=buf, strides=(3,))
    return words & np.uint32(0xFFFFFF)


def _keys_to_rgb(keys: np.ndarray) -> np.ndarray:
    return np.stack([keys & 255, (keys >> 8) & 255, keys >> 16], axis=1).astype(np.uint8)


def _check_colors(arr: np.ndarray, source: str) -> np.ndarray:
    """Validate a K×3 colour array and return it as uint8 (floats in [0, 1] are scaled by 255)."""
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise PaletteError(f"{source}: expected a K×3 array of RGB colours, got shape {arr.shape}")
    k = arr.shape[0]
    if not MIN_COLORS <= k <= MAX_COLORS:
        raise PaletteError(f"{source}: a palette needs {MIN_COLORS} to {MAX_COLORS} colours, got {k}")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise PaletteError(f"{source}: colours contain NaN or infinity")
        if arr.min() < 0 or arr.max() > 1:
            raise PaletteError(
                f"{source}: float colours must lie in [0, 1] (got {arr.min():.3g}..{arr.max():.3g}); "
                "save uint8 0..255 colours instead"
            )
        arr = np.rint(arr * 255)
    elif arr.dtype.kind in "iu":
        if arr.min() < 0 or arr.max() > 255:
            raise PaletteError(f"{source}: integer colours must lie in 0..255 (got {arr.min()}..{arr.max()})")
    else:
        raise PaletteError(f"{source}: colours must be numbers, got dtype {arr.dtype}")
    colors = arr.astype(np.uint8)
    uniq, counts = np.unique(colors, axis=0, return_counts=True)
    if len(uniq) != k:
        dup = uniq[counts > 1][0].tolist()
        raise PaletteError(f"{source}: duplicate colour {dup}; every palette colour must be distinct")
    return colors


class _LookupTable:
    """Nearest palette index per 24-bit colour, filled lazily (32 MiB once touched)."""

    def __init__(self) -> None:
        self.lut = np.zeros(1 << 24, np.uint8)  # nearest index, where known
        self.known = np.zeros(1 << 24, bool)  # which entries are filled
        self.lock = threading.Lock()


# Palettes with the same colours and space share one table: loading twenty runs of one palette
# costs one table, not twenty. Weak values: a table lives as long as some palette uses it.
_TABLES: weakref.WeakValueDictionary[tuple[str, bytes], _LookupTable] = weakref.WeakValueDictionary()
_TABLES_LOCK = threading.Lock()


class Palette:
    """K distinct uint8 RGB colours and the space ('rgb' or 'lab') in which nearness is measured."""

    def __init__(self, colors: np.ndarray, space: Space = "rgb") -> None:
        if space not in SPACES:
            raise PaletteError(f"unknown palette space {space!r}; use one of {SPACES}")
        self.colors = _check_colors(np.asarray(colors), "palette")
        self.colors.flags.writeable = False
        self.space: Space = space
        self._table: _LookupTable | None = None  # shared with equal palettes, made on first quantize

    def _lookup_table(self) -> _LookupTable:
        if self._table is None:
            key = (self.space, self.colors.tobytes())
            with _TABLES_LOCK:
                table = _TABLES.get(key)
                if table is None:
                    table = _TABLES[key] = _LookupTable()
            self._table = table
        return self._table

    def __len__(self) -> int:
        return len(self.colors)

    @property
    def num_colors(self) -> int:
        return len(self.colors)

    @property
    def lab_colors(self) -> np.ndarray:
        """The colours in CIELAB (D65), K×3 float64."""
        return _lab(self.colors)

    @property
    def points(self) -> np.ndarray:
        """The colours where nearness is measured and annealed means are taken: RGB, CIELAB or (a*, b*), K×3 or K×2."""
        return self._features(self.colors)

    def __repr__(self) -> str:
        return f"Palette({self.num_colors} colours, space={self.space!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Palette) and self.space == other.space and np.array_equal(self.colors, other.colors)

    # -- fitting ---------------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        images: np.ndarray,
        k: int,
        space: Space = "rgb",
        seed: int = 0,
        max_pixels: int | None = 200_000,
    ) -> Palette:
        """k-means (scikit-learn) on the pixels of uint8 RGB `images`, in RGB or CIELAB.

        `max_pixels` draws a seeded random sample of pixels first (None: use every pixel).
        """
        from sklearn.cluster import KMeans

        if space not in SPACES:
            raise PaletteError(f"unknown palette space {space!r}; use one of {SPACES}")
        if not MIN_COLORS <= k <= MAX_COLORS:
            raise PaletteError(f"a palette needs {MIN_COLORS} to {MAX_COLORS} colours, got k={k}")
        pixels = _as_rgb(images).reshape(-1, 3)
        rng = np.random.default_rng(seed)
        if max_pixels is not None and len(pixels) > max_pixels:
            pixels = pixels[rng.choice(len(pixels), max_pixels, replace=False)]
        points = _points(pixels, space)
        if len(np.unique(pixels, axis=0)) < k:
            raise PaletteError(f"the images hold fewer than k={k} distinct colours; choose a smaller k")
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(points)
        centres = km.cluster_centers_
        if space == "ab":  # each bin shown by its pixel nearest the centre: a real colour, in the bin
            return cls._representatives(pixels, points, centres, km.labels_)
        if space == "lab":
            from skimage.color import lab2rgb

            centres = lab2rgb(centres.reshape(-1, 1, 3)).reshape(-1, 3) * 255
        # Order colours by luminance so palettes read dark to light in swatches.
        rgb = np.clip(np.rint(centres), 0, 255).astype(np.uint8)
        rgb = rgb[np.argsort(rgb.astype(np.int64) @ LUMA_WEIGHTS.astype(np.int64), kind="stable")]
        return cls(rgb, space)

    @classmethod
    def gamut(
        cls,
        images: np.ndarray,
        step: float = GAMUT_STEP,
        min_share: float = 1e-5,
        max_pixels: int | None = 2_000_000,
        seed: int = 0,
    ) -> Palette:
        """Zhang et al.'s chroma bins: the cells of a grid of `step` CIELAB units in the (a*, b*) plane that
        hold at least `min_share` of the pixels of uint8 RGB `images` (a seeded sample of `max_pixels`), as an
        "ab" palette. Each bin is shown by its pixel nearest the cell's centre; nearness is to those.
        """
        if not (math.isfinite(step) and step > 0) or not 0 <= min_share < 1:
            raise PaletteError(f"a gamut needs step > 0 and 0 ≤ min_share < 1, got step={step}, min_share={min_share}")
        pixels = _as_rgb(images).reshape(-1, 3)
        if max_pixels is not None and len(pixels) > max_pixels:
            pixels = pixels[np.random.default_rng(seed).choice(len(pixels), max_pixels, replace=False)]
        ab = _lab(pixels)[:, 1:]
        cells, groups, counts = np.unique(np.floor(ab / step).astype(np.int64), axis=0, return_inverse=True, return_counts=True)
        kept = counts >= max(1, min_share * len(pixels))
        cells, inside = cells[kept], kept[groups.reshape(-1)]
        groups = (np.cumsum(kept) - 1)[groups.reshape(-1)[inside]]  # renumbered 0..K-1 over the kept cells
        if not MIN_COLORS <= len(cells) <= MAX_COLORS:
            raise PaletteError(
                f"the images fill {len(cells)} ab bins of {step:g} units; a palette holds {MIN_COLORS} to {MAX_COLORS}: "
                "raise step or min_share to have fewer, lower them to have more"
            )
        return cls._representatives(pixels[inside], ab[inside], (cells + 0.5) * step, groups)

    @staticmethod
    def _representatives(pixels: np.ndarray, ab: np.ndarray, centres: np.ndarray, groups: np.ndarray) -> Palette:
        """An "ab" palette: for each bin (`groups` gives each pixel's, 0..K-1), the bin's own pixel whose
        chroma lies nearest the bin's centre — a real colour inside its bin, so no two bins share one."""
        distance = ((ab - np.asarray(centres)[groups]) ** 2).sum(1)
        order = np.lexsort((distance, groups))  # by bin, nearest first
        first = order[np.r_[True, groups[order][1:] != groups[order][:-1]]]
        by_chroma = np.lexsort((ab[first, 1], ab[first, 0]))  # bins ordered by a*, then b*: a stable order
        return Palette(pixels[first][by_chroma], "ab")

    # -- quantize / decode -----------------------------------------------------------------------

    def _features(self, rgb: np.ndarray) -> np.ndarray:
        return _points(rgb, self.space)

    def nearest_brute_force(self, rgb: np.ndarray) -> np.ndarray:
        """Reference implementation: argmin of squared Euclidean distance (slow; for tests)."""
        rgb = _as_rgb(rgb)
        x = self._features(rgb.reshape(-1, 3))
        c = self._features(self.colors)
        d = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)
        return d.argmin(1).astype(np.uint8).reshape(rgb.shape[:-1])

    def _nearest(self, colors: np.ndarray) -> np.ndarray:
        """Exact nearest palette index for M distinct uint8 colours (M×3): the brute-force argmin."""
        import torch

        out = np.empty(len(colors), np.uint8)
        chunk = 1 << 14
        if self.space == "rgb":
            # |x-c|² - |x|² = |c|² - 2x·c is an integer. Scaled by m ≥ K (a power of two) with the
            # colour's index added, the smallest key is the brute-force argmin with its tie rule
            # (first index), and a plain min is much faster than argmin. Every partial sum of the
            # addmm lies within ±390150·m (2x·c ≤ 2·3·255²), below 2**24 for K ≤ 32, where float32
            # is exact; above that float64 is.
            k = self.num_colors
            m = 1 << max(1, (k - 1).bit_length())
            dtype = torch.float32 if 390_151 * m <= 1 << 24 else torch.float64
            p = torch.tensor(self.colors, dtype=dtype)
            weight = (-2 * m * p).T.contiguous()
            bias = m * (p * p).sum(1) + torch.arange(k, dtype=dtype)
            x = torch.from_numpy(colors)
            for i in range(0, len(colors), chunk):
                key = torch.addmm(bias, x[i : i + chunk].to(dtype), weight).amin(1)
                out[i : i + chunk] = torch.remainder(key, m).numpy()
        else:
            # Lab and ab distances are not integers: rank by the same expansion in float64, and redo
            # the brute-force sum of squares wherever the best two are too close for rounding to decide.
            c = self._features(self.colors)
            ct = torch.from_numpy(c)
            neg2ct, c2 = (-2 * ct).T.contiguous(), (ct * ct).sum(1)
            for i in range(0, len(colors), chunk):
                x = self._features(colors[i : i + chunk])
                two = torch.addmm(c2, torch.from_numpy(x), neg2ct).topk(2, dim=1, largest=False)
                best = two.indices[:, 0].numpy().copy()
                close = np.flatnonzero((two.values[:, 1] - two.values[:, 0]).numpy() < LAB_TIE)
                best[close] = ((x[close][:, None, :] - c[None]) ** 2).sum(-1).argmin(1)
                out[i : i + chunk] = best
        return out

    def quantize(self, rgb: np.ndarray) -> np.ndarray:
        """Index of the nearest palette colour for each pixel of a uint8 (..., 3) array (uint8)."""
        rgb = _as_rgb(rgb)
        keys = _rgb_keys(rgb)
        table = self._lookup_table()
        # Solve each distinct colour once and remember it: images repeat colours heavily.
        if not table.known[keys].all():
            with table.lock:  # fill under the lock: a reader never sees an index before it is solved
                missing = keys[~table.known[keys]]
                if missing.size:
                    mark = np.zeros(1 << 24, bool)
                    mark[missing] = True
                    new = np.flatnonzero(mark).astype(np.uint32)
                    table.lut[new] = self._nearest(_keys_to_rgb(new))
                    table.known[new] = True
        return table.lut[keys].reshape(rgb.shape[:-1])

    def decode(self, indices: np.ndarray | torch.Tensor, lightness: np.ndarray | torch.Tensor | None = None) -> np.ndarray:
        """uint8 RGB (..., 3) for an array of palette indices; an "ab" palette's chroma goes under `lightness`
        (the grey input, float in [0, 1], the indices' shape), which it needs."""
        idx = indices.cpu().numpy() if hasattr(indices, "cpu") else np.asarray(indices)  # a tensor, or array-like
        if idx.dtype.kind not in "iu":
            raise PaletteError(f"palette indices must be integers, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_colors):
            raise PaletteError(f"palette index out of range 0..{self.num_colors - 1} (got {idx.min()}..{idx.max()})")
        if self.space == "ab":
            return under_lightness(self.points[idx], self._lightness(lightness, idx.shape))
        return self.colors[idx]

    def _lightness(self, lightness, shape: tuple[int, ...]) -> np.ndarray:
        """The grey input an "ab" palette decodes under, as a float array of `shape`, or a PaletteError."""
        if lightness is None:
            raise PaletteError("an ab palette holds chroma only: decoding needs the grey input's lightness (lightness=)")
        grey = lightness.detach().cpu().numpy() if hasattr(lightness, "detach") else np.asarray(lightness)
        if grey.shape != tuple(shape):
            raise PaletteError(f"lightness has shape {grey.shape}, but the colours to decode have shape {tuple(shape)}")
        return grey

    def decode_logits(
        self,
        logits: torch.Tensor,
        decoding: str = "argmax",
        temperature: float = TEMPERATURE,
        lightness: np.ndarray | torch.Tensor | None = None,
    ) -> np.ndarray:
        """uint8 RGB (..., 3) from per-pixel logits (..., K): the most likely colour, or the annealed mean.

        The annealed mean is the expected colour under softmax(logits / T), averaged in the palette's
        own space (RGB, CIELAB, or the ab plane, then put under `lightness` as `decode` does): T → 0 is
        argmax, T = 1 the plain mean; colours become continuous.
        """
        import torch

        if logits.shape[-1] != self.num_colors:
            raise PaletteError(f"logits have {logits.shape[-1]} classes but the palette has {self.num_colors} colours")
        check_decoding(decoding, temperature)
        if decoding == "argmax":
            return self.decode(logits.argmax(-1), lightness)
        probs = (logits.float() / temperature).softmax(-1)
        if self.space == "ab":
            ab = (probs.double() @ torch.from_numpy(self.points).to(probs.device)).cpu().numpy()
            return under_lightness(ab, self._lightness(lightness, ab.shape[:-1]))
        if self.space == "rgb":
            mean = (probs @ torch.from_numpy(self.colors.astype(np.float32)).to(probs.device)).cpu().numpy()
        else:
            from skimage.color import lab2rgb

            lab = (probs.double() @ torch.from_numpy(self.lab_colors).to(probs.device)).cpu().numpy()
            mean = lab2rgb(lab.reshape(-1, 1, 3)).reshape(lab.shape) * 255
        return np.clip(np.rint(mean), 0, 255).astype(np.uint8)

    def decode_for(self, indices: np.ndarray | torch.Tensor, pictures: np.ndarray) -> np.ndarray:
        """Indices predicted for uint8 RGB `pictures` decoded: an ab palette's chroma on the pictures' own lightness."""
        return self.decode(indices, to_grey(pictures) if self.space == "ab" else None)

    def saturate(self, rgb: np.ndarray) -> np.ndarray:
        """Each pixel replaced by its nearest palette colour: decode(quantize(rgb)), an ab palette's on its own lightness."""
        return self.decode_for(self.quantize(rgb), rgb)

    # -- files -----------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the colours as a K×3 uint8 .npy file (atomically)."""
        buf = io.BytesIO()
        np.save(buf, self.colors)
        atomic_write(Path(path), buf.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike, space: Space = "rgb") -> Palette:
        """Read a K×3 .npy palette (uint8 0..255 or float 0..1) or a CSC321 object-array palette.

        The CSC321 / original-project format is an object array whose item 0 is a float
        codebook of k-means centres over pixels divided by 256; it is scaled back by 256.
        """
        path = Path(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise PaletteError(f"{path}: no such palette file") from None
        except IsADirectoryError:
            raise PaletteError(f"{path}: is a folder, not a palette .npy file") from None
        try:
            arr = load_npy(data)
        except Exception as e:  # noqa: BLE001 - any parse failure means the same to the user
            raise PaletteError(f"{path}: not a readable .npy palette ({e})") from None
        if arr.dtype.hasobject:
            arr = _csc321_codebook(arr, str(path))
        return cls(_check_colors(arr, str(path)), space)


def decode_output(
    output: torch.Tensor,
    objective: str,
    palette: Palette | None = None,
    decoding: str = "argmax",
    temperature: float = TEMPERATURE,
    grey: np.ndarray | torch.Tensor | None = None,
) -> np.ndarray:
    """uint8 RGB (..., 3) from a model's per-pixel output (..., C): what the output means depends on
    the objective, logits over `palette` ("classify", decoded as `decoding`), logits over an ab palette's
    chroma bins put under the `grey` input's lightness ("chroma"), or RGB in [0, 1] ("regress").
    """
    if objective == "regress":
        if output.shape[-1] != 3:
            raise PaletteError(f"a regression model outputs 3 colour channels, got {output.shape[-1]}")
        return rgb_from_unit(output)
    if palette is None:
        raise PaletteError("decoding logits needs the model's palette")
    check_objective(objective, palette)
    return palette.decode_logits(output, decoding, temperature, grey if objective == "chroma" else None)


LEVEL_TOLERANCE = 1e-4  # of a grey level: a grey this near a whole level is that level (float32 noise)


def under_lightness(ab: np.ndarray, grey: np.ndarray) -> np.ndarray:
    """uint8 RGB (..., 3) of chroma `ab` (..., 2) at the lightness of `grey` (..., in [0, 1], the model's
    input): CIELAB (L* of that grey, a*, b*) to sRGB. Where the grey is a whole level (a picture's own
    luma), `with_luma` then makes the luma that level exactly; a resized grey between levels keeps the
    colour as it is (colorize puts the picture's own luma back at full size)."""
    from skimage.color import lab2rgb, rgb2lab

    g = np.clip(np.asarray(grey, np.float64), 0, 1)
    lightness = rgb2lab(np.repeat(g.reshape(-1, 1, 1), 3, -1))[..., 0].reshape(g.shape)  # L* of the grey R = G = B = g
    lab = np.concatenate([lightness[..., None], np.asarray(ab, np.float64)], -1)
    with warnings.catch_warnings():  # colours outside sRGB are clipped, as intended; no warning for them
        warnings.simplefilter("ignore")
        rgb = np.clip(np.rint(lab2rgb(lab.reshape(-1, 1, 3)).reshape(lab.shape) * 255), 0, 255).astype(np.uint8)
    level = g * 255
    whole = np.abs(level - np.rint(level)) <= LEVEL_TOLERANCE
    y = np.repeat(np.rint(level).astype(np.uint8)[..., None], 3, -1)
    return np.where(whole[..., None], with_luma(rgb, y), rgb)


def check_objective(objective: str, palette: Palette) -> None:
    """Raise a PaletteError unless `palette` suits `objective`: ab chroma bins for "chroma", colours otherwise."""
    if objective == "chroma" and palette.space != "ab":
        raise PaletteError(
            f"the chroma objective classifies over ab chroma bins, but this palette is {palette.space}: use an ab "
            "palette (a shipped one such as all-ab, or a file from `colorlib palette gamut` with --palette-space ab)"
        )
    if objective != "chroma" and palette.space == "ab":
        raise PaletteError(
            f"an ab palette holds chroma only, which a {objective} model cannot use; "
            "it is for the chroma objective (--objective chroma)"
        )


def check_decoding(decoding: str, temperature: float) -> None:
    """Raise a PaletteError unless `decoding` is known and `temperature` is a positive number."""
    if decoding not in DECODINGS:
        raise PaletteError(f"unknown decoding {decoding!r}; use one of {', '.join(DECODINGS)}")
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0):
        raise PaletteError(f"temperature must be a positive number (Zhang et al. use 0.38), got {temperature!r}")


def _csc321_codebook(arr: np.ndarray, source: str) -> np.ndarray:
    """Item 0 of a CSC321 object array: float centres of pixels/256, scaled back to uint8."""
    first = arr.flat[0] if arr.size else None
    if not (isinstance(first, np.ndarray) and first.dtype.kind == "f"):
        raise PaletteError(f"{source}: object array is not a CSC321 palette (item 0 must be a float K×3 codebook)")
    if not np.isfinite(first).all():
        raise PaletteError(f"{source}: colours contain NaN or infinity")
    if first.size and (first.min() < 0 or first.max() > 1):
        raise PaletteError(f"{source}: CSC321 codebook values must lie in [0, 1]")
    return np.clip(np.rint(first * 256), 0, 255).astype(np.uint8)


def _as_rgb(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise PaletteError(f"expected uint8 RGB pixels with a last axis of 3, got {rgb.dtype} {rgb.shape}")
    return rgb


def shipped_palettes() -> list[str]:
    """Names of the palettes colorlib ships (e.g. 'horse32', 'horse32-lab')."""
    return sorted(SHIPPED)


def load_palette(name_or_path: str | os.PathLike, space: Space | None = None) -> Palette:
    """A shipped palette by name ('horse32', 'cat16', 'horse32-lab', …) or a .npy file by path."""
    key = str(name_or_path)
    if key in SHIPPED:
        filename, shipped_space = SHIPPED[key]
        for folder in _SHIPPED_DIRS:
            if (folder / filename).is_file():
                return Palette.load(folder / filename, space or shipped_space)
        raise PaletteError(f"shipped palette {key!r} is missing from this installation; reinstall colorlib")
    if not Path(key).exists():
        raise PaletteError(
            f"{key}: neither a palette file nor a shipped palette name;{did_you_mean(key, shipped_palettes())} "
            f"the shipped palettes are {', '.join(shipped_palettes())}"
        )
    return Palette.load(key, space or "rgb")

"""Colourise any greyscale (or colour) picture with a trained run; the result has the picture's own size.

At `scale="native"` the network runs on every pixel of the picture, as the original does. At a
working scale it runs on the picture shrunk so that its shorter side is about the size of the
32×32 pictures it was trained on (where a photo's content has CIFAR-like scale); the predicted
colour is upsampled smoothly and put under the picture's own full-resolution lightness, as Zhang
et al.'s colourisers do for large photos.
"""

from __future__ import annotations

import functools
import io
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError
from .palette import TEMPERATURE, Palette, check_decoding, decode_output
from .pixels import to_grey, with_luma

if TYPE_CHECKING:  # torch loads when a picture is coloured: the shell checks its arguments without it
    from .models import ColorNet
    from .runs import Run

ImageLike = str | os.PathLike | Image.Image | np.ndarray | bytes
MAX_PIXELS = 64_000_000  # beyond this colourisation needs tens of GB; pass max_pixels to override
WORKING_SIDE = 48  # scale="auto": the shorter side, in pixels, at which the network sees a photo (experiments/photos.py)
PHOTO_DECODING = "annealed-mean"  # scale="auto": the decoding that measured best on photographs (experiments/photos.py)


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> Run:
    """A run loaded once per process: colouring many photos with the default model loads it once."""
    from .runs import load_run

    return load_run(path)


def working_size(h: int, w: int, scale: str | int = "auto") -> tuple[int, int]:
    """The size the network sees an h×w picture at: `scale` "native" (its own size), "auto"
    (shorter side WORKING_SIDE) or a shorter side in pixels; pictures already that small stay as they are."""
    if scale == "native":
        return h, w
    side = WORKING_SIDE if scale == "auto" else scale
    if isinstance(side, bool) or not isinstance(side, (int, np.integer)) or side < 4:
        raise ImageError(f"scale must be 'native', 'auto' or a shorter side of at least 4 pixels, got {scale!r}")
    if min(h, w) <= side:
        return h, w
    f = side / min(h, w)
    return max(1, round(h * f)), max(1, round(w * f))


def _to_rgb(img: Image.Image) -> np.ndarray:
    """uint8 RGB of a PIL image in any mode; transparency is composited over white."""
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        if img.mode == "F":
            scale = 1.0 if a.max(initial=0) <= 1.0 else 255.0  # float images: [0,1] or [0,255]
        else:
            scale = 255.0 if a.max(initial=0) <= 255 else 65535.0
        a = np.clip(np.rint(np.nan_to_num(a) / scale * 255), 0, 255).astype(np.uint8)
        return np.repeat(a[..., None], 3, axis=-1)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(img.convert("RGB"))


def read_image(image: ImageLike) -> np.ndarray:
    """uint8 RGB H×W×3 from a path, file bytes, PIL image or array (H×W, H×W×3 RGB, H×W×4 RGBA)."""
    if isinstance(image, np.ndarray):
        a = image
        if a.ndim == 2:
            a = a[..., None]
        if a.ndim != 3 or a.shape[-1] not in (1, 3, 4):
            raise ImageError(f"array image must be H×W, H×W×3 or H×W×4, got shape {image.shape}")
        if a.dtype != np.uint8:
            if a.dtype.kind == "f" and np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1:
                a = np.rint(a * 255).astype(np.uint8)
            else:
                raise ImageError(f"array image must be uint8, or float in [0, 1]; got {a.dtype}")
        if a.shape[-1] == 4:  # RGBA as a file or a PIL image is read: transparency composited over white
            return _to_rgb(Image.fromarray(np.ascontiguousarray(a), "RGBA"))
        return np.ascontiguousarray(np.repeat(a, 3, axis=-1) if a.shape[-1] == 1 else a)
    if isinstance(image, Image.Image):
        return _to_rgb(ImageOps.exif_transpose(image))
    if isinstance(image, (bytes, bytearray, memoryview)):
        return _open(io.BytesIO(bytes(image)), "uploaded image")
    path = Path(image)
    if not path.exists():
        raise ImageError(f"{path}: no such image file")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image")
    return _open(path, str(path))


def _open(source: Path | io.BytesIO, name: str) -> np.ndarray:
    """Decode an image file fully (so damage shows now), applying its EXIF orientation."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as img:
                frames = getattr(img, "n_frames", 1)
                img.load()
                rgb = _to_rgb(ImageOps.exif_transpose(img))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError(
            f"{name}: refused as a possible decompression bomb ({e}); if you trust the file, raise "
            "PIL.Image.MAX_IMAGE_PIXELS (colorlib colorize: --max-pixels)"
        ) from None
    except UnidentifiedImageError as e:
        raise ImageError(f"{name}: cannot read as an image ({e})") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError(f"{name}: the image file is damaged or truncated ({e})") from None
    if frames > 1:
        warnings.warn(f"{name} has {frames} frames (an animation); colourising the first", stacklevel=3)
    return rgb


def colorize(
    run_or_image: Run | ColorNet | str | os.PathLike | ImageLike,
    image: ImageLike | None = None,
    palette: Palette | None = None,
    *,
    return_probs: bool = False,
    max_pixels: int = MAX_PIXELS,
    precision: str = "auto",
    decoding: str | None = None,
    temperature: float | None = None,
    keep_luma: bool | None = None,
    scale: str | int = "auto",
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Colour a picture; uint8 RGB at the picture's own size.

    `colorize("photo.jpg")` uses the default model (`pretrained.DEFAULT_RUN`, trained on all ten
    CIFAR-10 classes); `colorize(run, image)` a run, a shipped run's name, a run directory, or a model
    with `palette=`. By default (`scale="auto"`) the network sees the picture at the working scale
    that measured best on photographs (`working_size`), the colour is upsampled smoothly and put
    under the picture's own lightness, decoded as PHOTO_DECODING; `scale="native"` is the original
    way: every pixel at its own size, argmax, palette colours. `decoding` ("argmax" or
    "annealed-mean" at `temperature`, see `Palette.decode_logits`; by default the run's own, `Run.temperature`)
    and `keep_luma` override that;
    `keep_luma=False` at a working scale gives the upsampled colour as it is, lightness included (blurred).
    With `return_probs=True` also returns the per-pixel palette probabilities, H×W×K float32.
    `precision="auto"` runs in bf16 on CPUs that do natively, else fp32; "fp32" switches bf16 off.
    """
    from .models import ColorNet
    from .runs import Run

    if image is None:  # colorize(picture): the default model
        from .pretrained import DEFAULT_RUN, resolve

        run_or_model, image = _load(resolve(DEFAULT_RUN)), run_or_image
    elif isinstance(run_or_image, (str, os.PathLike)):  # a shipped run's name or a run directory
        from .pretrained import resolve

        run_or_model = _load(resolve(run_or_image))
    else:
        run_or_model = run_or_image
    native = scale == "native"
    decoding = decoding or ("argmax" if native else PHOTO_DECODING)
    keep_luma = (not native) if keep_luma is None else keep_luma
    if isinstance(run_or_model, Run):
        model, palette = run_or_model.model, palette or run_or_model.palette
    elif isinstance(run_or_model, ColorNet):
        model = run_or_model
    else:
        kind = type(run_or_model).__name__
        raise ImageError(f"colorize takes a Run, a model, a run's name or folder, then the picture; got {kind}")
    if palette is None:
        raise ImageError("colorize needs the model's palette: pass a Run, or palette=...")
    if temperature is None:  # the temperature chosen with the run (the default run's by experiments/colour.py)
        temperature = run_or_model.temperature if isinstance(run_or_model, Run) else TEMPERATURE
    if palette.num_colors != model.config.num_colors:
        raise ImageError(f"palette has {palette.num_colors} colours, the model predicts {model.config.num_colors}")
    regress = model.config.objective == "regress"
    if return_probs and regress:
        raise ImageError("a regression model predicts the colour itself: it has no palette probabilities (return_probs)")
    check_decoding(decoding, temperature)
    rgb = read_image(image)
    h, w = rgb.shape[:2]
    if h * w > max_pixels:
        raise ImageError(f"image is {w}×{h} = {h * w:,} pixels, above max_pixels={max_pixels:,}; resize it or raise max_pixels")
    return _pipeline(model, palette, rgb, working_size(h, w, scale), precision, decoding, temperature, keep_luma, return_probs)


def _pipeline(
    model: ColorNet,
    palette: Palette,
    rgb: np.ndarray,
    size: tuple[int, int],
    precision: str,
    decoding: str,
    temperature: float,
    keep_luma: bool,
    return_probs: bool = False,
    shrink: str = "area",
    upsample: str = "bilinear",
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """colorize's steps on checked arguments; `shrink`/`upsample` other than the defaults only make the
    exercises' slips (colorlib.exercises.check_photo_pipeline), from this one spelling of the pipeline."""
    import torch
    import torch.nn.functional as F

    from .inference import outputs
    from .models import autocast_dtype

    h, w = rgb.shape[:2]
    hw, ww = size
    grey = torch.from_numpy(to_grey(rgb))[None, None]
    if (hw, ww) != (h, w):  # area averaging: every input pixel counts, no aliasing
        grey = F.interpolate(grey, size=(hw, ww), mode=shrink)
    # The network halves the size twice: pad edges to a multiple of 4, crop back afterwards.
    grey = F.pad(grey, (0, -ww % 4, 0, -hw % 4), mode="replicate")
    device = next(model.parameters()).device
    amp = autocast_dtype(precision, device)
    x = grey.contiguous(memory_format=torch.channels_last)
    logits = next(outputs(model, x, device=device, exact=False, amp=amp))[1][0, :, :hw, :ww]
    colored = decode_output(logits.permute(1, 2, 0), model.config.objective, palette, decoding, temperature, grey[0, 0, :hw, :ww])
    if (hw, ww) != (h, w):  # smooth colour at full size: no palette blobs; the detail comes from the lightness
        up = F.interpolate(torch.from_numpy(colored).permute(2, 0, 1)[None].float(), size=(h, w), mode=upsample)
        colored = up[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()
    if keep_luma:
        colored = with_luma(colored, rgb)
    if return_probs:
        probs = logits.float().softmax(0)[None]
        if (hw, ww) != (h, w):
            probs = F.interpolate(probs, size=(h, w), mode="bilinear")
        return colored, probs[0].permute(1, 2, 0).cpu().numpy()
    return colored

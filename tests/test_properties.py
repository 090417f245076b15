"""Property tests (hypothesis): colourisation keeps any size and mode; the unpickler never runs code."""

import os
import pickle

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from colorlib.colorize import colorize
from colorlib.models import build
from colorlib.palette import load_palette
from colorlib.runs import Run
from colorlib.unpickle import restricted_loads

RUN = Run(build("unet", 16, nf=4).eval(), load_palette("horse16"), config={}, history=[])
MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "YCbCr", "I", "I;16", "F"]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 70), st.integers(1, 70), st.sampled_from(MODES), st.integers(0, 2**32 - 1))
def test_colorize_returns_the_input_size_for_any_size_and_mode(w, h, mode, seed):
    rgb = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    base = Image.fromarray(rgb)
    img = base.convert("L").convert(mode) if mode in ("I", "I;16", "F") else base.convert(mode)
    out = colorize(RUN, img)  # the working-scale pipeline: shrunk above 64 pixels a side, colour upsampled
    assert out.shape == (h, w, 3) and out.dtype == np.uint8
    from colorlib.colorize import read_image
    from colorlib.data import luma

    np.testing.assert_array_equal(luma(out), luma(read_image(img)))  # the input's own lightness, exactly


class _Call:
    """Unpickling calls `func(*args)`: the shape of every code-running payload."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from([os.system, eval, exec, print, open, getattr, __import__]), st.integers(0, 4))
def test_restricted_unpickler_never_runs_a_payload(tmp_path, func, protocol):
    marker = tmp_path / "ran"
    args = {
        os.system: (f"touch {marker}",),
        eval: (f"open({str(marker)!r}, 'w')",),
        exec: (f"open({str(marker)!r}, 'w')",),
        print: ("ran",),
        open: (str(marker), "w"),
        getattr: ("abc", "upper"),
        __import__: ("os",),
    }[func]
    data = pickle.dumps({"data": [_Call(func, *args)]}, protocol=protocol)
    try:
        restricted_loads(data)
    except pickle.UnpicklingError:
        pass
    else:
        raise AssertionError("a pickle that calls a global was accepted")
    assert not marker.exists()


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=200))
def test_restricted_unpickler_on_garbage_raises_or_returns_plain_data(blob):
    try:
        value = restricted_loads(blob)
    except Exception:  # noqa: BLE001 - any refusal is fine; running code is not
        return
    assert isinstance(
        value, (dict, list, tuple, str, bytes, int, float, bool, type(None), np.ndarray, set, frozenset, complex, bytearray)
    )


def test_numpy_arrays_still_load(tmp_path):
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for protocol in (2, 4, 5):
        out = restricted_loads(pickle.dumps({"data": arr, "labels": [1, 2]}, protocol=protocol))
        np.testing.assert_array_equal(out[b"data"] if b"data" in out else out["data"], arr)

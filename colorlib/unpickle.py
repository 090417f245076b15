"""Restricted unpickling: load the numpy-in-pickle formats CIFAR-10 and CSC321 palettes use, run no code."""

from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np

# Everything a pickled dict/list/str/number/ndarray needs, for numpy 1.x and 2.x module paths.
_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),  # how Python 3 writes bytes in protocol 2 pickles: a pure function
}


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asked for a global outside the allow-list (it could run code)."""


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only the numpy globals in `_ALLOWED`."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise UnsafePickleError(f"refusing to load global {module}.{name}: not a plain data pickle")


def restricted_loads(data: bytes, encoding: str = "bytes") -> Any:
    """Unpickle `data`, admitting only numpy arrays, dicts, lists, strings and numbers."""
    return RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()


def decode_keys(obj: dict) -> dict:
    """Return a dict whose bytes keys are decoded to str (Python 2 pickles read with encoding='bytes')."""
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def load_npy(data: bytes) -> np.ndarray:
    """Read a .npy file's bytes; object arrays are unpickled with the restricted unpickler."""
    f = io.BytesIO(data)
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    if dtype.hasobject:
        arr = restricted_loads(f.read())
        if not isinstance(arr, np.ndarray):
            raise ValueError("object .npy does not hold an array")
        return arr
    f.seek(0)
    return np.load(f, allow_pickle=False)

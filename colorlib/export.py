"""A run's network as an ONNX model, for colourising in a browser (onnxruntime-web) or anywhere ONNX runs.

    colorlib export-onnx unet_horse32 -o unet_horse32.onnx

The graph maps the grey input N×1×H×W (float32 in [0, 1], H and W multiples of 4, any size) to the
network's raw output N×C×H×W: K logits per pixel over the run's palette, or RGB in [0, 1] for a
regression run. Everything around it — the grey conversion, the working scale, decoding and the
input's own lightness — stays with the caller, as in `colorlib.colorize`; `metadata` says what the
caller needs (the palette, its space, the objective).
"""

from __future__ import annotations

import copy
import io
import json
import os
import warnings
from pathlib import Path

import torch

from .errors import RunError
from .runs import Run, atomic_write


def metadata(run: Run) -> dict:
    """What a caller needs besides the graph: the palette's colours and space, and what the output means."""
    config = run.model.config
    return {
        "format": "colorlib-onnx",
        "version": 1,
        "objective": config.objective,
        "arch": config.arch,
        "palette": {
            "name": run.config.get("palette", {}).get("name"),
            "space": run.palette.space,
            "colors": run.palette.colors.tolist(),
        },
        "temperature": run.temperature,  # the annealed-mean temperature chosen with the run
        "input": "grey: N×1×H×W float32 in [0, 1], BT.601 luma as colorlib.to_grey; H, W multiples of 4",
        "output": {
            "classify": "logits N×K×H×W over the palette",
            "chroma": "logits N×K×H×W over the palette's ab chroma bins, to put under the input's lightness",
            "regress": "RGB N×3×H×W in [0, 1]",
        }[config.objective],
    }


def export_onnx(run: Run, out: str | os.PathLike, opset: int = 17) -> Path:
    """Write `run`'s network to `out` as ONNX (float32, dynamic batch, height and width), atomically."""
    out = Path(out)
    if not out.parent.is_dir():
        raise RunError(f"{out.parent}: folder does not exist; create it or choose another -o")
    try:
        import onnx
    except ImportError:
        raise RunError("exporting to ONNX needs the onnx package: pip install 'colorlib[export]'") from None
    model = copy.deepcopy(run.model).float().to("cpu", memory_format=torch.contiguous_format).eval()
    example = torch.zeros(1, 1, 32, 32)
    axes = {0: "batch", 2: "height", 3: "width"}
    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(
            model,
            (example,),
            buf,
            input_names=["grey"],
            output_names=["output"],
            opset_version=opset,
            dynamic_axes={"grey": axes, "output": axes},
            dynamo=False,
        )
    graph = onnx.load_from_string(buf.getvalue())
    entry = graph.metadata_props.add()
    entry.key, entry.value = "colorlib", json.dumps(metadata(run))
    atomic_write(out, graph.SerializeToString())
    return out

import io

import numpy as np
import pytest
from PIL import Image

W = pytest.importorskip("ipywidgets")

from colorlib.errors import ColorlibError  # noqa: E402
from colorlib.train import TrainConfig, train  # noqa: E402
from colorlib.widgets import compare_epochs, decoding_explorer, upload_colorizer  # noqa: E402


@pytest.fixture(scope="module")
def runs(fake_cifar, tmp_path_factory):
    out = tmp_path_factory.mktemp("widgets")
    return [
        train(
            TrainConfig(
                arch=arch, classes=[cls], palette="horse16", epochs=2, batch_size=10, nf=4, snapshot_count=3, device="cpu"
            ),
            out / f"{arch}_{cls}",
            root=fake_cifar,
            progress=False,
        )
        for arch in ("cnn", "unet")
        for cls in ("horse", "cat")
    ]


def _find(widget, kind):
    found = [widget] if isinstance(widget, kind) else []
    for child in getattr(widget, "children", ()):
        found += _find(child, kind)
    return found


def test_compare_epochs_is_linked_in_the_browser(runs, monkeypatch):
    linked = set()
    real_jslink = W.jslink

    def recording_jslink(source, target):
        linked.add((source[0].model_id, source[1], target[0].model_id, target[1]))
        return real_jslink(source, target)

    monkeypatch.setattr(W, "jslink", recording_jslink)
    view = compare_epochs(runs)
    slider = _find(view, W.IntSlider)[0]
    assert (slider.min, slider.max) == (0, 1)
    pickers = _find(view, W.ToggleButtons)
    assert [p.options for p in pickers] == [("horse", "cat"), ("16 colours",)]
    stacks = _find(view, W.Stack)
    # outer (class) → per class (size) → per combo: frames and loss curves, one child per epoch
    epoch_stacks = [s for s in stacks if len(s.children) == 2 and isinstance(s.children[0], W.HTML)]
    assert len(epoch_stacks) == 4
    frames = epoch_stacks[0].children
    assert frames[0].value != frames[1].value and "data:image/png;base64," in frames[0].value
    for stack in epoch_stacks:
        assert (slider.model_id, "value", stack.model_id, "selected_index") in linked
    outer = stacks[0]
    assert (pickers[0].model_id, "index", outer.model_id, "selected_index") in linked


def test_compare_epochs_needs_both_architectures(runs):
    with pytest.raises(ColorlibError, match="missing"):
        compare_epochs(runs[:3])


def test_upload_shows_colourised_images(runs):
    from colorlib.colorize import PHOTO_DECODING

    view = upload_colorizer({"horse": runs[0], "cat": runs[1]})
    upload, (decoding, own, temperature, scale), result = view.children[0], view.children[1].children, view.children[2]
    assert (decoding.value, scale.value) == (PHOTO_DECODING, "auto")  # it starts as colorlib.colorize does
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (60, 90, 3), dtype=np.uint8)).save(buf, format="PNG")
    upload.set_state(
        {
            "value": [
                {
                    "name": "mine.png",
                    "type": "image/png",
                    "size": len(buf.getvalue()),
                    "content": memoryview(buf.getvalue()),
                    "last_modified": 0,
                }
            ]
        }
    )
    assert "mine.png" in result.value and result.value.count("<img") == 4 and "working scale" in result.value
    decoding.value = "argmax"  # the toggle recolours the same upload
    assert "(argmax, working scale)" in result.value
    argmax = result.value
    decoding.value = "annealed-mean"
    assert "annealed mean, each model's own T" in result.value and result.value != argmax and temperature.disabled
    own.value = False  # the slider's T for every model instead
    assert "annealed mean, T=0.38" in result.value and not temperature.disabled
    temperature.value = 0.9
    assert "T=0.9, working scale" in result.value
    working = result.value
    scale.value = "native"  # the original way: the picture's own size
    assert "T=0.9, own size" in result.value and result.value != working
    upload.set_state(
        {"value": [{"name": "bad.png", "type": "image/png", "size": 4, "content": memoryview(b"nope"), "last_modified": 0}]}
    )
    assert "cannot read" in result.value


def test_decoding_explorer_prerenders_each_temperature(runs, monkeypatch):
    linked, real_jslink = [], W.jslink

    def recording_jslink(source, target):
        linked.append((source[0], source[1], target[0], target[1]))
        return real_jslink(source, target)  # the real one refuses traits the browser cannot sync

    monkeypatch.setattr(W, "jslink", recording_jslink)
    images = runs[2].snapshots.images[:3]
    view = decoding_explorer({"unet": runs[2]}, images, temperatures=(0.05, 0.5, 1.0))
    slider = _find(view, W.SelectionSlider)[0]
    stack = _find(view, W.Stack)[0]
    assert [label for label, _ in slider.options] == ["0.05", "0.5", "1"] and len(stack.children) == 3
    assert (slider, "index", stack, "selected_index") in linked
    frames = [child.value for child in stack.children]
    assert len(set(frames)) == 3 and "unet T=0.5" in frames[1]

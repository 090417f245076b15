import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from colorlib.data import load_cifar10
from colorlib.errors import ModelError
from colorlib.models import ModelConfig, build, load_reference_weights, num_parameters, pick_device


@pytest.mark.parametrize("arch, k, count", [("cnn", 16, 75_913), ("cnn", 32, 76_361), ("unet", 16, 95_353), ("unet", 32, 95_945)])
def test_parameter_counts_match_the_original(arch, k, count):
    assert num_parameters(build(arch, k)) == count


@pytest.mark.parametrize("arch", ["cnn", "unet"])
def test_output_shape(arch):
    model = build(arch, 24, nf=8).eval()
    assert model(torch.zeros(2, 1, 32, 48)).shape == (2, 24, 32, 48)


def test_layer_order_is_conv_bn_relu_resample_with_down_blocks_pooling_first():
    model = build("cnn", 16)
    kinds = [type(m).__name__ for m in model.down1] + [type(m).__name__ for m in model.up1]
    assert kinds == ["Conv2d", "BatchNorm2d", "MaxPool2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU", "Upsample"]
    assert model.up2[0].out_channels == 3 and model.final.in_channels == 3
    unet = build("unet", 16)
    assert (unet.up1[0].in_channels, unet.up2[0].in_channels, unet.final.in_channels) == (128, 64, 4)


def test_pooling_before_the_relu_changes_no_number():
    # The original order, Conv → BN → ReLU → pool, on the same modules: outputs and every gradient
    # must be bitwise equal, in training mode (batch statistics) and in eval mode.
    torch.manual_seed(0)
    model = build("unet", 8, nf=8)
    original = copy.deepcopy(model)
    for name in ("down1", "down2"):
        conv, bn, pool, relu = getattr(original, name)
        setattr(original, name, nn.Sequential(conv, bn, relu, pool))
    grey = torch.rand(4, 1, 32, 32)
    for train in (True, False):
        outs = []
        for net in (model, original):
            net.train(train)
            net.zero_grad()
            out = net(grey)
            (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
            outs.append((out, [p.grad.clone() for p in net.parameters()]))
        assert torch.equal(outs[0][0], outs[1][0])
        assert all(torch.equal(a, b) for a, b in zip(outs[0][1], outs[1][1], strict=True))


def test_unet_final_layer_sees_the_grey_input():
    # zero every path except the grey skip into `final`: the output must still depend on the input
    unet = build("unet", 4).eval()
    with torch.no_grad():
        unet.final.weight[:, 1:] = 0
        x = torch.rand(1, 1, 8, 8)
        assert not torch.allclose(unet(x), unet(x * 0.5))
        cnn = build("cnn", 4).eval()
        cnn.up2[0].weight.zero_()
        cnn.up2[0].bias.zero_()
        cnn.up2[1].bias.zero_()
        assert torch.allclose(cnn(x), cnn(x * 0.5))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"arch": "resnet"}, "unknown architecture"),
        ({"num_colors": 1}, "2..256"),
        ({"nf": 0}, "nf"),
    ],
)
def test_bad_model_configs(kwargs, message):
    with pytest.raises(ModelError, match=message):
        ModelConfig(**kwargs)


def test_pick_device():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(ModelError, match="unknown device"):
        pick_device("tpu9")


def test_reference_weights_of_other_shape_are_refused():
    with pytest.raises(ModelError, match="wrong architecture"):
        load_reference_weights(build("unet", 16), build("cnn", 16).state_dict())
    partial = dict(list(build("unet", 16).state_dict().items())[:-2])
    with pytest.raises(ModelError, match="another architecture"):
        load_reference_weights(build("unet", 16), partial)
    with pytest.raises(ModelError, match="shape"):
        load_reference_weights(build("unet", 16), build("unet", 32).state_dict())


def _original_preprocessing(images: np.ndarray, codebook: np.ndarray):
    """The original project's inputs, for comparison only: images scaled to [-1, 1], grey = channel mean
    divided by the batch maximum, targets = nearest codebook colour to the image in [0, 1]."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 * 2 - 1
    cb = torch.from_numpy(codebook).float()
    targets = (((x[:, None] + 1) / 2 - cb[None, :, :, None, None]) ** 2).sum(2).argmin(1)
    return x, targets


@pytest.mark.parametrize("arch, k, cls", [("cnn", 16, "horse"), ("unet", 32, "horse"), ("unet", 16, "cat"), ("cnn", 32, "cat")])
def test_original_weights_load_and_reproduce_its_scores(seed_reference, real_cifar, arch, k, cls):
    from colorlib.metrics import image_scores
    from colorlib.palette import Palette
    from colorlib.pretrained import ORIGINAL_SCORES

    ce, acc, delta_e = ORIGINAL_SCORES[arch, cls, k]
    state = torch.load(seed_reference / "checkpoints" / f"{arch}_{k}_{cls}_e199.pt", weights_only=True)
    model = load_reference_weights(build(arch, k), state).eval()
    palette_file = seed_reference / "palettes" / f"colour_kmeans{k}_cat7.npy"
    codebook = np.load(palette_file, allow_pickle=True, encoding="bytes")[0]
    images = load_cifar10(cls, "test", root=real_cifar).images
    x, targets = _original_preprocessing(images, codebook)
    ces, accs, predicted = [], [], []
    with torch.no_grad():
        for i in range(0, len(x), 100):
            batch = x[i : i + 100]
            logits = model((batch / batch.max()).mean(1, keepdim=True))
            ces.append(F.cross_entropy(logits, targets[i : i + 100]).item())
            accs.append((logits.argmax(1) == targets[i : i + 100]).float().mean().item())
            predicted.append(logits.argmax(1))
    assert np.mean(ces) == pytest.approx(ce, abs=2e-3)
    assert np.mean(accs) == pytest.approx(acc, abs=2e-3)
    decoded = Palette.load(palette_file).decode(torch.cat(predicted))  # its own palette's colours
    assert image_scores(decoded, images)["delta_e"] == pytest.approx(delta_e, abs=6e-3)


def test_all_reference_checkpoints_load(seed_reference):
    for path in sorted((seed_reference / "checkpoints").glob("*_e199.pt")):
        arch, k = path.name.split("_")[:2]
        load_reference_weights(build(arch, int(k)), torch.load(path, weights_only=True))


def test_summary_lists_every_block_with_shapes_and_parameters():
    from colorlib.models import summary

    model = build("unet", 32)
    rows = summary(model)
    assert [r[0] for r in rows] == ["down1", "down2", "refactor", "up1", "up2", "final"]
    assert [r[2] for r in rows] == [
        (1, 32, 16, 16),
        (1, 64, 8, 8),
        (1, 64, 8, 8),
        (1, 32, 16, 16),
        (1, 3, 32, 32),
        (1, 32, 32, 32),
    ]
    assert sum(r[3] for r in rows) == num_parameters(model) == 95_945
    assert rows[0][1] == "Conv2d → BatchNorm2d → MaxPool2d → ReLU"


# By hand from the CNN's 76,361 (K=32): the down2 skip adds 3·3·64·32 = 18,432 weights to up1, the
# down1 skip 3·3·32·3 = 864 to up2, the grey skip 3·3·1·32 = 288 to the final conv.
@pytest.mark.parametrize(
    "skips, ins, count",
    [
        ("all", (128, 64, 4), 76_361 + 18_432 + 864 + 288),
        ("none", (64, 32, 3), 76_361),
        ("down1,grey", (64, 64, 4), 76_361 + 864 + 288),
        ("down2", (128, 32, 3), 76_361 + 18_432),
        ("grey", (64, 32, 4), 76_361 + 288),
        ("grey,down2", (128, 32, 4), 76_361 + 18_432 + 288),
    ],
)
def test_skip_subsets_widen_exactly_the_layers_they_feed(skips, ins, count):
    unet = build("unet", 32, skips=skips).eval()
    assert (unet.up1[0].in_channels, unet.up2[0].in_channels, unet.final.in_channels) == ins
    assert num_parameters(unet) == count
    assert unet(torch.zeros(2, 1, 16, 24)).shape == (2, 32, 16, 24)


def test_a_unet_without_skips_is_the_cnn_and_skips_are_named_canonically():
    torch.manual_seed(5)
    cnn = build("cnn", 16)
    torch.manual_seed(5)
    bare = build("unet", 16, skips="none")
    for (name, a), (_, b) in zip(cnn.state_dict().items(), bare.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    assert ModelConfig("unet", skips="grey, down1").skips == ("down1", "grey")
    assert ModelConfig("unet", skips=["all"]).skips == ("down2", "down1", "grey") == ModelConfig("unet").skips
    assert ModelConfig("cnn").skips == () and ModelConfig("unet", skips="none").to_dict()["skips"] == []
    with pytest.raises(ModelError, match="unknown skip 'up3'"):
        ModelConfig("unet", skips="down1,up3")
    with pytest.raises(ModelError, match="cnn has no skip"):
        ModelConfig("cnn", skips="grey")


def test_regression_head_outputs_three_colour_channels():
    for arch in ("cnn", "unet"):
        model = build(arch, 32, nf=8, objective="regress").eval()
        assert model.config.out_channels == 3 and model(torch.zeros(1, 1, 8, 8)).shape == (1, 3, 8, 8)
    assert num_parameters(build("unet", 32, objective="regress")) == 95_945 - 29 * (3 * 3 * 4 + 1)  # 29 fewer filters
    with pytest.raises(ModelError, match="unknown objective"):
        ModelConfig(objective="gan")

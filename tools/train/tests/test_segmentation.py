"""Lateral inhibition (LI-Convs) and the segmentation task: the layer is the depthwise convolution the ONNX
export carries, W_c stays in [0, 1], W_c = 0 is the identity, and the shared trainer learns the task."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from torch import nn

from glance_train.checkpoint import load_checkpoint
from glance_train.config import Experiment
from glance_train.export import export_checkpoint
from glance_train.seg.lateral_inhibition import LateralInhibition, frozen, lateral_inhibition_reference
from glance_train.seg.model import SegNet, SegNetConfig
from glance_train.train import run
from glance_train.trainer import _project_constraints

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[3]
HAVE_NODE = (REPO / "node_modules" / ".bin" / "tsx").exists()

TINY_SEG: dict[str, Any] = {
    "model": "segmentation",
    "version": "0.0.1-test",
    "seed": 5,
    "model_config": {"width": 64, "height": 48, "li": "both", "channels": [8, 12, 16, 24], "neck": 32,
                     "aspp": 16, "low": 8, "decoder": 16},
    "data": {"seed": 700, "train_size": 64, "val_size": 16, "test_size": 16},
    "train": {"epochs": 4, "batch_size": 8, "lr": 0.01, "patience": 10, "threads": 1},
}


def test_exported_depthwise_kernel_reproduces_the_layer(tmp_path: Path) -> None:
    torch.manual_seed(0)
    layer = LateralInhibition(5)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([0.0, 0.1, 0.4, 0.8, 1.0]))
    x = torch.randn(2, 5, 9, 11).relu()
    path = tmp_path / "li.onnx"
    torch.onnx.export(frozen(layer).eval(), (x,), str(path), opset_version=17, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "y": {0: "n", 2: "h", 3: "w"}})
    graph = onnx.load(str(path)).graph
    ops = [n.op_type for n in graph.node]
    assert ops == ["Conv", "Relu"], f"LI should export as one depthwise Conv and a Relu, got {ops}"
    conv = graph.node[0]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in conv.attribute}
    assert attrs["group"] == 5 and list(attrs["kernel_shape"]) == [3, 3]
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    kernel = torch.from_numpy(np.array(weights[conv.input[1]]))
    assert kernel.shape == (5, 1, 3, 3)
    # The exported kernel, run as a plain depthwise convolution, gives the formula written out by hand.
    for shape in [(9, 11), (4, 6)]:
        z = torch.randn(2, 5, *shape)
        exported = F.relu(F.conv2d(z, kernel, padding=1, groups=5))
        expected = lateral_inhibition_reference(z, layer.weight)
        assert torch.allclose(exported, expected, atol=1e-6)
        assert torch.allclose(layer(z), expected, atol=1e-6)
    # centre 1, direct neighbours -W·e^-0.5, diagonal ones -W·e^-1
    assert kernel[3, 0, 1, 1] == 1.0
    assert kernel[3, 0, 0, 1] == pytest.approx(-0.8 * np.exp(-0.5), abs=1e-6)
    assert kernel[3, 0, 0, 0] == pytest.approx(-0.8 * np.exp(-1.0), abs=1e-6)


def test_weight_is_clipped_to_the_unit_interval() -> None:
    layer = LateralInhibition(4)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([-0.5, 0.3, 1.7, 1.0]))
    k = layer.kernel()
    g = np.exp(-0.5)
    assert k[:, 0, 0, 1].tolist() == pytest.approx([0.0, -0.3 * g, -1.0 * g, -1.0 * g], abs=1e-6)
    # An optimiser step that pushes W_c out of [0, 1] is projected back, as the trainer does after each step.
    opt = torch.optim.SGD(layer.parameters(), lr=100.0)
    x = torch.rand(1, 4, 6, 6)
    for sign in (1.0, -1.0):
        opt.zero_grad()
        (sign * layer(x).sum()).backward()
        opt.step()
        _project_constraints(layer)
        assert float(layer.weight.min()) >= 0.0 and float(layer.weight.max()) <= 1.0
    assert {0.0, 1.0} & set(layer.weight.tolist())  # the big step really hit a bound


def test_zero_weight_is_the_identity() -> None:
    layer = LateralInhibition(3, init_max=0.0)
    assert layer.weight.abs().sum() == 0
    x = torch.rand(2, 3, 7, 5)
    assert torch.equal(layer(x), x)
    # In the network, every LI layer sits after a non-negative activation: with W_c = 0 the LI network is
    # exactly the same function as the network with the LI layers taken out.
    torch.manual_seed(1)
    net = SegNet(SegNetConfig(width=64, height=48, li="both", li_init=0.0)).eval()
    stripped = copy.deepcopy(net)
    count = 0
    for parent in stripped.modules():
        for name, child in parent.named_children():
            if isinstance(child, LateralInhibition):
                setattr(parent, name, nn.Identity())
                count += 1
    assert count == len(SegNetConfig().rates) + 3  # one per atrous branch, one per backbone stage
    image = torch.rand(2, 3, 48, 64)
    with torch.no_grad():
        assert torch.allclose(net(image), stripped(image), atol=1e-6)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("segrun")
    return out, run(Experiment.from_dict(TINY_SEG), out, cache_dir, jobs=1, quiet=True)


def test_trainer_lowers_the_loss_and_keeps_w_in_range(tiny_run: tuple[Path, dict[str, Any]]) -> None:
    out, record = tiny_run
    history = record["history"]
    assert history[-1]["train_loss"] < 0.7 * history[0]["train_loss"]
    assert 0.0 <= record["test"]["test_miou"] <= 1.0 and "test_boundary_f2" in record["test"]
    ckpt = load_checkpoint(out / "best.pt")
    net = SegNet(SegNetConfig(**TINY_SEG["model_config"]))
    names = [f"{n}.weight" for n, m in net.named_modules() if isinstance(m, LateralInhibition)]
    ws = [ckpt["state_dict"][n] for n in names]
    assert len(ws) == 6
    assert all(float(w.min()) >= 0.0 and float(w.max()) <= 1.0 for w in ws)


@pytest.mark.skipif(not HAVE_NODE, reason="parity runs in onnxruntime-node (npm ci)")
def test_export_has_symbolic_size_and_passes_parity(tiny_run: tuple[Path, dict[str, Any]], tmp_path: Path
                                                    ) -> None:
    out, _ = tiny_run
    manifest = export_checkpoint(out / "best.pt", tmp_path / "model")
    assert manifest["inputs"][0]["shape"] == ["batch", 3, "height", "width"]
    assert manifest["labels"]["logits"][0] == "background"
    proto = onnx.load(str(tmp_path / "model" / "model.onnx"))
    dims = [d.dim_param for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", "", "height", "width"]
    ops = [n.op_type for n in proto.graph.node]
    assert "Sub" not in ops  # W_c → kernel is folded: each LI layer is a constant depthwise Conv + Relu
    depthwise_3x3 = [n for n in proto.graph.node if n.op_type == "Conv" and _attr(n, "group") > 1]
    assert len(depthwise_3x3) >= 6


def _attr(node: onnx.NodeProto, name: str) -> int:
    return next((int(onnx.helper.get_attribute_value(a)) for a in node.attribute if a.name == name), 1)

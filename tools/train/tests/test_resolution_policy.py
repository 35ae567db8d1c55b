"""The adaptive-resolution policy as exported, on the held-out sequences it was judged on: it keeps full-scale
quality within one point of mIoU and spends less compute than any fixed scale of equal quality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from glance_train.seg.resolution_policy import ACTIONS, REUSE, ResolutionPolicy, rollout
from glance_train.seg.traces import frame_miou, load_traces

REPO = Path(__file__).resolve().parents[3]
POLICY = REPO / "models/zoo/resolution-policy/1.0.0/model.onnx"
TRACES = REPO / "tools/train/reports/segmentation/heldout-traces.npz"


def policy_from_onnx(path: Path) -> ResolutionPolicy:
    """The exported MLP's weights back in the PyTorch module (the graph is Gemm → Tanh → Gemm)."""
    graph = onnx.load(str(path)).graph
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    gemms = [n for n in graph.node if n.op_type == "Gemm"]
    assert [n.op_type for n in graph.node] == ["Gemm", "Tanh", "Gemm"]
    policy = ResolutionPolicy()
    layers = [policy.net[0], policy.net[2]]
    for node, layer in zip(gemms, layers, strict=True):
        trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
        w = weights[node.input[1]]
        layer.weight.data = w if trans_b else w.T.contiguous()
        layer.bias.data = weights[node.input[2]]
    return policy.eval()


def test_frame_miou_counts_the_classes_present() -> None:
    truth = np.array([[0, 0, 1, 1]])
    assert frame_miou(truth, truth) == 1.0
    assert frame_miou(np.array([[0, 0, 0, 1]]), truth) == pytest.approx((2 / 3 + 1 / 2) / 2)


@pytest.mark.skipif(not POLICY.exists() or not TRACES.exists(), reason="no exported policy / held-out traces")
def test_policy_keeps_full_scale_quality_for_less_compute() -> None:
    traces, costs_ms = load_traces(str(TRACES))
    rel = costs_ms / costs_ms[0]
    policy = policy_from_onnx(POLICY)
    runs = [rollout(policy, tr, rel, battery=1.0) for tr in traces]
    quality = float(np.mean([r.quality for r in runs]))
    cost = float(np.mean([r.cost for r in runs]))
    fixed = {a: [rollout(None, tr, rel, 1.0, fixed=a) for tr in traces] for a in range(4)}
    fixed_q = {a: float(np.mean([r.quality for r in rs])) for a, rs in fixed.items()}
    fixed_c = {a: float(np.mean([r.cost for r in rs])) for a, rs in fixed.items()}
    assert quality >= fixed_q[0] - 0.01, f"policy mIoU {quality:.4f} vs full scale {fixed_q[0]:.4f}"
    for a in range(4):
        if fixed_q[a] >= quality:
            assert cost < fixed_c[a], f"{ACTIONS[a]} reaches {fixed_q[a]:.4f} for {fixed_c[a]:.3f} ≤ {cost:.3f}"
    acts = np.concatenate([r.actions for r in runs])
    assert 0.0 < float((acts == REUSE).mean()) < 1.0  # it does decide: neither always reuse nor never


@pytest.mark.skipif(not POLICY.exists() or not TRACES.exists(), reason="no exported policy / held-out traces")
def test_a_drained_battery_costs_no_more_compute() -> None:
    traces, costs_ms = load_traces(str(TRACES))
    rel = costs_ms / costs_ms[0]
    policy = policy_from_onnx(POLICY)
    full = np.mean([rollout(policy, tr, rel, battery=1.0).cost for tr in traces])
    low = np.mean([rollout(policy, tr, rel, battery=0.2).cost for tr in traces])
    assert low <= full + 1e-9

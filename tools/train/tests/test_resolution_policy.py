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


# --- resolution-policy 1.1.0: network traces, reuse by flow, onnxruntime costs (glance_train.seg.adaptive_flow) ---
# It was trained on segmentation@1.0.0's traces; the committed held-out traces are segmentation@1.1.0's, the network
# the daemon serves. A 1.2.0 retrained on them was not published (tools/train/reports/resolution-policy-1.2.0.json).

POLICY_11 = REPO / "models/zoo/resolution-policy/1.1.0/model.onnx"
NET_TRACES = REPO / "tools/train/reports/keyframe/heldout-net-traces.npz"


@pytest.fixture(scope="module")
def flow_traces() -> tuple[list, list, np.ndarray]:
    if not POLICY_11.exists() or not NET_TRACES.exists():
        pytest.skip("no resolution-policy 1.1.0 / held-out network traces")
    from glance_train.keyframe.net_traces import load_npz
    from glance_train.seg.flow_traces import from_net_trace, measured_costs

    net = load_npz(NET_TRACES)
    costs = measured_costs(net)
    return [from_net_trace(t, "truth") for t in net], [from_net_trace(t, "reference") for t in net], costs / costs[0]


def test_reuse_by_flow_reads_the_warped_quality_of_the_key() -> None:
    from glance_train.keyframe.net_traces import NetTrace
    from glance_train.seg.flow_traces import from_net_trace

    n, k = 12, 10
    warp = np.full((n, k, 4), np.nan, np.float32)
    for t in range(n):
        for a in range(min(t, k)):
            warp[t, a] = 0.9 - 0.01 * a + 0.001 * t
    nt = NetTrace("toy", np.zeros((n, k, 6), np.float32), warp, warp, np.ones((n, 4), np.float32),
                  np.ones((n, 4), np.float32), np.ones((n, 4), np.float32), np.ones(4, np.float32),
                  np.zeros((n, 30, 40), np.float32))
    tr = from_net_trace(nt, "truth")
    # the map of frame 2 reused on frame 5 (age 3) is what the trace measured for frame 5 with its key 3 back
    assert tr.reuse[2, 0, 2] == pytest.approx(warp[5, 2, 0])
    assert np.isnan(tr.reuse[n - 1, 0, 0])


def _judge(traces: list, rel: np.ndarray) -> tuple[dict, dict, dict]:
    from glance_train.seg.adaptive_flow import same_compute_interval

    policy = policy_from_onnx(POLICY_11)
    runs = [rollout(policy, tr, rel, battery=1.0) for tr in traces]
    mine = {"quality": float(np.mean([r.quality for r in runs])), "cost": float(np.mean([r.cost for r in runs]))}
    fixed = {a: {"quality": float(np.mean([rollout(None, tr, rel, 1.0, fixed=a).quality for tr in traces])),
                 "cost": float(np.mean([rollout(None, tr, rel, 1.0, fixed=a).cost for tr in traces]))}
             for a in range(4)}
    return mine, fixed, same_compute_interval(traces, rel, mine["cost"])


def test_flow_policy_keeps_full_scale_quality_for_less_compute(flow_traces: tuple[list, list, np.ndarray]) -> None:
    """The issue's claim, mIoU against the masks: within a point of full scale on every frame, and less compute
    than any fixed scale of equal quality (measured with segmentation@1.1.0: 0.7780 vs 0.7777 at 0.510 of the
    compute, never a lower scale: 3/4 scores 0.6948)."""
    truth, _ref, rel = flow_traces
    mine, fixed, _same = _judge(truth, rel)
    assert mine["quality"] >= fixed[0]["quality"] - 0.01
    for a in range(4):
        if fixed[a]["quality"] >= mine["quality"] - 0.01:
            assert mine["cost"] < fixed[a]["cost"], f"{ACTIONS[a]}: {fixed[a]} vs {mine}"


def test_flow_policy_is_no_worse_than_a_fixed_interval_at_its_compute(flow_traces: tuple[list, list, np.ndarray]
                                                                       ) -> None:
    """Against segmenting every n-th frame at full scale and warping in between, at the same compute (1.0.0 lost
    this one): measured with segmentation@1.1.0 +0.03 points against the masks, +0.04 against the network's
    every-frame output — a
    margin too small to call a win, so the test asserts only that the policy is not worse."""
    truth, ref, rel = flow_traces
    for traces in (truth, ref):
        mine, _fixed, same = _judge(traces, rel)
        assert mine["quality"] >= same["quality"] - 1e-9, f"policy {mine} vs fixed interval {same}"


@pytest.mark.xfail(strict=True, reason="against the network's own full-scale output on every frame the policy "
                   "agrees 0.961 (−3.9 points) at 0.510 of the compute: any reuse by flow costs points of "
                   "agreement (age 1 already 0.92), so 'within a point' holds only against the masks")
def test_flow_policy_within_a_point_of_the_every_frame_network(flow_traces: tuple[list, list, np.ndarray]) -> None:
    _truth, ref, rel = flow_traces
    mine, fixed, _same = _judge(ref, rel)
    assert mine["quality"] >= fixed[0]["quality"] - 0.01

"""The key scheduler judged the papers' way, with the zoo segmentation network in the loop: the zoo policy
(keyframe 1.0.0; the 1.1.0 retrained on these traces lost on validation and was not published) on the committed
held-out traces (seeds 3000-3007, never used for training or choosing anything), against every frame at full
scale and a fixed key interval with the same keys per sequence, under both quality measures: mIoU against the
masks, and agreement with the network's full-scale output on every frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from glance_train.keyframe import sequences
from glance_train.keyframe.baselines import fixed_rate
from glance_train.keyframe.dqn import greedy
from glance_train.keyframe.env import evaluate
from glance_train.keyframe.net_traces import load_npz, parse, read_grey40
from glance_train.keyframe.policy import KeyframePolicy, KeyframePolicyConfig
from glance_train.keyframe.train import as_trace

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[3]
POLICY = REPO / "models/zoo/keyframe/1.0.0/model.onnx"
TRACES = REPO / "tools/train/reports/keyframe/heldout-net-traces.npz"
K = 10


def policy_from_onnx(path: Path) -> KeyframePolicy:
    """The exported graph (Sub mean → Div std → Gemm/Relu ×2 → Gemm) back in the PyTorch module."""
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in onnx.load(str(path)).graph.initializer}
    policy = KeyframePolicy(KeyframePolicyConfig())
    policy.load_state_dict(weights)
    return policy.eval()


def test_network_traces_come_from_onnxruntime_and_the_device_flow(tmp_path: Path) -> None:
    from glance_train.keyframe.net_traces import _one

    d = tmp_path / "cache"
    seq, seq_dir = _one(d, 42, 3, 2)
    tr = parse(seq, 2, read_grey40(seq_dir, 3))
    assert tr.key_ref.shape == (3, 4) and tr.warp_truth.shape == (3, 2, 4)
    assert np.allclose(tr.key_ref[:, 0], 1.0)  # the reference is the full-scale map itself
    assert np.isnan(tr.warp_ref[0]).all() and not np.isnan(tr.warp_ref[2, 1]).any()
    assert (tr.ms[0] > tr.ms[3]) and 0.3 < tr.confidence.min() <= tr.confidence.max() <= 1.0
    assert (seq_dir / "bgr-s50.u8").stat().st_size == 3 * 80 * 60 * 3
    assert sequences.FEATURE_SIDE == (40, 30)


@pytest.fixture(scope="module")
def held_out() -> list:
    if not TRACES.exists() or not POLICY.exists():
        pytest.skip("no held-out network traces / keyframe model")
    return load_npz(TRACES)


def _compare(held_out: list, quality: str) -> tuple[dict[str, float], dict[str, float]]:
    trs = [as_trace(t, quality) for t in held_out]
    rl = evaluate(trs, K, greedy(policy_from_onnx(POLICY)))
    n = trs[0].frames
    fixed = evaluate(trs, K, fixed_rate((rl["keyRate"] * n - 1) / (n - 1)))
    return rl, fixed


def test_saves_sixty_percent_within_a_point_of_every_frame(held_out: list) -> None:
    """Measured: 84.8% of segmentation runs saved, mIoU 0.5766 against 0.5768 for every frame (masks)."""
    rl, _fixed = _compare(held_out, "truth")
    every = float(np.mean([t.key_truth[:, 0].mean() for t in held_out]))
    assert 1 - rl["keyRate"] >= 0.6
    assert 100 * (every - rl["miou"]) <= 1.0


def test_beats_a_fixed_interval_at_its_key_rate_against_the_masks(held_out: list) -> None:
    """Measured 0.5766 vs 0.5745 (+0.21 points) on this split; on validation +0.03: a small edge, not a reliable one."""
    rl, fixed = _compare(held_out, "truth")
    assert rl["miou"] > fixed["miou"]


@pytest.mark.xfail(strict=True, reason="against the every-frame network's output the RL schedule agrees 0.8295 vs "
                   "0.8314 for the fixed interval with the same keys (on validation +0.79 points): no reliable win")
def test_beats_a_fixed_interval_at_its_key_rate_against_the_reference(held_out: list) -> None:
    rl, fixed = _compare(held_out, "reference")
    assert rl["miou"] > fixed["miou"]


@pytest.mark.xfail(strict=True, reason="agreement with the every-frame network is 0.8295 (−17 points): flow "
                   "propagation agrees only 0.84 with a fresh network run one frame later (validation)")
def test_within_a_point_of_the_every_frame_network(held_out: list) -> None:
    rl, _fixed = _compare(held_out, "reference")
    assert 100 * (1 - rl["miou"]) <= 1.0

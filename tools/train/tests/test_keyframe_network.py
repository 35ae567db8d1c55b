"""The key scheduler judged the papers' way, with the zoo segmentation network in the loop: the zoo policy
(keyframe 1.0.0; the 1.1.0 retrained on the segmentation@1.0.0 traces lost on validation and was not published) on
the committed held-out traces, made with the segmentation network the daemon serves (segmentation@1.1.0) (seeds 3000-3007, never used for training or choosing anything), against every frame at full
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


def test_traces_use_the_segmentation_network_the_daemon_serves() -> None:
    """The stage serves the zoo's newest segmentation version; the committed traces must come from that network."""
    from glance_train.keyframe.net_traces import SEGMENTATION_VERSION, network_id, npz_network

    newest = max((p.name for p in (REPO / "models/zoo/segmentation").iterdir() if p.is_dir()),
                 key=lambda v: tuple(int(x) for x in v.split(".")))
    assert SEGMENTATION_VERSION == newest
    ts = (REPO / "tools/keyframe/segmenter.ts").read_text()
    assert f"POLICY_SEGMENTATION_VERSION = '{newest}'" in ts
    if TRACES.exists():
        assert npz_network(TRACES) == network_id()


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


@pytest.mark.xfail(strict=True, reason="with segmentation@1.1.0 (0.778 mIoU every frame) keyframe@1.0.0 saves 84.8% "
                   "of the runs but scores 0.7611: 1.66 points lost (with 1.0.0, a weak flickering network, 0.02); "
                   "a better network makes propagation's loss visible against the masks")
def test_saves_sixty_percent_within_a_point_of_every_frame(held_out: list) -> None:
    rl, _fixed = _compare(held_out, "truth")
    every = float(np.mean([t.key_truth[:, 0].mean() for t in held_out]))
    assert 1 - rl["keyRate"] >= 0.6
    assert 100 * (every - rl["miou"]) <= 1.0


def test_beats_a_fixed_interval_at_its_key_rate_against_the_masks(held_out: list) -> None:
    """Measured with segmentation@1.1.0: 0.7611 vs 0.7609 (+0.02 points) on this split (key rate 0.152 vs 0.146):
    level, not a reliable edge."""
    rl, fixed = _compare(held_out, "truth")
    assert rl["miou"] > fixed["miou"]


def test_beats_a_fixed_interval_at_its_key_rate_against_the_reference(held_out: list) -> None:
    """Measured with segmentation@1.1.0: agreement 0.8764 vs 0.8732 (+0.32 points) on this split; with 1.0.0 it
    was −0.19 here and +0.79 on validation: the sign follows the network and the split, the margin is small."""
    rl, fixed = _compare(held_out, "reference")
    assert rl["miou"] > fixed["miou"]


@pytest.mark.xfail(strict=True, reason="agreement with the every-frame network is 0.876 (−12 points): flow "
                   "propagation agrees only 0.92 with a fresh network run one frame later (segmentation@1.1.0)")
def test_within_a_point_of_the_every_frame_network(held_out: list) -> None:
    rl, _fixed = _compare(held_out, "reference")
    assert 100 * (1 - rl["miou"]) <= 1.0

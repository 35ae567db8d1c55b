"""The key scheduler judged the papers' way, with the zoo segmentation network in the loop: the served policy
(keyframe@1.2.0, trained on traces of eyewear head motion with segmentation@1.1.0; 1.0.0 was trained on the
original drift-turns sequences with the masks as key results) on the committed held-out traces of both head-motion
profiles, made with the segmentation network the daemon serves (segmentation@1.1.0) (seeds 3000-3007, never used
for training or choosing anything), against every frame at full scale and a fixed key interval with the same keys
per sequence, under both quality measures: mIoU against the masks, and agreement with the network's full-scale
output on every frame. "Beats" means higher under both measures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from glance_train.keyframe import sequences
from glance_train.keyframe.baselines import fixed_rate
from glance_train.keyframe.dqn import greedy
from glance_train.keyframe.env import evaluate
from glance_train.keyframe.net_traces import NetTrace, load_npz, parse, read_grey40
from glance_train.keyframe.policy import policy_from_onnx
from glance_train.keyframe.train import as_trace

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[3]
ZOO = REPO / "models/zoo/keyframe"
SERVED = ZOO / "1.2.0/model.onnx"
FIRST = ZOO / "1.0.0/model.onnx"
REPORTS = REPO / "tools/train/reports/keyframe"
TRACES = {"drift-turns": REPORTS / "heldout-net-traces.npz", "eyewear": REPORTS / "heldout-net-traces-eyewear.npz"}
K = 10


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


def test_the_served_policy_is_the_newest_in_the_zoo() -> None:
    newest = max((p.name for p in ZOO.iterdir() if p.is_dir()), key=lambda v: tuple(int(x) for x in v.split(".")))
    assert SERVED.parent.name == newest


def test_traces_use_the_segmentation_network_the_daemon_serves() -> None:
    """The stage serves the zoo's newest segmentation version; the committed traces must come from that network."""
    from glance_train.keyframe.net_traces import SEGMENTATION_VERSION, network_id, npz_network

    newest = max((p.name for p in (REPO / "models/zoo/segmentation").iterdir() if p.is_dir()),
                 key=lambda v: tuple(int(x) for x in v.split(".")))
    assert SEGMENTATION_VERSION == newest
    ts = (REPO / "tools/keyframe/segmenter.ts").read_text()
    assert f"POLICY_SEGMENTATION_VERSION = '{newest}'" in ts
    for path in TRACES.values():
        if path.exists():
            assert npz_network(path) == network_id()


def _load(profile: str) -> list[NetTrace]:
    if not TRACES[profile].exists() or not SERVED.exists():
        pytest.skip(f"no held-out network traces ({profile}) / keyframe model")
    return load_npz(TRACES[profile])


@pytest.fixture(scope="module")
def drift() -> list[NetTrace]:
    return _load("drift-turns")


@pytest.fixture(scope="module")
def eyewear() -> list[NetTrace]:
    return _load("eyewear")


def _compare(held_out: list[NetTrace], quality: str, policy: Path = SERVED) -> tuple[dict[str, float], dict[str, float]]:
    trs = [as_trace(t, quality) for t in held_out]
    rl = evaluate(trs, K, greedy(policy_from_onnx(policy)))
    n = trs[0].frames
    fixed = evaluate(trs, K, fixed_rate((rl["keyRate"] * n - 1) / (n - 1)))
    return rl, fixed


def _saves_sixty_within_a_point(held_out: list[NetTrace]) -> None:
    rl, _fixed = _compare(held_out, "truth")
    every = float(np.mean([t.key_truth[:, 0].mean() for t in held_out]))
    assert 1 - rl["keyRate"] >= 0.6
    assert 100 * (every - rl["miou"]) <= 1.0


def _gains(held_out: list[NetTrace], policy: Path = SERVED) -> tuple[float, float]:
    """Points gained over the fixed interval with the same keys: (masks, agreement)."""
    (rl_t, fx_t), (rl_r, fx_r) = _compare(held_out, "truth", policy), _compare(held_out, "reference", policy)
    assert abs(rl_t["keyRate"] - fx_t["keyRate"]) <= 1.5 / held_out[0].frames
    return 100 * (rl_t["miou"] - fx_t["miou"]), 100 * (rl_r["miou"] - fx_r["miou"])


# --- eyewear head motion (the served policy's training distribution; still / pursuit / head-turn segments) ---


def test_eyewear_saves_sixty_percent_within_a_point_of_every_frame(eyewear: list[NetTrace]) -> None:
    """Measured: 68.6% of the runs saved, 0.7257 against 0.7283 every frame at full scale (0.26 points lost)."""
    _saves_sixty_within_a_point(eyewear)


def test_eyewear_beats_a_fixed_interval_at_its_key_rate_by_half_a_point(eyewear: list[NetTrace]) -> None:
    """Measured: +1.68 points against the masks (0.7257 vs 0.7089), +1.32 agreement (0.9050 vs 0.8918), key rate
    0.314 vs 0.313; validation (chosen there) +1.60 / +1.48. Half a point is beyond the swings seen between splits
    for a policy that is level with the fixed interval (−0.6 to +0.8 on the drift-turns profile)."""
    masks, agreement = _gains(eyewear)
    assert masks > 0.5 and agreement > 0.5


def test_eyewear_even_the_first_policy_beats_a_fixed_interval(eyewear: list[NetTrace]) -> None:
    """keyframe@1.0.0, never trained on eyewear motion: +1.45 / +1.16 points, but 2.14 points below every frame. The
    head motion, not the retraining, is what gives an adaptive scheduler its edge."""
    masks, agreement = _gains(eyewear, FIRST)
    assert masks > 0.5 and agreement > 0.5


@pytest.mark.xfail(strict=True, reason="agreement with the every-frame network is 0.905 (−9.5 points) on the eyewear "
                   "split: propagation by flow agrees only 0.88 with a fresh network run one frame later")
def test_eyewear_within_a_point_of_the_every_frame_network(eyewear: list[NetTrace]) -> None:
    rl, _fixed = _compare(eyewear, "reference")
    assert 100 * (1 - rl["miou"]) <= 1.0


# --- the original drift-turns profile (small, slow head turns: the sequences of docs/schedulers.md section 4) ---


def test_drift_turns_saves_sixty_percent_within_a_point_of_every_frame(drift: list[NetTrace]) -> None:
    """Measured with keyframe@1.2.0: 78.9% saved, 0.7697 against 0.7777 (0.80 points lost); keyframe@1.0.0 lost 1.66."""
    _saves_sixty_within_a_point(drift)


@pytest.mark.xfail(strict=True, reason="keyframe@1.2.0 on the drift-turns held-out split: 0.7697 vs 0.7727 against the "
                   "masks (−0.30 points), agreement 0.9032 vs 0.9030 (+0.02) at key rate 0.211; validation −0.17 / "
                   "−0.31 (keyframe@1.0.0: +0.02 / +0.33). With small slow head turns a fixed interval is as good")
def test_drift_turns_beats_a_fixed_interval_at_its_key_rate(drift: list[NetTrace]) -> None:
    masks, agreement = _gains(drift)
    assert masks > 0 and agreement > 0


@pytest.mark.xfail(strict=True, reason="agreement with the every-frame network is 0.903 (−9.7 points) on the "
                   "drift-turns split (keyframe@1.0.0: 0.876)")
def test_drift_turns_within_a_point_of_the_every_frame_network(drift: list[NetTrace]) -> None:
    rl, _fixed = _compare(drift, "reference")
    assert 100 * (1 - rl["miou"]) <= 1.0

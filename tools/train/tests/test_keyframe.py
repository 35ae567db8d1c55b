"""The key-scheduler toolchain: sequences with masks, traces by the device's TypeScript, the replayed episodes,
the baselines, and a DQN that learns to key when propagation would fail."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from glance_train.keyframe import sequences
from glance_train.keyframe.baselines import fixed_rate, threshold, threshold_for_rate
from glance_train.keyframe.dqn import DqnConfig, greedy, train_dqn
from glance_train.keyframe.env import evaluate, run_episode
from glance_train.keyframe.policy import STATE_FEATURES, KeyframePolicy, KeyframePolicyConfig
from glance_train.keyframe.traces import REPO_ROOT, Trace, _trace_chunk, read_traces
from glance_train.tasks import get_task

torch.set_num_threads(1)


def toy_trace(n: int, k: int, cuts: list[int], name: str = "toy") -> Trace:
    """A scene that changes completely at each frame in ``cuts``: propagating across a cut scores 0.2, otherwise
    0.99; the residual feature says so (30 across a cut, 2 otherwise)."""
    dev = np.full((n, k, 6), np.nan, np.float32)
    miou = np.full((n, k), np.nan, np.float32)
    for t in range(n):
        for age in range(1, k + 1):
            key = t - age
            if key < 0:
                continue
            crossed = any(key < c <= t for c in cuts)
            dev[t, age - 1] = [10.0, 30.0 if crossed else 2.0, 0.5 if crossed else 0.0, 1.0, 0.5, 0.0]
            miou[t, age - 1] = 0.2 if crossed else 0.99
    return Trace(name, dev, miou)


def test_a_sequence_has_frames_and_class_masks_that_move(tmp_path: Path) -> None:
    meta = sequences.write_sequence(tmp_path / "s", seed=42, frames=4)
    w, h, lw, lh = meta["width"], meta["height"], meta["labelWidth"], meta["labelHeight"]
    assert (w, h, lw, lh) == (160, 120, 320, 240)
    frames = np.fromfile(tmp_path / "s" / "frames.u8", np.uint8).reshape(4, h, w)
    labels = np.fromfile(tmp_path / "s" / "labels.u8", np.uint8).reshape(4, lh, lw)
    assert frames.std() > 10  # textured, not blank
    present = set(np.unique(labels)) - {0}
    assert present and max(present) < len(meta["classes"])
    assert not np.array_equal(frames[0], frames[3])  # objects and head move


def test_traces_come_from_the_device_code(tmp_path: Path) -> None:
    d = tmp_path / "seq-00042"
    sequences.write_sequence(d, seed=42, frames=3)
    out = tmp_path / "t.json"
    _trace_chunk([d], 2, out)
    (tr,) = read_traces(out, 2)
    assert tr.deviation.shape == (3, 2, 6) and tr.miou.shape == (3, 2)
    assert np.isnan(tr.miou[0]).all() and np.isnan(tr.miou[1, 1])  # no key before frame 0
    assert 0.3 < tr.miou[1, 0] <= 1.0 and 0.3 < tr.miou[2, 1] <= 1.0
    assert json.loads(out.read_text())["fields"][1] == "residual"
    assert (REPO_ROOT / "pipelines/schedulers/deviation.ts").exists()


def test_episodes_force_a_key_after_the_longest_interval() -> None:
    tr = toy_trace(30, 5, cuts=[])
    ep = run_episode(tr, 5, lambda _s, _t, _a: False)
    assert [i for i, key in enumerate(ep.keys) if key] == [0, 6, 12, 18, 24]
    assert ep.miou == pytest.approx((5 + 25 * 0.99) / 30)


def test_fixed_rate_and_threshold_baselines() -> None:
    trs = [toy_trace(40, 8, cuts=[13, 29])]
    assert evaluate(trs, 8, fixed_rate(1 / 4))["keyRate"] == pytest.approx(10 / 40)
    assert evaluate(trs, 8, fixed_rate(0.4))["keyRate"] == pytest.approx(16 / 40)
    thr = evaluate(trs, 8, threshold(10.0))
    # keys at 0, the two cuts, and the forced ones after 8 propagated frames
    assert thr["miou"] > evaluate(trs, 8, fixed_rate(thr["keyRate"]))["miou"]
    level = threshold_for_rate(trs, 8, thr["keyRate"])
    assert evaluate(trs, 8, threshold(level))["keyRate"] == pytest.approx(thr["keyRate"])


def test_dqn_learns_to_key_at_scene_cuts() -> None:
    train = [toy_trace(40, 8, cuts=list(c), name=str(i)) for i, c in enumerate([(7, 21), (15, 30), (5, 26, 33)])]
    test = [toy_trace(40, 8, cuts=[11, 24])]
    torch.manual_seed(0)
    policy = KeyframePolicy(KeyframePolicyConfig())
    cfg = DqnConfig(key_cost=0.15, episodes=120, eps_episodes=80, warmup=200, batch_size=32, target_every=100)
    history = train_dqn(policy, train, 8, cfg, seed=0, quiet=True)
    assert len(history) == 120
    rl = evaluate(test, 8, greedy(policy.eval()))
    fixed = evaluate(test, 8, fixed_rate((rl["keyRate"] * 40 - 1) / 39))
    assert rl["miou"] > fixed["miou"]


def test_the_policy_io_matches_the_device() -> None:
    spec = get_task("keyframe").io_spec({"input_size": len(STATE_FEATURES)})
    assert spec["inputs"][0]["features"] == list(STATE_FEATURES)
    ts = (REPO_ROOT / "pipelines/schedulers/state.ts").read_text()
    order = [f for f in STATE_FEATURES if f"'{f}'" in ts]
    assert order == list(STATE_FEATURES)
    q = KeyframePolicy(KeyframePolicyConfig())(torch.zeros(3, len(STATE_FEATURES)))[0]
    assert q.shape == (3, 2)

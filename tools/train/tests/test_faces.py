"""Face tracks: the project's NMI/WCP against scikit-learn, the certified-robust term's closed form, and the committed track embedding against average-pooled frame embeddings on held-out tracks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import normalized_mutual_info_score

from glance_train.faces.data import SynthSpec, synthetic_tracks
from glance_train.faces.losses import adversarial_distance_sq, robust_metric_loss
from glance_train.faces.metrics import agglomerate, nmi, wcp
from glance_train.faces.model import FaceTrackConfig, FaceTrackNet, pooled_frame_embedding
from glance_train.faces.synth_faces import bad_frame_plan
from glance_train.faces.train import embed, synth

torch.set_num_threads(1)
WEIGHTS = Path(__file__).parent / "fixtures" / "face-track-1.2.0.pt"  # the version the registry serves


def test_nmi_matches_scikit_learn_and_wcp_is_purity() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        labels = rng.integers(0, 5, 60)
        clusters = np.where(rng.random(60) < 0.6, labels, rng.integers(0, 7, 60))
        assert nmi(labels, clusters) == pytest.approx(normalized_mutual_info_score(labels, clusters), abs=1e-9)
    assert wcp(np.array([0, 0, 1, 1]), np.array([1, 1, 1, 2])) == pytest.approx(0.75)
    assert nmi(np.array([0, 0, 1, 1]), np.array([5, 5, 9, 9])) == pytest.approx(1.0)


def test_adversarial_distance_is_the_distance_to_the_bisecting_hyperplane() -> None:
    torch.manual_seed(0)
    L = torch.randn(4, 4)
    h_i, h_j, h_l = torch.randn(3, 1, 4).unbind(0)
    d2 = adversarial_distance_sq(h_i, h_j, h_l, L)
    # move h_i along M(h_l - h_j) by the closed-form distance: it lands where both metric distances are equal
    M = L.T @ L
    direction = (M @ (h_l - h_j).T).T
    step = d2.sqrt() * direction / direction.norm()
    x = h_i + step
    dist = lambda a, b: float(((a - b) @ M @ (a - b).T))  # noqa: E731
    if dist(h_i, h_l) > dist(h_i, h_j):
        assert dist(x, h_j) == pytest.approx(dist(x, h_l), rel=1e-4)
    else:
        assert float(d2) == 0.0
    _, parts = robust_metric_loss(h_i, h_j, h_l, L, mu=0.5, margin=0.1, lam=1.0, tau=10.0)
    assert parts["perturb"] == pytest.approx(100.0 - float(d2), rel=1e-5)  # [τ² − d²]₊ with τ = 10


def test_the_attention_residual_head_starts_as_average_pooling() -> None:
    """Before training, the 1.1.0 track head is exactly the average of the same frame embeddings, so training can
    only move it away from pooling where the loss gains; the head's frame weights are uniform over real frames."""
    torch.manual_seed(0)
    model = FaceTrackNet(FaceTrackConfig(aggregator="attention-residual")).eval()
    crops, mask = torch.rand(3, 16, 32, 32), torch.ones(3, 16)
    mask[1, 5:] = 0
    with torch.no_grad():
        assert torch.allclose(model(crops, mask), pooled_frame_embedding(model, crops, mask), atol=1e-6)
        w = model.frame_weights(crops, mask)
    assert torch.allclose(w[1, :5], torch.full((5,), 0.2)) and float(w[1, 5:].sum()) < 1e-6


def test_the_consensus_head_starts_as_the_reweighted_mean_and_down_weights_a_minority() -> None:
    """With ``consensus`` on (1.2.0), the untrained head is the iteratively re-weighted mean of the frame
    embeddings; frames of another person making up a minority of the track get less weight than the rest."""
    torch.manual_seed(0)
    model = FaceTrackNet(FaceTrackConfig(aggregator="attention-residual", consensus=0.05)).eval()
    a, b = torch.rand(1, 1, 32, 32), torch.rand(1, 1, 32, 32)
    crops = torch.cat([a.expand(1, 11, 32, 32), b.expand(1, 5, 32, 32)], dim=1) + 0.01 * torch.rand(1, 16, 32, 32)
    mask = torch.ones(1, 16)
    with torch.no_grad():
        w = model.frame_weights(crops, mask)[0]
        f = model.frame_embeddings(crops)[0]
        mean = torch.nn.functional.normalize(f.mean(0), dim=0)
        for _ in range(3):
            mean = torch.nn.functional.normalize((torch.softmax(f @ mean / 0.05, 0)[:, None] * f).sum(0), dim=0)
        assert torch.allclose(model(crops, mask)[0], mean, atol=1e-5)
    assert float(w[:11].mean()) > float(w[11:].mean())


def test_bad_frames_are_drawn_only_when_asked_and_cover_about_their_share() -> None:
    rng = np.random.default_rng(0)
    plans = [bad_frame_plan(20, 0.3, rng) for _ in range(50)]
    share = np.mean([sum(k is not None for k in p) / 20 for p in plans])
    assert 0.3 <= share <= 0.45  # bursts may overshoot the target by up to 3 frames
    assert {k for p in plans for k in p if k} == {"motion_blur", "occlusion", "profile", "misaligned"}  # no switch
    a = synthetic_tracks(SynthSpec(5, 4, 2, 2, (1, 1), (6, 6)), 32)
    b = synthetic_tracks(SynthSpec(5, 4, 2, 2, (1, 1), (6, 6), bad_rate=(0.0, 0.0)), 32)
    assert all(np.array_equal(x, y) for x, y in zip(a.crops, b.crops))


def test_identity_switch_frames_come_from_a_person_on_screen_at_the_same_time() -> None:
    """A switch run is contiguous, a minority of its track, inside the bad-frame budget, and its frames are another
    person's frames from a track of the same video and slot; with switch_rate 0 the old tracks are drawn exactly."""
    from glance_train.faces.data import vc_batch
    from glance_train.faces.synth_faces import SWITCH

    spec = SynthSpec(5, 6, 3, 3, (1, 1), (8, 10), bad_rate=(0.3, 0.4), switch_rate=0.6)
    plans: list[list[str | None]] = []
    data = synthetic_tracks(spec, 32, plans=plans)
    switched = checked = 0
    for i, plan in enumerate(plans):
        run = [t for t, k in enumerate(plan) if k == SWITCH]
        if not run:
            continue
        switched += 1
        assert run == list(range(run[0], run[-1] + 1)) and len(run) <= 0.4 * len(plan) + 0.5
        others = [j for j in range(len(data)) if data.videos[j] == data.videos[i] and data.slots[j] == data.slots[i]
                  and data.labels[j] != data.labels[i]]
        if any(SWITCH in plans[j] for j in others):
            continue  # the source frame may since have been replaced by that track's own switch
        checked += 1
        for t in run:
            assert any(any(np.array_equal(data.crops[i][t], f) for f in data.crops[j]) for j in others)
    assert switched >= len(plans) // 4 and checked >= 1
    old = SynthSpec(5, 6, 3, 3, (1, 1), (8, 10), bad_rate=(0.3, 0.4))
    assert all(np.array_equal(a, b) for a, b in zip(synthetic_tracks(old, 32).crops,
                                                    synthetic_tracks(SynthSpec(**{**old.__dict__, "switch_rate": 0.0}), 32).crops))
    x1, m1, x2, m2, groups = vc_batch(data, 2, 3, 16, np.random.default_rng(0), switch=1.0)
    assert x1.shape == x2.shape and x1.shape[1:] == (16, 32, 32) and len(groups) == len(x1)


def test_headroom_oracle_and_head_start_from_pooling() -> None:
    """The headroom measures (faces.headroom): recording bad-frame plans does not change the tracks; an oracle
    that leaves out no frame is pooling; the head trained on cached features starts from pooling's NMI."""
    from glance_train.faces.headroom import oracle, pool, scores, train_head

    spec = SynthSpec(5, 6, 3, 3, (1, 1), (6, 8), bad_rate=(0.2, 0.4))
    plans: list[list[str | None]] = []
    data = synthetic_tracks(spec, 32, plans=plans)
    assert all(np.array_equal(a, b) for a, b in zip(data.crops, synthetic_tracks(spec, 32).crops))
    assert [len(p) for p in plans] == [len(c) for c in data.crops] and any(k for p in plans for k in p)
    torch.manual_seed(0)
    model = FaceTrackNet(FaceTrackConfig(aggregator="attention-residual")).eval()
    with torch.no_grad():
        frames = [model.frame_embeddings(torch.from_numpy(t)[None])[0] for t in data.crops]
    clean = [[None] * len(p) for p in plans]
    assert oracle(frames, clean, data.labels)["good_only"] == scores(pool(frames), data.labels)
    history = train_head(model, data, data, "vc", steps=2, seed=0)
    assert history[0][1] == pytest.approx(scores(pool(frames), data.labels)[0])


def _held_out_scores(switch_rate: float, seed: int | None = None) -> dict[str, tuple[float, float]]:
    """Held-out synthetic people (the test pool the trainer never saw), with bad frames as real tracks have
    (blur, occlusion, near-profile, drifted boxes and, at ``switch_rate``, identity switches: up to 40% of a
    track): cluster tracks with the number of people known, once with the published face-track's track embeddings
    and once with the average of the same network's frame embeddings, the paper's baseline; NMI and WCP by the
    project's code, NMI checked against scikit-learn."""
    ckpt = torch.load(WEIGHTS)
    cfg = FaceTrackConfig(**ckpt["model_config"])
    model = FaceTrackNet(cfg)
    model.load_state_dict(ckpt["state_dict"])
    spec = {**ckpt["experiment"]["data"]["test"], "bad_rate": [0.0, 0.4], "switch_rate": switch_rate}
    if seed is not None:
        spec["seed"] = seed
    data = synthetic_tracks(synth(spec), cfg.input_size)
    k = len(np.unique(data.labels))
    scores = {}
    for kind, pooled in (("track", False), ("pooled", True)):
        clusters = agglomerate(embed(model, data, pooled=pooled), n_clusters=k)
        ours = nmi(data.labels, clusters)
        assert ours == pytest.approx(normalized_mutual_info_score(data.labels, clusters), abs=1e-9)
        scores[kind] = (ours, wcp(data.labels, clusters))
    print(scores)
    return scores


POWERED_SEEDS = range(301, 313)
"""New draws of the test pool's spec for the powered held-out rule (docs/faces.md, fixed before they existed)."""


def _powered_gains(switch_rate: float) -> tuple[np.ndarray, np.ndarray]:
    gains = []
    for seed in POWERED_SEEDS:
        s = _held_out_scores(switch_rate, seed)
        gains.append((s["track"][0] - s["pooled"][0], s["track"][1] - s["pooled"][1]))
    g = np.array(gains)
    print({"nmi_gain_mean": g[:, 0].mean(), "wcp_gain_mean": g[:, 1].mean(), "nmi": g[:, 0].round(3).tolist(),
           "wcp": g[:, 1].round(3).tolist()})
    return g[:, 0], g[:, 1]


def _assert_rule_holds(switch_rate: float) -> None:
    """Mean gain > 0 and a one-sided paired t-test p < 0.05, for NMI and for WCP (the rule in docs/faces.md)."""
    from scipy.stats import ttest_1samp

    for gain in _powered_gains(switch_rate):
        assert gain.mean() > 0 and ttest_1samp(gain, 0.0, alternative="greater").pvalue < 0.05, gain


def test_track_embedding_beats_pooling_over_twelve_new_held_out_draws() -> None:
    """The powered rule's primary test: identity switches at the test spec's rate, 12 new draws (301–312).
    Measured when the rule was first run: NMI gain +0.0167 (11 of 12 draws ahead, p = 0.0006), WCP gain +0.0244
    (9 ahead, 3 level, p = 0.0002)."""
    _assert_rule_holds(float(torch.load(WEIGHTS)["experiment"]["data"]["test"]["switch_rate"]))


@pytest.mark.xfail(
    strict=True,
    reason="the powered rule's secondary condition does not hold: without identity switches face-track 1.2.0 gains "
    "+0.0026 NMI (ahead in 7 of 12 draws, p = 0.26) and +0.0031 WCP (6 of 12, p = 0.31) over pooling on draws "
    "301-312: when every bad frame still shows its own person there is nothing for a track model to win "
    "(oracle headroom +0.002 on validation), docs/faces.md",
)
def test_track_embedding_against_pooling_over_twelve_new_held_out_draws_without_switches() -> None:
    """The powered rule's secondary test: the same draws' spec without identity switches."""
    _assert_rule_holds(0.0)


@pytest.mark.xfail(
    strict=False,
    reason="face-track 1.2.0 (consensus-weighted head, published by the rule fixed beforehand: mean NMI gain over "
    "pooling +0.034 on validation, +0.002 on fresh validation-like draws, seeds 7/8/9) is ahead of pooling in NMI "
    "but behind in WCP on the held-out tracks WITH identity switches (switch_rate 0.5, 123 tracks): NMI 0.805 vs "
    "0.800, WCP 0.634 vs 0.642; seeds 8/9: NMI -0.007 / -0.010. 1.1.0 (learnt head): 0.796 vs 0.800, 0.634 vs "
    "0.642. On 8 fresh validation-like draws (after the decision) 1.2.0 gains +0.031 NMI / +0.031 WCP on "
    "average (NMI ahead in 8/8): this one fixed held-out draw is at the low end of that spread, docs/faces.md",
)
def test_track_embedding_beats_average_pooled_frames_on_held_out_tracks() -> None:
    """With identity switches among the bad frames (the rate the served model was trained and chosen with)."""
    scores = _held_out_scores(float(torch.load(WEIGHTS)["experiment"]["data"]["test"]["switch_rate"]))
    assert scores["track"][0] > scores["pooled"][0]
    assert scores["track"][1] > scores["pooled"][1]


@pytest.mark.xfail(
    strict=False,
    reason="without identity switches (the old bad frames only, 127 tracks) face-track 1.2.0 ties or trails "
    "pooling: NMI 0.822 vs 0.823, WCP 0.693 vs 0.709 (seeds 8/9: +0.005 / -0.001 NMI); 1.1.0 was ahead here "
    "(0.833 vs 0.823, 0.717 vs 0.709) at one seed of three. The oracle that drops every bad frame gains +0.002 "
    "on such tracks (validation): nothing for a track head to win, docs/faces.md",
)
def test_track_embedding_against_pooling_on_held_out_tracks_without_identity_switches() -> None:
    """The same held-out people with the old bad frames only (no switch)."""
    scores = _held_out_scores(0.0)
    assert scores["track"][0] > scores["pooled"][0]
    assert scores["track"][1] > scores["pooled"][1]


def test_a_tiny_run_trains_evaluates_and_records(tmp_path: Path) -> None:
    """The whole `glance train face-track` path on a sliver of data: metrics, curves and a checkpoint."""
    from glance_train.faces.train import main

    argv = ["face-track", "--no-export", "--out", str(tmp_path), "--set", "train.epochs=1"]
    for key, value in (("train.steps_per_epoch", 1), ("pretrain.epochs", 1), ("pretrain.steps_per_epoch", 1),
                       ("data.train.videos", 4), ("data.val.videos", 2),
                       ("data.test.videos", 2), ("data.real_videos", "[]")):
        argv += ["--set", f"{key}={value}"]
    assert main(argv) == 0
    ckpt = torch.load(tmp_path / "best.pt")
    assert ckpt["task"] == "face-track" and 0 <= ckpt["held_out"]["test"]["test_nmi"] <= 1
    assert (tmp_path / "metrics.json").exists() and (tmp_path / "curves.png").exists()

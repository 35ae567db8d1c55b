"""Track sets: real tracks (our detector + tracker over opencv-doc videos, cached) and synthetic identities,
and the video-centralised batches the trainer draws from them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from glance_train.data.cache import default_cache_dir
from glance_train.faces.synth_faces import SWITCH, random_identity, random_scene, render_track
from glance_train.faces.tracking import TrackerConfig, tracks_from_video

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")


@dataclass
class TrackSet:
    """Tracks as resized float crops (0..1), with the video each came from and its identity (-1: unknown).

    ``slots``: tracks of one video with the same slot are on screen at the same time, so they are different
    people (a person is not in a frame twice): the video-centralised negatives. One person's second track in a
    video comes later, in the next slot — it must not be pushed away from the first. Real tracks have one slot
    per video (their time spans are not kept; our Megamind tracks are mostly different people anyway).
    """

    crops: list[np.ndarray]
    videos: np.ndarray
    labels: np.ndarray
    sources: list[str]
    slots: np.ndarray | None = None

    def co_occurrence(self) -> np.ndarray:
        """One group id per track: same group = on screen together = must not be the same person."""
        slots = self.slots if self.slots is not None else np.zeros(len(self), np.int64)
        return self.videos * 1000 + slots

    def __len__(self) -> int:
        return len(self.crops)

    @staticmethod
    def concat(sets: list[TrackSet]) -> TrackSet:
        offset, crops, videos, labels, sources, slots = 0, [], [], [], [], []
        for s in sets:
            crops += s.crops
            videos.append(s.videos + offset)
            labels.append(s.labels)
            sources += s.sources
            slots.append(s.slots if s.slots is not None else np.zeros(len(s), np.int64))
            offset += int(s.videos.max()) + 1 if len(s) else 0
        return TrackSet(crops, np.concatenate(videos), np.concatenate(labels), sources, np.concatenate(slots))

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for c in self.crops:
            h.update(np.ascontiguousarray(c).tobytes())
        h.update(self.videos.tobytes())
        h.update(self.labels.tobytes())
        return f"sha256:{h.hexdigest()}"


def _resize(frames: np.ndarray, size: int) -> np.ndarray:
    out = np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in frames])
    return out.astype(np.float32) / 255.0


def real_tracks(videos: list[str], size: int, cache_dir: Path | None = None) -> TrackSet:
    """Our tracker over each video (cached as .npz: detection is the slow part); identities unknown (-1)."""
    cache = (cache_dir or default_cache_dir()) / "faces"
    cache.mkdir(parents=True, exist_ok=True)
    cfg = TrackerConfig()
    key = hashlib.sha256(json.dumps(asdict(cfg), sort_keys=True).encode()).hexdigest()[:12]
    crops, vids, sources = [], [], []
    for v, name in enumerate(videos):
        path = OPENCV_DATA / name
        file = cache / f"{Path(name).stem}-{key}.npz"
        if not file.exists():
            tracks = tracks_from_video(path, cfg)
            np.savez_compressed(file, **{f"t{t.track_id}": np.stack(t.crops) for t in tracks})
        with np.load(file) as z:
            for k in sorted(z.files, key=lambda s: int(s[1:])):
                crops.append(_resize(z[k], size))
                vids.append(v)
                sources.append(f"{name}#{k}")
    return TrackSet(crops, np.array(vids, np.int64), -np.ones(len(crops), np.int64), sources)


@dataclass(frozen=True)
class SynthSpec:
    seed: int
    identities: int
    videos: int
    ids_per_video: int
    tracks_per_id: tuple[int, int]
    length: tuple[int, int]
    bad_rate: tuple[float, float] = (0.0, 0.0)
    """Per track, the share of bad frames (blur, occlusion, profile, misaligned box) is drawn from this range."""
    switch_rate: float = 0.0
    """The chance that a track with bad frames spends part of that budget (half to all of it, one contiguous run)
    on an identity switch: frames of another person on screen with it (``synth_faces.SWITCH``)."""


def synthetic_tracks(spec: SynthSpec, size: int, label_offset: int = 0,
                     plans: list[list[str | None]] | None = None) -> TrackSet:
    """Videos of ``ids_per_video`` people drawn from a pool of ``identities``; each person 1+ tracks per video.
    ``plans`` receives each track's bad-frame plan (evaluation only: ``faces.headroom``)."""
    rng = np.random.default_rng(spec.seed)
    pool = [random_identity(rng) for _ in range(spec.identities)]
    crops, vids, labels, sources, slots = [], [], [], [], []
    own_plans: list[list[str | None]] = []
    for v in range(spec.videos):
        scene = random_scene(rng)
        first = len(crops)
        for person in rng.choice(spec.identities, spec.ids_per_video, replace=False):
            for k in range(int(rng.integers(spec.tracks_per_id[0], spec.tracks_per_id[1] + 1))):
                n = int(rng.integers(spec.length[0], spec.length[1] + 1))
                bad = float(rng.uniform(*spec.bad_rate)) if spec.bad_rate[1] > 0 else 0.0
                # drawn only when switches are asked for, so the old tracks stay exactly as they were
                switch = bad * float(rng.uniform(0.5, 1.0)) if spec.switch_rate > 0 and bad > 0 and \
                    rng.random() < spec.switch_rate else 0.0
                crops.append(render_track(pool[person], scene, n, rng, bad, own_plans, switch))
                vids.append(v)
                labels.append(label_offset + int(person))
                sources.append(f"synth{spec.seed}/v{v}/p{person}/{k}")
                slots.append(k)  # a person's k-th appearance: with the others' k-th, after their (k-1)-th
        if spec.switch_rate > 0:
            _switch_identities(crops[first:], own_plans[first:], labels[first:], slots[first:], rng)
    if plans is not None:
        plans += own_plans
    crops = [_resize(c, size) for c in crops]
    return TrackSet(crops, np.array(vids, np.int64), np.array(labels, np.int64), sources, np.array(slots, np.int64))


def _switch_identities(crops: list[np.ndarray], plans: list[list[str | None]], labels: list[int], slots: list[int],
                       rng: np.random.Generator) -> None:
    """Fill each track's identity-switch run (in place) with the frames, at the same moments, of another person's
    track on screen with it (same video, same slot): what a tracker that jumped to the neighbouring face crops.
    A track with no one on screen with it keeps its own frames there, and its plan says so (None)."""
    rendered = [c.copy() for c in crops]  # the neighbour's frames as rendered, before its own switch
    for i, plan in enumerate(plans):
        run = [t for t, k in enumerate(plan) if k == SWITCH]
        if not run:
            continue
        others = [j for j in range(len(crops)) if slots[j] == slots[i] and labels[j] != labels[i]]
        if not others:
            for t in run:
                plan[t] = None
            continue
        other = rendered[int(rng.choice(others))]
        n, m = len(plan), len(other)
        for t in run:
            crops[i][t] = other[int(round(t / max(1, n - 1) * (m - 1)))]


def pad_tracks(tracks: list[np.ndarray], seq_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """[N, T, S, S] crops and [N, T] mask: the first ``seq_len`` frames spread evenly over each track."""
    size = tracks[0].shape[-1]
    x = torch.zeros(len(tracks), seq_len, size, size)
    m = torch.zeros(len(tracks), seq_len)
    for i, t in enumerate(tracks):
        idx = np.linspace(0, len(t) - 1, min(seq_len, len(t))).round().astype(int)
        x[i, : len(idx)] = torch.from_numpy(t[idx])
        m[i, : len(idx)] = 1
    return x, m


def _jitter(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random similarity transform for the whole view: position and scale say nothing about who it is."""
    s = frames.shape[-1]
    m = cv2.getRotationMatrix2D((s / 2, s / 2), rng.uniform(-8, 8), rng.uniform(0.85, 1.15))
    m[:, 2] += rng.uniform(-0.12, 0.12, 2) * s
    return np.stack([cv2.warpAffine(f, m, (s, s), borderMode=cv2.BORDER_REFLECT) for f in frames])


def _corrupt(frames: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Temporal augmentation: about ``share`` of a view's frames (never all) are spoilt the way real frames are —
    occluded, motion-blurred, or cut from a drifted detector box — so the track model sees a good frame and a bad
    one of the same person in one sequence and can learn to lean on the good ones (pooling cannot)."""
    n, s = len(frames), frames.shape[-1]
    k = min(n - 1, int(rng.binomial(n, share)))
    if k <= 0:
        return frames
    out = frames.copy()
    for i in rng.choice(n, k, replace=False):
        kind = int(rng.integers(3))
        if kind == 0:  # occluder entering from an edge
            a = np.zeros((s, s), np.float32)
            c = (int(rng.uniform(0.1, 0.9) * s), int(rng.choice([0, s])))
            cv2.ellipse(a, c, (int(rng.uniform(0.3, 0.55) * s), int(rng.uniform(0.3, 0.55) * s)),
                        rng.uniform(0, 180), 0, 360, 1.0, -1)
            if rng.random() < 0.5:
                a = a.T.copy()
            out[i] = out[i] * (1 - a) + rng.uniform(0.15, 0.85) * a
        elif kind == 1:  # motion blur
            kl = int(rng.integers(4, 9))
            kern = np.zeros((kl, kl), np.float32)
            kern[kl // 2, :] = 1.0 / kl
            rot = cv2.getRotationMatrix2D(((kl - 1) / 2, (kl - 1) / 2), rng.uniform(0, 180), 1.0)
            out[i] = cv2.filter2D(out[i], -1, cv2.warpAffine(kern, rot, (kl, kl)), borderType=cv2.BORDER_REFLECT)
        else:  # a drifted box: shifted a fifth of the side and rescaled
            m = cv2.getRotationMatrix2D((s / 2, s / 2), 0, float(rng.choice([rng.uniform(0.7, 0.85),
                                                                              rng.uniform(1.2, 1.4)])))
            m[:, 2] += rng.choice([-1, 1], 2) * rng.uniform(0.12, 0.25, 2) * s
            out[i] = cv2.warpAffine(out[i], m, (s, s), borderMode=cv2.BORDER_REFLECT)
    return out


def random_view(t: np.ndarray, seq_len: int, rng: np.random.Generator, corrupt: float = 0.0) -> np.ndarray:
    """A random sub-sequence (at least 3 frames) with geometric and photometric jitter: one "view" of a track;
    with ``corrupt`` > 0, up to that share of its frames spoilt (``_corrupt``)."""
    n = len(t)
    k = int(rng.integers(min(3, n), min(seq_len, n) + 1))
    idx = np.sort(rng.choice(n, k, replace=False))
    frames = _corrupt(t[idx], float(rng.uniform(0, corrupt)), rng) if corrupt > 0 else t[idx]
    v = _jitter(frames, rng) * rng.uniform(0.7, 1.3) + rng.uniform(-0.15, 0.15)
    v = v + rng.normal(0, rng.uniform(0, 0.04), v.shape)
    if rng.random() < 0.5:
        v = v[:, :, ::-1]
    return np.clip(v, 0, 1).astype(np.float32)


def _switch_view(frames: np.ndarray, other: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Temporal augmentation of identity switches, label-free: a contiguous run (up to 40% of the frames, always a
    minority) replaced by consecutive frames of a track on screen at the same time — a known different person."""
    n = len(frames)
    run = min(int(round(rng.uniform(0.1, 0.4) * n)), (n - 1) // 2)
    if run <= 0:
        return frames
    out = frames.copy()
    start, src = int(rng.integers(0, n - run + 1)), int(rng.integers(0, max(1, len(other) - run + 1)))
    out[start : start + run] = other[(src + np.arange(run)) % len(other)]
    return out


def vc_batch(
    data: TrackSet, videos_per_batch: int, max_tracks: int, seq_len: int, rng: np.random.Generator,
    corrupt: float = 0.0, switch: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two views of every track of a few videos: (crops1, mask1, crops2, mask2, co-occurrence group of each track).
    With ``switch`` > 0 each view, with that chance, gets a run of a co-occurring track's frames (``_switch_view``).

    The losses take negatives only within a group (``TrackSet.co_occurrence``): tracks on screen together."""
    groups = data.co_occurrence()
    usable = [v for v in np.unique(data.videos) if (data.videos == v).sum() >= 2]
    chosen = rng.choice(usable, min(videos_per_batch, len(usable)), replace=False)
    picks: list[int] = []
    vids: list[int] = []
    for v in chosen:
        idx = np.flatnonzero(data.videos == v)
        idx = rng.choice(idx, min(max_tracks, len(idx)), replace=False)
        picks += idx.tolist()
        vids += groups[idx].tolist()
    # the two views come from the two sides of a random cut: different moments, so different poses
    views1, views2 = [], []
    for i in picks:
        t = data.crops[i]
        cut = int(rng.integers(3, len(t) - 2)) if len(t) >= 6 else len(t)
        a, b = (t[:cut], t[cut:]) if cut < len(t) else (t, t)
        if rng.random() < 0.5:
            a, b = b, a
        if switch > 0:
            others = [j for j in picks if j != i and groups[j] == groups[i]]
            if others:
                a, b = (_switch_view(x, data.crops[int(rng.choice(others))], rng) if rng.random() < switch else x
                        for x in (a, b))
        views1.append(random_view(a, seq_len, rng, corrupt))
        views2.append(random_view(b, seq_len, rng, corrupt))
    x1, m1 = pad_tracks(views1, seq_len)
    x2, m2 = pad_tracks(views2, seq_len)
    return x1, m1, x2, m2, torch.tensor(vids)

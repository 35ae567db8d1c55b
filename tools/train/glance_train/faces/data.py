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
from glance_train.faces.synth_faces import random_identity, random_scene, render_track
from glance_train.faces.tracking import TrackerConfig, tracks_from_video

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")


@dataclass
class TrackSet:
    """Tracks as resized float crops (0..1), with the video each came from and its identity (-1: unknown)."""

    crops: list[np.ndarray]
    videos: np.ndarray
    labels: np.ndarray
    sources: list[str]

    def __len__(self) -> int:
        return len(self.crops)

    @staticmethod
    def concat(sets: list[TrackSet]) -> TrackSet:
        offset, crops, videos, labels, sources = 0, [], [], [], []
        for s in sets:
            crops += s.crops
            videos.append(s.videos + offset)
            labels.append(s.labels)
            sources += s.sources
            offset += int(s.videos.max()) + 1 if len(s) else 0
        return TrackSet(crops, np.concatenate(videos), np.concatenate(labels), sources)

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


def synthetic_tracks(spec: SynthSpec, size: int, label_offset: int = 0) -> TrackSet:
    """Videos of ``ids_per_video`` people drawn from a pool of ``identities``; each person 1+ tracks per video."""
    rng = np.random.default_rng(spec.seed)
    pool = [random_identity(rng) for _ in range(spec.identities)]
    crops, vids, labels, sources = [], [], [], []
    for v in range(spec.videos):
        scene = random_scene(rng)
        for person in rng.choice(spec.identities, spec.ids_per_video, replace=False):
            for k in range(int(rng.integers(spec.tracks_per_id[0], spec.tracks_per_id[1] + 1))):
                n = int(rng.integers(spec.length[0], spec.length[1] + 1))
                crops.append(_resize(render_track(pool[person], scene, n, rng), size))
                vids.append(v)
                labels.append(label_offset + int(person))
                sources.append(f"synth{spec.seed}/v{v}/p{person}/{k}")
    return TrackSet(crops, np.array(vids, np.int64), np.array(labels, np.int64), sources)


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


def random_view(t: np.ndarray, seq_len: int, rng: np.random.Generator) -> np.ndarray:
    """A random sub-sequence (at least 3 frames) with geometric and photometric jitter: one "view" of a track."""
    n = len(t)
    k = int(rng.integers(min(3, n), min(seq_len, n) + 1))
    idx = np.sort(rng.choice(n, k, replace=False))
    v = _jitter(t[idx], rng) * rng.uniform(0.7, 1.3) + rng.uniform(-0.15, 0.15)
    v = v + rng.normal(0, rng.uniform(0, 0.04), v.shape)
    if rng.random() < 0.5:
        v = v[:, :, ::-1]
    return np.clip(v, 0, 1).astype(np.float32)


def vc_batch(
    data: TrackSet, videos_per_batch: int, max_tracks: int, seq_len: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two views of every track of a few videos: (crops1, mask1, crops2, mask2, video of each track)."""
    usable = [v for v in np.unique(data.videos) if (data.videos == v).sum() >= 2]
    chosen = rng.choice(usable, min(videos_per_batch, len(usable)), replace=False)
    picks: list[int] = []
    vids: list[int] = []
    for v in chosen:
        idx = np.flatnonzero(data.videos == v)
        idx = rng.choice(idx, min(max_tracks, len(idx)), replace=False)
        picks += idx.tolist()
        vids += [int(v)] * len(idx)
    # the two views come from the two sides of a random cut: different moments, so different poses
    views1, views2 = [], []
    for i in picks:
        t = data.crops[i]
        cut = int(rng.integers(3, len(t) - 2)) if len(t) >= 6 else len(t)
        a, b = (t[:cut], t[cut:]) if cut < len(t) else (t, t)
        if rng.random() < 0.5:
            a, b = b, a
        views1.append(random_view(a, seq_len, rng))
        views2.append(random_view(b, seq_len, rng))
    x1, m1 = pad_tracks(views1, seq_len)
    x2, m2 = pad_tracks(views2, seq_len)
    return x1, m1, x2, m2, torch.tensor(vids)

"""Real video, synthetic gaze: TVA and eye tracking alone on Debian's opencv-doc ``vtest.avi`` (pedestrians).

Ground truth is derived from the video, not annotated by people: OpenCV's MOG2 background subtractor (shadows
dropped, opened and closed), connected components above a minimum area, linked frame to frame by IoU into
tracks. A synthetic wearer then fixates, pursues and switches between those tracked pedestrians (and glances
at the background) with the same saccades, fixational noise, blinks and eye-tracker error model as the
synthetic clips; the attended track's box at each frame is the truth. The video runs at 10 fps; each of its
frames is fed as one scene frame (the model's lag and history are counted in scene frames), i.e. as if the
scene moved 3x faster than it did. Coordinates are handled in a 640x480 frame (the video is 4:3, 768x576).
"""

from __future__ import annotations

import hashlib
import inspect
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from glance_train.synth.gaze_script import _blinks, _fixational_noise
from glance_train.synth.scene_objects import SceneWorld
from glance_train.synth.seeding import child_rng
from glance_train.tva.baseline import EyeOnly
from glance_train.tva.clips import CAMERA, FPS, PRE_ROLL_S, Clip, _saccade
from glance_train.tva.data import LAG_FRAMES, scene_input
from glance_train.tva.evaluate import predict, side_by_side
from glance_train.tva.gaze_noise import NoiseConfig, draw_error, history, tracked_gaze

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
W, H = 640, 480
WARMUP = 60
"""Frames MOG2 needs to learn the background; no sample is taken before."""
MIN_AREA = 350
"""Connected components smaller than this (video pixels) are noise, not people."""


@dataclass(frozen=True)
class Tracks:
    boxes: np.ndarray
    """(n_tracks, n_frames, 4) [x, y, w, h] in 640x480 pixels, NaN where the track does not exist."""
    frames: np.ndarray
    """(n_frames, 96, 128, 3) uint8 model-size frames."""


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(x1 - x0, 0.0) * max(y1 - y0, 0.0)
    return inter / max(a[2] * a[3] + b[2] * b[3] - inter, 1e-9)


def track_video(path: Path = VTEST, max_frames: int | None = None) -> Tracks:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise FileNotFoundError(f"cannot read {path} (Debian package opencv-doc)")
    mog = cv2.createBackgroundSubtractorMOG2(history=200, varThreshold=25, detectShadows=True)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    frames: list[np.ndarray] = []
    per_frame: list[list[np.ndarray]] = []
    while max_frames is None or len(frames) < max_frames:
        ok, img = cap.read()
        if not ok:
            break
        sx, sy = W / img.shape[1], H / img.shape[0]
        frames.append(scene_input(cv2.resize(img, (W, H), interpolation=cv2.INTER_AREA)))
        fg = mog.apply(img)
        mask = cv2.morphologyEx((fg > 200).astype(np.uint8) * 255, cv2.MORPH_OPEN, kernel)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel, iterations=2)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        scale = np.array([sx, sy, sx, sy])
        found = [s[:4] * scale for s in stats[1:n] if s[4] >= MIN_AREA]
        per_frame.append(found if len(frames) > WARMUP else [])
    cap.release()
    tracks: list[dict[int, np.ndarray]] = []
    live: dict[int, tuple[int, np.ndarray]] = {}  # track -> (last frame, box)
    for f, found in enumerate(per_frame):
        used: set[int] = set()
        for box in sorted(found, key=lambda b: -b[2] * b[3]):
            best, best_iou = -1, 0.3
            for tid, (last, prev) in live.items():
                v = _iou(box, prev)
                if tid not in used and f - last <= 2 and v > best_iou:
                    best, best_iou = tid, v
            if best < 0:
                best = len(tracks)
                tracks.append({})
            tracks[best][f] = box
            live[best] = (f, box)
            used.add(best)
    boxes = np.full((len(tracks), len(frames), 4), np.nan)
    for i, t in enumerate(tracks):
        for f, b in t.items():
            boxes[i, f] = b
    return Tracks(boxes, np.stack(frames))


def wearer(tracks: Tracks, seed: int) -> tuple[Clip, np.ndarray]:
    """A synthetic gaze script over the tracked pedestrians; the clip and the per-frame attended track."""
    rng = child_rng(seed, "vtest-behaviour")
    n_frames = tracks.boxes.shape[1]
    pre = int(PRE_ROLL_S * 1000)
    n = pre + int(math.ceil(n_frames * 1000 / FPS)) + 1
    grid_f = np.clip((np.arange(n) - pre) * FPS / 1000.0, 0, n_frames - 1)
    exists = ~np.isnan(tracks.boxes[..., 0])
    centres = tracks.boxes[..., 0:2] + tracks.boxes[..., 2:4] / 2
    px_deg = CAMERA.px_per_deg()
    gaze = np.tile([W / 2, H / 2], (n, 1)).astype(float)
    attended = np.full(n, -1, np.int32)
    episodes: list[tuple[int, int, int]] = []
    t = pre + int(WARMUP * 1000 / FPS)
    gaze[:t] = [W / 2, H / 2]
    last = -1
    while t < n:
        f = int(grid_f[t])
        dwell = int(rng.uniform(900, 2600)) if rng.random() < 0.85 else int(rng.uniform(250, 650))
        life = np.array([_remaining(exists[k], f) for k in range(len(exists))])
        big = np.nan_to_num(tracks.boxes[:, f, 3], nan=0.0) >= 30
        long_enough = life * 1000 / FPS >= min(dwell, 900)
        choices = [k for k in range(len(exists)) if k != last and big[k] and long_enough[k]]
        if choices and rng.random() < 0.75:
            k = int(rng.choice(choices))
            e = min(t + min(dwell, int(life[k] * 1000 / FPS)), n)
            lag = int(rng.uniform(40, 150))
            idx = np.arange(t, e)
            fi = np.clip((idx - lag - pre) * FPS / 1000.0, 0, n_frames - 1)
            cx = _interp_track(centres[k, :, 0], exists[k], fi)
            cy = _interp_track(centres[k, :, 1], exists[k], fi)
            bw, bh = tracks.boxes[k, f, 2], tracks.boxes[k, f, 3]
            off = np.clip(rng.normal(0.0, 0.12, 2) * [bw, bh], -0.25 * min(bw, bh), 0.25 * min(bw, bh))
            land = _saccade(gaze, t, np.stack([cx, cy], 1) + off, px_deg)
            attended[land:e] = k
            if e - land >= 800:
                episodes.append((land, e, k))
            last, t = k, e
            continue
        last = -1
        e = min(t + int(rng.uniform(250, 700)), n)
        xy = _background(tracks.boxes[:, f], rng)
        _saccade(gaze, t, np.tile(xy, (e - t, 1)), px_deg)
        t = e
    gaze += _fixational_noise(rng, n, px_deg)
    mult, _ = _blinks(rng, n)
    world = SceneWorld(W, H, (), 0)
    clip = Clip(world, gaze, 0.93 * mult, attended, tuple(episodes), n_frames)
    return clip, clip.attended(np.arange(n_frames))


def _remaining(exists: np.ndarray, f: int) -> int:
    if not exists[f]:
        return 0
    gone = np.flatnonzero(~exists[f:])
    return int(gone[0]) if len(gone) else len(exists) - f


def _interp_track(values: np.ndarray, exists: np.ndarray, fi: np.ndarray) -> np.ndarray:
    known = np.flatnonzero(exists)
    return np.interp(fi, known, values[known])


def _background(boxes: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    xy = (W / 2, H / 2)
    for _ in range(60):
        xy = (float(rng.uniform(0.06, 0.94) * W), float(rng.uniform(0.06, 0.94) * H))
        b = boxes[~np.isnan(boxes[:, 0])]
        inside = (b[:, 0] - 20 <= xy[0]) & (xy[0] <= b[:, 0] + b[:, 2] + 20)
        inside &= (b[:, 1] - 20 <= xy[1]) & (xy[1] <= b[:, 1] + b[:, 3] + 20)
        if not inside.any():
            break
    return xy


def vtest_samples(tracks: Tracks, seed: int) -> dict[str, np.ndarray]:
    clip, att = wearer(tracks, seed)
    rng = child_rng(seed, "vtest-tracker")
    err = draw_error(rng, NoiseConfig())
    frames = np.arange(clip.frames)
    xy, valid = tracked_gaze(clip, frames, rng, err)
    pick = np.arange(max(WARMUP, LAG_FRAMES, 15), clip.frames)
    pair = np.concatenate([tracks.frames[pick], tracks.frames[pick - LAG_FRAMES]], axis=3)
    scene = pair.transpose(0, 3, 1, 2)
    gaze = np.stack([history(xy, valid, int(f), W, H) for f in pick])
    box = np.zeros((len(pick), 4), np.float32)
    for i, f in enumerate(pick):
        k = att[f]
        if k >= 0 and not np.isnan(tracks.boxes[k, f, 0]):
            x, y, bw, bh = tracks.boxes[k, f]
            box[i] = ((x + bw / 2) / W, (y + bh / 2) / H, bw / W, bh / H)
    has = box[:, 2] > 0
    return {"scene": np.ascontiguousarray(scene), "gaze": gaze, "box": box, "has_object": has,
            "episode": clip.in_episode(pick) & has, "frame": pick}


def cached_tracks(cache_dir: Path | None, path: Path = VTEST) -> Tracks:
    """track_video's result, kept in the dataset cache (keyed by the video's size and the tracker source)."""
    if cache_dir is None:
        return track_video(path)
    key = hashlib.sha256(f"{path}:{path.stat().st_size}".encode() + inspect.getsource(track_video).encode())
    file = cache_dir / f"tva-vtest-{key.hexdigest()[:20]}.npz"
    if file.exists():
        with np.load(file) as z:
            return Tracks(z["boxes"], z["frames"])
    tracks = track_video(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(".tmp.npz")
    np.savez(tmp, boxes=tracks.boxes, frames=tracks.frames)
    tmp.replace(file)
    return tracks


def evaluate_vtest(model: nn.Module, eye: EyeOnly, wearers: int = 3, seed: int = 77,
                   cache_dir: Path | None = None) -> dict[str, float]:
    """``real_vtest_*`` metrics over ``wearers`` synthetic gaze scripts on the same video."""
    if not VTEST.exists():
        return {}
    tracks = cached_tracks(cache_dir)
    parts = [vtest_samples(tracks, seed + i) for i in range(wearers)]
    data = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    with torch.no_grad():
        box, score = predict(model, data["scene"], data["gaze"])
    out = side_by_side(box, score, data, eye, prefix="real_vtest_")
    out["real_vtest_tracks"] = float(tracks.boxes.shape[0])
    return out

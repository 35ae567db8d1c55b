"""Face tracks from a video: the daemon's detector and tracker (pipelines/faces/*.ts), ported line for line.

Same cascade, same downscale-then-equalise detection, same quality gate (size, Laplacian variance, mirror
correlation), same IoU + thumbnail-correlation matching with a constant-velocity prediction and `max_missed`
detector runs of grace. Used here to turn real videos into training tracks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

CROP_SIDE = 64
DEFAULT_CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml"


@dataclass(frozen=True)
class TrackerConfig:
    cascade: str = DEFAULT_CASCADE
    detect_every_n: int = 1
    detect_width: int = 360
    min_size: int = 40
    min_neighbors: int = 4
    max_missed: int = 4
    min_iou: float = 0.2
    min_appearance: float = 0.3
    min_blur: float = 20.0
    min_symmetry: float = 0.2
    min_track_frames: int = 4


@dataclass
class Track:
    """One face followed over frames: its gated crops (uint8, CROP_SIDE²) in time order, and their frame indices."""

    video: str
    track_id: int
    frames: list[int] = field(default_factory=list)
    crops: list[np.ndarray] = field(default_factory=list)
    box: tuple[float, float, float, float] = (0, 0, 0, 0)
    velocity: tuple[float, float] = (0.0, 0.0)
    thumb: np.ndarray = field(default_factory=lambda: np.zeros(256, np.float32))
    missed: int = 0
    detections: int = 0


def detect(cascade: cv2.CascadeClassifier, frame: np.ndarray, cfg: TrackerConfig) -> list[tuple[int, int, int, int]]:
    scale = min(1.0, cfg.detect_width / frame.shape[1])
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    if scale < 1:
        grey = cv2.resize(grey, (round(frame.shape[1] * scale), round(frame.shape[0] * scale)))
    grey = cv2.equalizeHist(grey)
    side = max(8, round(cfg.min_size * scale))
    found = cascade.detectMultiScale(grey, 1.1, cfg.min_neighbors, 0, (side, side))
    h, w = frame.shape[:2]
    boxes = []
    for x, y, bw, bh in (found if len(found) else []):
        x0, y0 = max(0, round(x / scale)), max(0, round(y / scale))
        boxes.append((x0, y0, min(w - x0, round(bw / scale)), min(h - y0, round(bh / scale))))
    return boxes


def crop_face(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    region = frame[y : y + max(1, h), x : x + max(1, w)]
    grey = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY) if region.ndim == 3 else region
    return cv2.resize(grey, (CROP_SIDE, CROP_SIDE), interpolation=cv2.INTER_AREA)


def laplacian_variance(crop: np.ndarray) -> float:
    p = crop.astype(np.float64)
    lap = p[1:-1, :-2] + p[1:-1, 2:] + p[:-2, 1:-1] + p[2:, 1:-1] - 4 * p[1:-1, 1:-1]
    return float(lap.var())


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a.astype(np.float64).ravel() - a.mean()
    b = b.astype(np.float64).ravel() - b.mean()
    d = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / d) if d > 0 else 0.0


def mirror_correlation(crop: np.ndarray) -> float:
    half = crop.shape[1] // 2
    return pearson(crop[:, :half], crop[:, ::-1][:, :half])


def thumbnail(crop: np.ndarray) -> np.ndarray:
    return crop.astype(np.float32).reshape(16, 4, 16, 4).mean(axis=(1, 3)).ravel()


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


class Tracker:
    """IoU + appearance, best pairs first; a track survives ``max_missed`` detector runs without a match."""

    def __init__(self, video: str, cfg: TrackerConfig) -> None:
        self.video, self.cfg = video, cfg
        self.live: list[Track] = []
        self.ended: list[Track] = []
        self.next_id = 1

    def update(self, index: int, detections: list[tuple[tuple[int, int, int, int], np.ndarray, bool]]) -> None:
        pairs = []
        for t in self.live:
            steps = t.missed + 1
            pred = (t.box[0] + t.velocity[0] * steps, t.box[1] + t.velocity[1] * steps, t.box[2], t.box[3])
            for d, (box, crop, _) in enumerate(detections):
                overlap = max(iou(pred, box), iou(t.box, box))
                look = pearson(t.thumb, thumbnail(crop))
                if overlap >= self.cfg.min_iou and look >= self.cfg.min_appearance:
                    pairs.append((overlap + look, id(t), d, t))
        pairs.sort(key=lambda p: -p[0])
        used_t: set[int] = set()
        used_d: set[int] = set()
        for _, tid, d, t in pairs:
            if tid in used_t or d in used_d:
                continue
            used_t.add(tid)
            used_d.add(d)
            self._extend(t, index, *detections[d])
        keep = []
        for t in self.live:
            if id(t) in used_t:
                keep.append(t)
                continue
            t.missed += 1
            (keep if t.missed <= self.cfg.max_missed else self.ended).append(t)
        self.live = keep
        for d, (box, crop, ok) in enumerate(detections):
            if d not in used_d:
                t = Track(self.video, self.next_id, box=box, thumb=thumbnail(crop), detections=1)
                self.next_id += 1
                if ok:
                    t.frames.append(index)
                    t.crops.append(crop)
                self.live.append(t)

    def _extend(self, t: Track, index: int, box: tuple[int, int, int, int], crop: np.ndarray, ok: bool) -> None:
        steps = t.missed + 1
        t.velocity = (
            (box[0] + box[2] / 2 - t.box[0] - t.box[2] / 2) / steps,
            (box[1] + box[3] / 2 - t.box[1] - t.box[3] / 2) / steps,
        )
        t.box, t.thumb, t.missed = box, thumbnail(crop), 0
        t.detections += 1
        if ok:
            t.frames.append(index)
            t.crops.append(crop)

    def finish(self) -> list[Track]:
        done = self.ended + self.live
        self.live, self.ended = [], []
        return [t for t in sorted(done, key=lambda t: t.track_id) if len(t.crops) >= self.cfg.min_track_frames]


def passes(crop: np.ndarray, size: int, cfg: TrackerConfig) -> bool:
    return (
        size >= cfg.min_size
        and laplacian_variance(crop) >= cfg.min_blur
        and mirror_correlation(crop) >= cfg.min_symmetry
    )


def tracks_from_video(path: Path, cfg: TrackerConfig = TrackerConfig()) -> list[Track]:
    """Every track of ``path`` with at least ``min_track_frames`` gated crops (all crops kept, not just 16)."""
    cascade = cv2.CascadeClassifier(cfg.cascade)
    if cascade.empty():
        raise FileNotFoundError(f"face cascade {cfg.cascade} did not load (install opencv-data)")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise FileNotFoundError(f"cannot read video {path}")
    tracker = Tracker(path.name, cfg)
    index = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if index % cfg.detect_every_n == 0:
            dets = []
            for box in detect(cascade, frame, cfg):
                crop = crop_face(frame, box)
                dets.append((box, crop, passes(crop, min(box[2], box[3]), cfg)))
            tracker.update(index, dets)
        index += 1
    cap.release()
    return tracker.finish()

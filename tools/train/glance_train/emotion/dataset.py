"""Read an EMO-Film layout (layout.py) into windows of model inputs: eye crops, pupil, scene crops at the
gaze.

A window is ``steps`` frames ending at one frame, sampled every ``1 / STEP_HZ`` seconds (a 30 fps recording is
strided); its label is the label of its last frame. Decoded clips are cached beside the data
(``ROOT/.glance-cache-*.npz``), keyed by the crop sizes, so a second read costs a few hundred milliseconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from glance_train.emotion.labels import EMOTIONS, cause_index, emotion_index
from glance_train.emotion.layout import eye_path, read_clips, read_dataset_json, read_frames, scene_path

STEP_HZ = 4.0
EYE_SIZE = 32
SCENE_SIZE = 32
CROP_FRACTION = 1 / 3
"""Side of the square scene crop at the gaze, as a fraction of the frame height (the attended region's
scale)."""
PUPIL_MEAN_MM, PUPIL_STD_MM = 4.5, 1.0
MIN_POST_ONSET = 4
"""A window's last frame is at least this many steps after the onset: the expression has had time to show."""
CACHE_VERSION = 1


def crop_box(gx: float, gy: float, width: int, height: int) -> tuple[int, int, int]:
    """(x0, y0, side) of the square crop centred at normalised gaze (gx, gy), shifted to stay in the frame.

    The daemon (pipelines/emotion/inputs.ts) crops the same way, so training and device inputs agree.
    """
    side = max(1, min(round(CROP_FRACTION * height), width, height))
    x0 = int(np.clip(round(gx * width - side / 2), 0, width - side))
    y0 = int(np.clip(round(gy * height - side / 2), 0, height - side))
    return x0, y0, side


@dataclass(frozen=True)
class DecodedSet:
    eye: np.ndarray
    """uint8 (clips, frames, EYE, EYE)"""
    scene: np.ndarray
    """uint8 (clips, frames, SCENE, SCENE, 3) RGB crops at the gaze"""
    pupil: np.ndarray
    """float32 (clips, frames, 2): normalised pupil diameter (held over low confidence) and confidence"""
    label: np.ndarray
    """int64 (clips, frames)"""
    cause: np.ndarray
    """int64 (clips, frames): CAUSE_CLASSES index under the gaze, -1 where the data does not say"""
    onset: np.ndarray
    """int64 (clips,) onset frame (after striding), -1 for none"""
    participant: np.ndarray
    fingerprint: str


def _held_pupil(diameter: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    out = diameter.astype(np.float64).copy()
    valid = confidence >= 0.5
    good = out[valid]
    last = float(good[0]) if len(good) else PUPIL_MEAN_MM
    for i in range(len(out)):
        if valid[i]:
            last = out[i]
        else:
            out[i] = last
    return out


def _decode_clip(root: Path, clip: str, stride: int, frames: int) -> tuple[np.ndarray, ...]:
    table = read_frames(root / "clips" / clip / "frames.csv")
    idx = np.arange(0, min(frames, len(table.t_ms)), stride)
    eyes, scenes = [], []
    for k in idx:
        eye = cv2.imread(str(eye_path(root, clip, int(k))), cv2.IMREAD_GRAYSCALE)
        scene = cv2.imread(str(scene_path(root, clip, int(k))), cv2.IMREAD_COLOR)
        if eye is None or scene is None:
            raise FileNotFoundError(
                f"{root}: clip {clip} frame {k}: eye or scene image missing or unreadable"
            )
        eyes.append(cv2.resize(eye, (EYE_SIZE, EYE_SIZE), interpolation=cv2.INTER_AREA))
        x0, y0, side = crop_box(*table.gaze[k], scene.shape[1], scene.shape[0])
        crop = scene[y0 : y0 + side, x0 : x0 + side]
        crop = cv2.resize(crop, (SCENE_SIZE, SCENE_SIZE), interpolation=cv2.INTER_AREA)
        scenes.append(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
    held = _held_pupil(table.pupil_diameter, table.confidence)[idx]
    pupil = np.stack([(held - PUPIL_MEAN_MM) / PUPIL_STD_MM, table.confidence[idx]], axis=1)
    label = np.array([emotion_index(table.label[k]) for k in idx])
    has_object = any(table.object)
    cause = np.array([cause_index(table.object[k]) if has_object else -1 for k in idx])
    return np.stack(eyes), np.stack(scenes), pupil.astype(np.float32), label, cause


def decode(root: Path) -> DecodedSet:
    """All clips of ``root``, from the cache when it is there (clips must share one frame count)."""
    info = read_dataset_json(root)
    if list(info["emotions"]) != list(EMOTIONS):
        raise ValueError(f"{root}: emotions {info['emotions']} differ from the models' {list(EMOTIONS)}")
    clips = read_clips(root)
    if not clips:
        raise ValueError(f"{root}: clips.csv lists no clips")
    stride = max(1, round(float(info["fps"]) / STEP_HZ))
    frames = min(c.frames for c in clips)
    key = hashlib.sha256(
        f"{CACHE_VERSION}:{EYE_SIZE}:{SCENE_SIZE}:{CROP_FRACTION}:{stride}:{frames}:{len(clips)}".encode()
        + (root / "clips.csv").read_bytes()
    ).hexdigest()[:16]
    cache = root / f".glance-cache-{key}.npz"
    if cache.exists():
        z = np.load(cache)
        arrays = {k: z[k] for k in z.files if k != "fingerprint"}
        return DecodedSet(**arrays, fingerprint=str(z["fingerprint"]))
    parts = [_decode_clip(root, c.clip, stride, frames) for c in clips]
    eye, scene, pupil, label, cause = (np.stack([p[i] for p in parts]) for i in range(5))
    onset = np.array([c.onset_frame // stride if c.onset_frame >= 0 else -1 for c in clips])
    participant = np.array([c.participant for c in clips])
    h = hashlib.sha256()
    for a in (eye, scene, pupil, label, cause, onset):
        h.update(np.ascontiguousarray(a).tobytes())
    out = DecodedSet(eye, scene, pupil, label, cause, onset, participant, h.hexdigest())
    np.savez(cache, **{k: v for k, v in out.__dict__.items()})
    return out


def window_ends(onset: int, frames: int, steps: int, per_clip: int) -> list[int]:
    """Up to ``per_clip`` last frames, spread evenly over those with a full window and the expression
    shown."""
    first = steps - 1 if onset < 0 else max(steps - 1, onset + MIN_POST_ONSET)
    if first > frames - 1:
        return []
    ends = np.unique(np.round(np.linspace(frames - 1, first, per_clip)).astype(int))
    return [int(e) for e in ends]


class EmotionWindows(Dataset[tuple[tuple[torch.Tensor, ...], torch.Tensor]]):
    """Items: ((eye (T,E,E), pupil (T,2), scene (T,3,S,S)) as float32, target (1+T,) int64: label, causes)."""

    def __init__(self, data: DecodedSet, steps: int = 16, per_clip: int = 1, augment: bool = False) -> None:
        self.data = data
        self.steps = steps
        self.augment = augment
        """Training only: per window a random gain and offset of the eye and scene crops and a shift of the
        eye crops by up to 2 px (torch's global generator, which the trainer seeds)."""
        frames = data.eye.shape[1]
        self.index = [
            (c, e)
            for c in range(len(data.eye))
            for e in window_ends(int(data.onset[c]), frames, steps, per_clip)
        ]
        if not self.index:
            raise ValueError(f"no window of {steps} steps fits clips of {frames} frames")
        self.targets = torch.tensor([int(data.label[c, e]) for c, e in self.index])

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
        c, e = self.index[i]
        s = slice(e - self.steps + 1, e + 1)
        d = self.data
        eye = torch.from_numpy(d.eye[c, s]).float().div_(255.0)
        pupil = torch.from_numpy(d.pupil[c, s]).float()
        scene = torch.from_numpy(d.scene[c, s]).float().div_(255.0).permute(0, 3, 1, 2).contiguous()
        target = torch.cat([torch.tensor([int(d.label[c, e])]), torch.from_numpy(d.cause[c, s])]).long()
        if self.augment:
            r = torch.rand(6)
            eye = (eye * (0.8 + 0.4 * r[0]) + (r[1] - 0.5) * 0.16).clamp_(0.0, 1.0)
            dx, dy = int(r[2] * 5) - 2, int(r[3] * 5) - 2
            eye = torch.roll(eye, shifts=(dy, dx), dims=(1, 2))
            scene = (scene * (0.8 + 0.4 * r[4]) + (r[5] - 0.5) * 0.1).clamp_(0.0, 1.0)
        return (eye, pupil, scene), target

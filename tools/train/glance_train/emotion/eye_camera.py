"""The eye crops as the daemon sees them: drawn at the eye camera's resolution, through its video codec, then
area-resized to the model's crop.

Data version 2 drew eyes at 48 px with its own noise and blur and stored them as PNG; the daemon reads 192 px
frames out of H.264 video (synth/session.py, the glasses' recordings) and area-resizes those. The same lids then
looked different to the network (sharper, the codec's blocks, the noise averaged away by the 6x downscale), and
on a generated session the classes came out wrong although the episodes were found (docs/emotion.md). Version 3
renders every clip through this path instead.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np

from glance_train.synth.eye_state import EyeAugment
from glance_train.synth.session import EYE_SIZE as CAMERA_SIZE
from glance_train.synth.video import VideoError, write_video

__all__ = ["CAMERA_SIZE", "camera_augment", "through_codec"]


def camera_augment(rng: np.random.Generator) -> EyeAugment:
    """Sensor variation at the camera's resolution, centred on the session generator's default (noise 2, blur
    0.7 px at 192 px) and wider, so one camera's settings are not the only ones the models know."""
    return EyeAugment(
        noise_sigma=float(rng.uniform(1.0, 5.0)),
        blur_sigma=float(rng.uniform(0.4, 1.6)),
        gain=float(rng.uniform(0.85, 1.15)),
        offset=float(rng.uniform(-10, 10)),
    )


def through_codec(frames: list[np.ndarray], fps: float, crop: int) -> list[np.ndarray]:
    """Grey camera frames encoded as the recordings are (synth/video.py's codec), decoded as the daemon decodes
    them (OpenCV, BGR → grey), area-resized to ``crop`` px."""
    size = (frames[0].shape[1], frames[0].shape[0])
    with tempfile.TemporaryDirectory(prefix="glance-emo-codec-") as tmp:
        path = Path(tmp) / "eye.mp4"
        write_video(path, frames, fps, size)
        cap = cv2.VideoCapture(str(path))
        out: list[np.ndarray] = []
        try:
            while len(out) < len(frames):
                ok, bgr = cap.read()
                if not ok:
                    break
                grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
                out.append(cv2.resize(grey, (crop, crop), interpolation=cv2.INTER_AREA))
        finally:
            cap.release()
    if len(out) != len(frames):
        raise VideoError(f"eye clip: encoded {len(frames)} frames, decoded {len(out)}")
    return out

"""MP4 writing through OpenCV, H.264 where the platform's ffmpeg has it, with a read-back check."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

FOURCCS: tuple[str, ...] = ("avc1", "mp4v")


class VideoError(RuntimeError):
    pass


def open_writer(path: Path, fps: float, size: tuple[int, int]) -> tuple[cv2.VideoWriter, str]:
    """The first codec in ``FOURCCS`` that opens; ``size`` is (width, height)."""
    for code in FOURCCS:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*code), float(fps), size, True)
        if writer.isOpened():
            return writer, code
        writer.release()
    raise VideoError(f"no usable video codec for {path} (tried {', '.join(FOURCCS)})")


def write_video(
    path: Path, frames: Iterable[np.ndarray], fps: float, size: tuple[int, int]
) -> tuple[int, str]:
    """Write frames (grey frames are stored as BGR) and return (frames written, codec)."""
    writer, code = open_writer(path, fps, size)
    count = 0
    try:
        for frame in frames:
            if frame.ndim == 2:
                frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            if (frame.shape[1], frame.shape[0]) != size:
                got = f"{frame.shape[1]}x{frame.shape[0]}"
                raise VideoError(f"{path}: frame {count} is {got}, expected {size[0]}x{size[1]}")
            writer.write(np.ascontiguousarray(frame))
            count += 1
    finally:
        writer.release()
    return count, code


def count_frames(path: Path) -> int:
    """Frames actually decodable; CAP_PROP_FRAME_COUNT comes from container metadata and can be wrong."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise VideoError(f"cannot open {path} for reading")
    n = 0
    try:
        while cap.grab():
            n += 1
    finally:
        cap.release()
    return n


def verify_frame_count(path: Path, expected: int) -> None:
    got = count_frames(path)
    if got != expected:
        raise VideoError(f"{path}: wrote {expected} frames but read back {got}")

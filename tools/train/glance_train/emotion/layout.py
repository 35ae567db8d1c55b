"""The EMO-Film layout on disk, as Glance reads and writes it.

EMO-Film (the EMOShip paper's data) gives, per video frame of a participant watching a film clip: an eye crop,
the scene (film) frame, the normalised gaze, the pupil diameter, the tracker's confidence and one of seven
emotion labels. Glance expects it in this form (a converter from any other arrangement only has to write it):

    ROOT/dataset.json                 {"format": "emo-film/1", "name", "synthetic": bool, "fps": frames per second,
                                       "emotions": [the 7 names], ...anything else (generator, licence)}
    ROOT/clips.csv                    clip,participant,emotion,onset_frame,frames
    ROOT/clips/<clip>/frames.csv      frame,t_ms,gaze_x,gaze_y,pupil_diameter,confidence,label[,object]
    ROOT/clips/<clip>/eye/<frame>.png     grey eye crop (any size; the reader resizes to the model's)
    ROOT/clips/<clip>/scene/<frame>.jpg   scene frame, BGR/RGB JPEG (any size)

- ``<frame>`` is the frame number zero-padded to 6 digits; ``t_ms`` is the frame's time from the clip start.
- ``gaze_x``, ``gaze_y`` are in [0, 1] of the scene frame (x right, y down); ``pupil_diameter`` in mm
  (any unit works if it is the same for every clip: the model's normalisation is in the manifest);
  ``confidence`` in [0, 1] (below 0.5 the reader treats pupil and gaze as missing and holds the last valid value).
- ``label`` is an emotion name from dataset.json's list (the clip's emotion from ``onset_frame`` on, ``neutral``
  before); ``object`` (optional) is the scene class under the gaze, empty for none: only synthetic data has it,
  and it trains the model's cause head.
- ``participant`` names the wearer, so splits can hold people out.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "emo-film/1"
FRAME_COLUMNS = ("frame", "t_ms", "gaze_x", "gaze_y", "pupil_diameter", "confidence", "label", "object")
CLIP_COLUMNS = ("clip", "participant", "emotion", "onset_frame", "frames")


@dataclass(frozen=True)
class ClipInfo:
    clip: str
    participant: str
    emotion: str
    onset_frame: int
    frames: int


@dataclass(frozen=True)
class FrameTable:
    """One clip's frames.csv as arrays."""

    t_ms: np.ndarray
    gaze: np.ndarray
    """(F, 2) float"""
    pupil_diameter: np.ndarray
    confidence: np.ndarray
    label: list[str]
    object: list[str]
    """Empty strings where the column is absent or the gaze is on nothing."""


def eye_path(root: Path, clip: str, frame: int) -> Path:
    return root / "clips" / clip / "eye" / f"{frame:06d}.png"


def scene_path(root: Path, clip: str, frame: int) -> Path:
    return root / "clips" / clip / "scene" / f"{frame:06d}.jpg"


def write_dataset_json(root: Path, info: dict[str, Any]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset.json").write_text(json.dumps({"format": FORMAT, **info}, indent=2) + "\n")


def read_dataset_json(root: Path) -> dict[str, Any]:
    path = root / "dataset.json"
    if not path.exists():
        raise FileNotFoundError(f"{root} is not an EMO-Film dataset: {path} is missing")
    info = json.loads(path.read_text())
    if info.get("format") != FORMAT:
        raise ValueError(f"{path}: format {info.get('format')!r}, this reader reads {FORMAT!r}")
    for key in ("fps", "emotions"):
        if key not in info:
            raise ValueError(f"{path}: missing {key!r}")
    return info


def write_clips(root: Path, clips: list[ClipInfo]) -> None:
    with (root / "clips.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CLIP_COLUMNS)
        for c in clips:
            w.writerow([c.clip, c.participant, c.emotion, c.onset_frame, c.frames])


def read_clips(root: Path) -> list[ClipInfo]:
    path = root / "clips.csv"
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    try:
        return [
            ClipInfo(r["clip"], r["participant"], r["emotion"], int(r["onset_frame"]), int(r["frames"]))
            for r in rows
        ]
    except (KeyError, ValueError) as error:
        raise ValueError(f"{path}: bad row ({error}); columns must be {', '.join(CLIP_COLUMNS)}") from None


def write_frames(path: Path, table: FrameTable) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FRAME_COLUMNS)
        for i in range(len(table.t_ms)):
            w.writerow(
                [
                    i,
                    int(table.t_ms[i]),
                    f"{table.gaze[i, 0]:.5f}",
                    f"{table.gaze[i, 1]:.5f}",
                    f"{table.pupil_diameter[i]:.4f}",
                    f"{table.confidence[i]:.3f}",
                    table.label[i],
                    table.object[i],
                ]
            )


def read_frames(path: Path) -> FrameTable:
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path}: no frames")
    missing = [c for c in FRAME_COLUMNS[:-1] if c not in rows[0]]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    for i, r in enumerate(rows):
        if int(r["frame"]) != i:
            raise ValueError(f"{path}: frame numbers must run 0, 1, 2, …; row {i} says {r['frame']}")
    return FrameTable(
        t_ms=np.array([float(r["t_ms"]) for r in rows]),
        gaze=np.array([[float(r["gaze_x"]), float(r["gaze_y"])] for r in rows]),
        pupil_diameter=np.array([float(r["pupil_diameter"]) for r in rows]),
        confidence=np.array([float(r["confidence"]) for r in rows]),
        label=[r["label"] for r in rows],
        object=[r.get("object") or "" for r in rows],
    )

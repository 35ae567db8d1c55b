"""Synthetic EMO-Film: clips of a wearer's eye and scene around an emotion's onset, in the layout of layout.py.

    python3 -m glance_train.emotion.generate --out DIR --clips 700 --seed 1 [--wearers 24] [--jobs 2]
        [--shift-openness D --shift-squint D]

Each clip: ``FRAMES`` frames at ``FPS``; from ``onset_frame`` on, the clip's emotion shows in the eye
(expression.py) and in the gaze; before it the wearer mostly looks at the cause, an object whose class depends
on the emotion (labels.CAUSE_AFFINITY). Neutral clips have no onset (onset_frame -1). Eye crops come from the
project's eye renderer (synth/eye_render.py), scene frames from its scene renderer (synth/scene_render.py).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from glance_train.emotion.expression import Wearer, eye_track
from glance_train.emotion.eye_camera import CAMERA_SIZE, camera_augment, through_codec
from glance_train.emotion.labels import EMOTIONS
from glance_train.emotion.layout import ClipInfo, FrameTable, eye_path, scene_path, write_clips, write_dataset_json
from glance_train.emotion.layout import write_frames
from glance_train.emotion.scene_clip import clip_scene
from glance_train.synth.eye_model import make_eye_geometry
from glance_train.synth.eye_render import render_eye
from glance_train.synth.eye_state import EyeAppearance, EyeState
from glance_train.synth.scene_render import render_scene

GENERATOR = "glance_train.emotion.generate"
VERSION = 3
"""2: neutral clips view freely and follow calibration markers (scene_clip.NEUTRAL_GAZE), twice as many neutral
clips, gaze over the session camera's whole field, the pupil measured in the image as the device measures it.
3: eye crops through the daemon's path (eye_camera.py: drawn at the camera's 192 px, H.264 encoded and decoded,
area-resized), and the wearer's unexplained pupil wander as wide as the session generator's (expression.py)."""
FPS = 4.0
FRAMES = 22
ONSET_RANGE = (5, 9)
EYE_SIZE = 32
RENDER_SIZE = CAMERA_SIZE
"""Eyes are drawn at the eye camera's size and pass its codec before the area-downscale to 32 (eye_camera.py)."""
AZ_RANGE_DEG, EL_RANGE_DEG = 64.0, 50.0
"""Eye rotation across the scene frame: normalised gaze 0..1 spans these angles (the synthetic session scene
camera's field, +-32 x +-25 degrees: version 1's +-25 x +-19 left a session's corners outside what the models saw)."""
MM_PER_WIDTH = 30.75
"""Pupil diameter in mm per eye-image width of the synthetic eye camera: the device converts the pupil it measures
in the image with the same factor (emotion config ``pupilMmPerWidth``)."""
CLASS_CYCLE: tuple[str, ...] = ("neutral", *EMOTIONS)
"""Clips' emotions in turn: neutral twice per cycle, because a wearer is mostly in no emotion episode and the
neutral class must cover all they do meanwhile (free viewing, markers, blinks)."""


@dataclass(frozen=True)
class ClipJob:
    root: Path
    index: int
    clip: str
    participant: str
    wearer: Wearer
    emotion: str
    seed: int


def gaze_vector(gx: float, gy: float) -> tuple[float, float, float]:
    az = math.radians((gx - 0.5) * AZ_RANGE_DEG)
    el = -math.radians((gy - 0.5) * EL_RANGE_DEG)
    return (math.sin(az) * math.cos(el), -math.sin(el), math.cos(az) * math.cos(el))


def render_clip(job: ClipJob) -> ClipInfo:
    rng = np.random.default_rng(job.seed)
    wr = np.random.default_rng(job.wearer.seed)  # the wearer's eye: the same in every clip
    geometry = make_eye_geometry("right", wr)
    appearance = EyeAppearance.random(wr)
    t_s = np.arange(FRAMES) / FPS
    neutral = job.emotion == "neutral"
    onset = -1 if neutral else int(rng.integers(ONSET_RANGE[0], ONSET_RANGE[1] + 1))
    onset_s = math.inf if neutral else onset / FPS
    track, _ = eye_track(rng, job.wearer, job.emotion, t_s, onset_s)
    scene = clip_scene(rng, job.emotion, t_s, onset_s)
    augment = camera_augment(rng)
    confidence = np.where(track.blink, rng.uniform(0.0, 0.3, FRAMES), rng.uniform(0.85, 1.0, FRAMES))
    measured = np.zeros(FRAMES)
    camera: list[np.ndarray] = []
    for k in range(FRAMES):
        blink = bool(track.blink[k])
        state = EyeState(
            geometry=geometry,
            appearance=appearance,
            gaze=gaze_vector(*scene.gaze[k]),
            pupil_radius_mm=float(track.pupil_mm[k]) / 2,
            openness=float(rng.uniform(0.0, 0.2)) if blink else float(track.openness[k]),
            blink=blink,
            squint=float(track.squint[k]),
        )
        img, drawn = render_eye(state, rng, RENDER_SIZE, augment)
        # The pupil as the device measures it: the drawn ellipse's major axis, which grows as the eye turns towards
        # the camera (perspective), not the anatomical diameter; a tracker's guess while the lids are shut.
        measured[k] = (
            float(rng.uniform(1.0, 3.0)) if blink
            else drawn.major / RENDER_SIZE * MM_PER_WIDTH + float(rng.normal(0.0, 0.05))
        )
        camera.append(img)
        frame, _ = render_scene(scene.world, float(t_s[k]))
        path = scene_path(job.root, job.clip, k)
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    for k, crop in enumerate(through_codec(camera, FPS, EYE_SIZE)):
        path = eye_path(job.root, job.clip, k)
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), crop)
    objects = [scene.world.objects[i].cls if i >= 0 else "" for i in scene.on_object]
    labels = ["neutral" if neutral or k < onset else job.emotion for k in range(FRAMES)]
    table = FrameTable(
        t_ms=np.round(t_s * 1000),
        gaze=scene.gaze,
        pupil_diameter=measured,
        confidence=confidence,
        label=labels,
        object=objects,
    )
    write_frames(job.root / "clips" / job.clip / "frames.csv", table)
    return ClipInfo(job.clip, job.participant, job.emotion, onset, FRAMES)


def generate(
    root: Path,
    clips: int,
    seed: int,
    wearers: int = 24,
    jobs: int = 1,
    shift: tuple[float, float] = (0.0, 0.0),
) -> list[ClipInfo]:
    """Write ``clips`` clips (emotions balanced, wearers round-robin) under ``root``; deterministic in ``seed``."""
    if clips < 1 or wearers < 1:
        raise ValueError(f"clips and wearers must be positive, got {clips} and {wearers}")
    rng = np.random.default_rng(seed)
    people = [Wearer.random(rng).shifted(*shift) for _ in range(wearers)]
    emotions = [CLASS_CYCLE[i % len(CLASS_CYCLE)] for i in range(clips)]
    order = rng.permutation(clips)
    seeds = np.random.SeedSequence(seed).generate_state(clips)
    work = [
        ClipJob(root, i, f"c{i:05d}", f"p{seed}-{i % wearers:03d}", people[i % wearers], emotions[order[i]], int(s))
        for i, s in enumerate(seeds)
    ]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            infos = list(pool.map(render_clip, work, chunksize=8))
    else:
        infos = [render_clip(j) for j in work]
    write_clips(root, infos)
    write_dataset_json(
        root,
        {
            "name": "emo-film-synthetic",
            "synthetic": True,
            "fps": FPS,
            "emotions": list(EMOTIONS),
            "generator": {
                "module": GENERATOR,
                "version": VERSION,
                "seed": seed,
                "clips": clips,
                "wearers": wearers,
                "shift": {"openness": shift[0], "squint": shift[1]},
            },
        },
    )
    return infos


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="glance_train.emotion.generate", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--clips", type=int, default=700)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--wearers", type=int, default=24)
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--shift-openness", type=float, default=0.0)
    p.add_argument("--shift-squint", type=float, default=0.0)
    args = p.parse_args(argv)
    try:
        generate(args.out, args.clips, args.seed, args.wearers, args.jobs, (args.shift_openness, args.shift_squint))
    except ValueError as error:
        print(f"generate: {error}", file=sys.stderr)
        return 2
    print(f"{args.out}: {args.clips} clips")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Write a complete synthetic session directory (DESIGN.md, "Session format") from a seed.

    python3 -m glance_train.synth.session --out DIR --seconds 30 --seed 1 [--eye-fps 120] [--scene-fps 30]
        [--eye-noise SIGMA] [--eye-blur SIGMA] [--reflections N] [--slip-at S --slip-px DX,DY [--slip-ramp S]]

The harder-sequence options (noise, blur, ambient reflections, slippage) are off by default: without them the
frames, labels and files are exactly those the generator made before the options existed.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from glance_train.synth.eye_model import EyeGeometry, make_eye_geometry
from glance_train.synth.eye_state import EyeAppearance, EyeAugment
from glance_train.synth.gaze_script import Timeline, build_timeline
from glance_train.synth.groundtruth import UNITS, write_json
from glance_train.synth.scene_camera import SceneCamera
from glance_train.synth.scene_objects import SceneWorld, make_world
from glance_train.synth.seeding import child_rng
from glance_train.synth.serial_log import serial_lines
from glance_train.synth.slippage import Slip
from glance_train.synth.streams import ExpressionHook, Truth, eye_frames, scene_frames
from glance_train.synth.timestamps import frame_times_ns
from glance_train.synth.video import verify_frame_count, write_video

GENERATOR = "glance_train.synth.session"
VERSION = 1
T0_NS = 1_000_000_000_000
"""Clock origin: the monotonic clock has been running ~17 min, so nothing may assume timestamps start at 0."""
STARTED_WALL_MS = 1_764_000_000_000
EYE_SIZE = 192


@dataclasses.dataclass(frozen=True)
class SessionConfig:
    seconds: float = 30.0
    seed: int = 1
    eye_fps: float = 120.0
    scene_fps: float = 30.0
    jobs: int = min(3, os.cpu_count() or 1)
    eye_noise: float | None = None
    """Sensor noise sigma (grey levels) of the eye images; None keeps the renderer's default."""
    eye_blur: float | None = None
    reflections: int = 0
    """Ambient light sources whose corneal reflections wander over the pupil."""
    slip: Slip | None = None

    def eye_augment(self, seed: int) -> EyeAugment | None:
        """The eye-image augmentation these options ask for; None (the renderer's default) if none is set."""
        if self.eye_noise is None and self.eye_blur is None and self.reflections == 0:
            return None
        base = EyeAugment()
        rng = child_rng(seed, "reflections")
        sources = tuple(
            (float(rng.uniform(-30, 30)), float(rng.uniform(-30, 30)), float(rng.uniform(-10, 10)))
            for _ in range(self.reflections)
        )
        return dataclasses.replace(
            base,
            noise_sigma=base.noise_sigma if self.eye_noise is None else self.eye_noise,
            blur_sigma=base.blur_sigma if self.eye_blur is None else self.eye_blur,
            reflections_mm=sources,
        )


def _fps_json(fps: float) -> float | int:
    return int(fps) if float(fps).is_integer() else fps


def _write_ts(path: Path, times_ns: np.ndarray) -> None:
    path.write_text("".join(f"{int(t)}\n" for t in times_ns), encoding="ascii")


@dataclasses.dataclass(frozen=True)
class _StreamJob:
    name: str
    out: Path
    fps: float
    times: np.ndarray
    timeline: Timeline
    camera: SceneCamera
    world: SceneWorld
    seed: int
    geometry: EyeGeometry | None
    appearance: EyeAppearance | None
    pupil_scale: float
    progress: bool
    position: int
    augment: EyeAugment | None = None
    slip: Slip | None = None
    expression: ExpressionHook | None = None


@dataclasses.dataclass(frozen=True)
class _StreamResult:
    name: str
    truth: Truth
    codec: str


def _render_stream(job: _StreamJob) -> _StreamResult:
    """Render, encode and read back one stream (runs in a worker process when there are several cores)."""
    truth: Truth = {}
    path = job.out / f"{job.name}.mp4"
    if job.geometry is not None and job.appearance is not None:
        frames = eye_frames(job.geometry, job.appearance, job.timeline, job.camera, job.times, T0_NS,
                            job.seed, job.name, truth, EYE_SIZE, job.pupil_scale, job.augment, job.slip,
                            job.expression)
        size = (EYE_SIZE, EYE_SIZE)
    else:
        frames = scene_frames(job.world, job.timeline, job.times, T0_NS, truth)
        size = (job.camera.width, job.camera.height)
    bar = tqdm(frames, total=len(job.times), desc=job.name, unit="f", position=job.position, leave=False,
               disable=None if job.progress else True)
    count, codec = write_video(path, bar, job.fps, size)
    verify_frame_count(path, count)
    return _StreamResult(job.name, truth, codec)


@dataclasses.dataclass(frozen=True)
class SessionSummary:
    out: Path
    frames: dict[str, int]
    serial_lines: int
    codecs: dict[str, str]
    seconds: float

    def __str__(self) -> str:
        frames = ", ".join(f"{k} {v}" for k, v in self.frames.items())
        codecs = ", ".join(f"{k} {v}" for k, v in self.codecs.items())
        return (f"wrote {self.out}: frames {frames}; {self.serial_lines} serial lines; codecs {codecs}; "
                f"{self.seconds:.1f} s")


Expressor = Callable[[Timeline, SceneWorld], tuple[ExpressionHook, dict[str, object]]]
"""Given the session's behaviour and scene, an expression over the eye and its ground truth
(groundtruth.json's ``emotion``); glance_train.emotion.session makes emotion episodes with it."""


def generate_session(
    out: Path, cfg: SessionConfig, progress: bool = True, expressor: Expressor | None = None
) -> SessionSummary:
    """Generate every file of the session in ``out``; without ``expressor`` exactly as before it existed."""
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    seed = cfg.seed
    camera = SceneCamera()
    world = make_world(child_rng(seed, "world"), camera.width, camera.height)
    timeline = build_timeline(world, camera, cfg.seconds, child_rng(seed, "timeline"))
    end_ns = T0_NS + int(round(cfg.seconds * 1e9))

    # Free-running cameras: each starts at its own moment and runs off its own crystal.
    clock = child_rng(seed, "clocks")
    eye0_start = T0_NS + int(clock.uniform(0.5e6, 2.5e6))
    starts = {"eye0": eye0_start, "eye1": eye0_start + int(clock.uniform(2e6, 5e6)),
              "scene": T0_NS + int(clock.uniform(1e6, 10e6))}
    fps = {"eye0": cfg.eye_fps, "eye1": cfg.eye_fps, "scene": cfg.scene_fps}
    times = {
        name: frame_times_ns(child_rng(seed, "ts", name), starts[name], fps[name], end_ns, 200_000,
                             float(clock.uniform(-30, 30)))
        for name in ("eye0", "eye1", "scene")
    }

    geoms = {"eye0": make_eye_geometry("right", child_rng(seed, "eye0", "geometry")),
             "eye1": make_eye_geometry("left", child_rng(seed, "eye1", "geometry"))}
    person = EyeAppearance.random(child_rng(seed, "appearance"))
    # One face, two cameras: same skin and iris, different texture detail and light direction per side.
    apps = {"eye0": person,
            "eye1": dataclasses.replace(person, texture_seed=person.texture_seed + 7919,
                                        light_angle=float(np.pi - person.light_angle))}
    pupil_scale = {"eye0": 1.0, "eye1": 1.02}

    augment = cfg.eye_augment(seed)
    expression, emotion_truth = expressor(timeline, world) if expressor is not None else (None, None)
    jobs = [
        _StreamJob(name, out, fps[name], times[name], timeline, camera, world, seed, geoms.get(name),
                   apps.get(name), pupil_scale.get(name, 1.0), progress, pos, augment, cfg.slip, expression)
        for pos, name in enumerate(("eye0", "eye1", "scene"))
    ]
    workers = max(1, min(cfg.jobs, len(jobs)))
    if workers == 1:
        results = [_render_stream(job) for job in jobs]
    else:
        # Streams are independent and every frame has its own keyed RNG: processes change only the speed.
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_render_stream, jobs))
    truth = {r.name: r.truth for r in results}
    codecs = {r.name: r.codec for r in results}

    for name, t in times.items():
        _write_ts(out / f"{name}.ts", t)
    lines = serial_lines(child_rng(seed, "serial"), T0_NS, cfg.seconds)
    (out / "serial.log").write_text("".join(line + "\n" for line in lines), encoding="ascii")

    harder: dict[str, object] = {}
    if augment is not None:
        harder["eyeAugment"] = {"noiseSigma": augment.noise_sigma, "blurSigma": augment.blur_sigma,
                                "reflections": len(augment.reflections_mm)}
    if cfg.slip is not None:
        harder["slip"] = cfg.slip.to_json()
    if emotion_truth is not None:
        harder["emotion"] = emotion_truth
    write_json(out / "groundtruth.json", {
        "version": VERSION,
        "units": UNITS,
        "t0Ns": T0_NS,
        "eye0": truth["eye0"],
        "eye1": truth["eye1"],
        "scene": truth["scene"],
        "calibration": [m.to_json() for m in timeline.markers],
        "events": timeline.events,
        "sceneCamera": camera.to_json(),
        "eyeModel": {name: g.to_json() for name, g in geoms.items()},
        **harder,
    })
    streams = {
        name: {"file": f"{name}.mp4", "timestamps": f"{name}.ts", "fps": _fps_json(fps[name]),
               "width": EYE_SIZE if name != "scene" else camera.width,
               "height": EYE_SIZE if name != "scene" else camera.height}
        for name in ("eye0", "eye1", "scene")
    }
    write_json(out / "session.json", {
        "id": f"sample-{seed}",
        "device": "synthetic",
        "startedWallMs": STARTED_WALL_MS,
        "synthetic": True,
        "streams": streams,
        "serial": "serial.log",
        "sceneCamera": camera.to_json(),
        "generator": {"name": GENERATOR, "seed": seed, "version": VERSION},
    }, compact=False)
    return SessionSummary(out, {name: len(t) for name, t in times.items()}, len(lines), codecs,
                          time.monotonic() - started)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python3 -m {GENERATOR}", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="session directory to write (created if missing)")
    p.add_argument("--seconds", type=float, default=30.0, help="length; the first 13 s show markers")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--eye-fps", type=float, default=120.0)
    p.add_argument("--scene-fps", type=float, default=30.0)
    p.add_argument("--jobs", type=int, default=SessionConfig.jobs, help="processes (streams in parallel)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--eye-noise", type=float, help="eye-image sensor noise sigma, grey levels (default 2)")
    p.add_argument("--eye-blur", type=float, help="eye-image blur sigma, px at 192 px (default 0.7)")
    p.add_argument("--reflections", type=int, default=0, help="ambient light sources reflected on the cornea")
    p.add_argument("--slip-at", type=float, help="seconds from the start at which the frame slips")
    p.add_argument("--slip-px", type=_pair, help="DX,DY: how far the eyeball centre's image moves, px")
    p.add_argument("--slip-ramp", type=float, default=0.5, help="seconds the slip takes")
    return p


def _pair(text: str) -> tuple[float, float]:
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError("expected DX,DY")
    try:
        return float(parts[0]), float(parts[1])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected DX,DY numbers: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not (0 < args.seconds <= 3600) or args.eye_fps <= 0 or args.scene_fps <= 0 or args.seed < 0:
        print("error: --seconds must be in (0, 3600], fps positive, --seed non-negative", file=sys.stderr)
        return 2
    if (args.slip_at is None) != (args.slip_px is None):
        print("error: --slip-at and --slip-px go together", file=sys.stderr)
        return 2
    harder = (args.eye_noise, args.eye_blur, args.reflections, args.slip_ramp)
    negative = [v for v in harder if v is not None and v < 0]
    if negative:
        print("error: --eye-noise, --eye-blur, --reflections and --slip-ramp must not be negative",
              file=sys.stderr)
        return 2
    slip = Slip(args.slip_at, args.slip_px, args.slip_ramp) if args.slip_at is not None else None
    cfg = SessionConfig(seconds=args.seconds, seed=args.seed, eye_fps=args.eye_fps, scene_fps=args.scene_fps,
                        jobs=max(1, args.jobs), eye_noise=args.eye_noise, eye_blur=args.eye_blur,
                        reflections=args.reflections, slip=slip)
    try:
        summary = generate_session(args.out, cfg, progress=not args.quiet)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())

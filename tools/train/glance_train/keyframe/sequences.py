"""Synthetic scene sequences with per-pixel class masks, seen by a moving head, for key-frame scheduling.

    /usr/bin/python3 -m glance_train.keyframe.sequences --out DIR --seed 100 --count 4 [--frames 96]
        [--profile drift-turns|eyewear]

The scene is the session generator's world (glance_train.synth: textured room, 4-6 moving objects that occlude
each other), rendered on a canvas larger than the view; the view is a 640x480 window whose position follows a
head (glance_train.keyframe.head_motion). Profile ``drift-turns`` (the default, the original data): mostly still
with a slow drift and tremor, with occasional short head turns (a smooth step of tens of pixels in a fraction of
a second). Profile ``eyewear``: still / pursuit / head-turn segments with turns of 15-40 deg on a room twice as
wide (two tiles of objects), motion-blurred over the exposure when the head is fast; a turn replaces a third or
more of the view, which is what a key-frame scheduler must notice.

Each sequence directory holds ``frames.u8`` (N grey frames, 160 px wide, INTER_AREA as the device shrinks
scene frames), ``labels.u8`` (N class maps, 320 px wide, nearest: 0 background, 1.. the classes in
``CLASSES`` order), ``bgr-s100.u8`` … ``bgr-s25.u8`` (the segmentation network's BGR input at each device scale of
its 160x120 base, resized from the 640x480 view with INTER_AREA as the segmentation stage does), ``grey40.u8``
(40x30 grey, the resolution policy's content features) and ``sequence.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from glance_train.keyframe.head_motion import EXPOSURE_S, EYEWEAR_MARGIN, PROFILES, EyewearHead, make_eyewear_head
from glance_train.synth.scene_objects import CLASSES, SceneWorld, make_world
from glance_train.synth.scene_render import background, draw_object

VIEW_W, VIEW_H = 640, 480
MARGIN_X, MARGIN_Y = 100, 75
"""Canvas = view + 2 margins: how far the head can turn before the view leaves the rendered room."""
WORK_W = 160
"""Width of the grey frames the scheduler and the flow see (the device's working size)."""
LABEL_W = 320
"""Width of the label maps: a segmentation output finer than the flow (which warpLabels scales), and fine enough
that subsampling the 640 px masks does not itself make small objects flicker."""
FPS = 30.0
SEG_BASE = (160, 120)
"""The segmentation network's base input (models/zoo/segmentation manifest)."""
SEG_SCALES = (1.0, 0.75, 0.5, 0.25)
"""The device's scales (pipelines/segmentation/config.ts SEGMENTATION_SCALES)."""
FEATURE_SIDE = (40, 30)
"""The resolution policy's content features come from the frame at 40x30 grey (glance_train.seg.traces)."""


@dataclass(frozen=True)
class HeadPath:
    """View offset (px of the 640 view) over time: drift + tremor + smooth head turns."""

    turns: tuple[tuple[float, float, float, float], ...]
    """(start s, duration s, dx px, dy px) of each turn."""
    drift: tuple[float, float, float, float]
    """x, y amplitude (px) and two frequencies (Hz) of the slow drift."""
    tremor_seed: int

    def offset(self, t: np.ndarray) -> np.ndarray:
        x = self.drift[0] * np.sin(2 * np.pi * self.drift[2] * t)
        y = self.drift[1] * np.sin(2 * np.pi * self.drift[3] * t + 1.0)
        for start, dur, dx, dy in self.turns:
            s = np.clip((t - start) / dur, 0.0, 1.0)
            ease = s * s * (3 - 2 * s)  # smoothstep: the head accelerates and brakes
            x = x + dx * ease
            y = y + dy * ease
        rng = np.random.default_rng(self.tremor_seed)
        ph = rng.uniform(0, 2 * np.pi, 2)
        x = x + 0.8 * np.sin(2 * np.pi * 3.1 * t + ph[0])
        y = y + 0.6 * np.sin(2 * np.pi * 2.3 * t + ph[1])
        return np.stack([x, y], axis=-1)


def make_head(rng: np.random.Generator, seconds: float) -> HeadPath:
    """About one head turn every 2 s (0-3 a sequence, 0.2-0.5 s each, as quick as a wearer's glance aside);
    between them the head is nearly still (slow drift, tremor): most of a wearer's day."""
    n = int(rng.poisson(seconds / 2.0))
    n = min(n, 3)
    turns = []
    x = y = 0.0
    starts = np.sort(rng.uniform(0.2, max(seconds - 0.6, 0.3), n))
    for start in starts:
        dur = float(rng.uniform(0.2, 0.5))
        tx = float(np.clip(x + rng.uniform(-1, 1) * MARGIN_X * 1.4, -MARGIN_X + 8, MARGIN_X - 8))
        ty = float(np.clip(y + rng.uniform(-1, 1) * MARGIN_Y * 0.8, -MARGIN_Y + 8, MARGIN_Y - 8))
        turns.append((float(start), dur, tx - x, ty - y))
        x, y = tx, ty
    drift = (float(rng.uniform(0, 4)), float(rng.uniform(0, 3)), float(rng.uniform(0.1, 0.3)), 0.2)
    return HeadPath(tuple(turns), drift, int(rng.integers(0, 2**31)))


def make_wide_world(rng: np.random.Generator, margin: tuple[int, int]) -> SceneWorld:
    """A room for the eyewear profile: the canvas is view + 2 margins, filled by side-by-side tiles each made like
    the original world (4-6 objects), so the objects a view sees are as many and as dense as before."""
    width, height = VIEW_W + 2 * margin[0], VIEW_H + 2 * margin[1]
    tiles = 2
    tile_w = width // tiles
    objects = []
    texture = 0
    for i in range(tiles):
        w = make_world(rng, tile_w, height)
        texture = texture or w.texture_seed
        for o in w.objects:
            objects.append(replace(o, id=len(objects), base=(o.base[0] + i * tile_w, o.base[1]),
                                   depth=10 * i + o.depth))
    return SceneWorld(width, height, tuple(objects), texture)


def motion_blur(view: np.ndarray, velocity_px_s: np.ndarray) -> np.ndarray:
    """The view integrated over the exposure while the head moves at ``velocity_px_s`` (view px a second): a line
    kernel along the motion. Labels stay sharp (the truth is the mid-exposure scene)."""
    dx, dy = (float(v) * EXPOSURE_S for v in velocity_px_s)
    length = float(np.hypot(dx, dy))
    if length < 1.0:
        return view
    size = int(np.ceil(length)) | 1
    k = np.zeros((size, size), np.float32)
    c = size // 2
    n = max(2, int(np.ceil(length * 2)))
    for a in np.linspace(-0.5, 0.5, n):
        k[int(round(c + a * dy)), int(round(c + a * dx))] += 1.0
    return cv2.filter2D(view, -1, k / k.sum(), borderType=cv2.BORDER_REFLECT)


def render_view(world: SceneWorld, t_s: float, offset: tuple[float, float],
                margin: tuple[int, int] = (MARGIN_X, MARGIN_Y)) -> tuple[np.ndarray, np.ndarray]:
    """The 640x480 view at ``offset`` from the canvas centre: BGR image and class map (0 = background)."""
    img = background(world).copy()
    labels = np.zeros((world.height, world.width), np.uint8)
    centers = world.centers(np.array([t_s]))[:, 0]
    for obj in sorted(world.objects, key=lambda o: o.depth):
        cx, cy = (float(v) for v in centers[obj.id])
        draw_object(img, obj, cx, cy)
        draw_object(labels, obj, cx, cy, label=CLASSES.index(obj.cls) + 1)
    img = cv2.GaussianBlur(img, (0, 0), 0.6)
    # Sub-pixel view position: translate by the fractional part, then crop.
    ox, oy = margin[0] + offset[0], margin[1] + offset[1]
    m = np.float32([[1, 0, -ox], [0, 1, -oy]])
    view = cv2.warpAffine(img, m, (VIEW_W, VIEW_H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    lab = cv2.warpAffine(labels, m, (VIEW_W, VIEW_H), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT)
    return view, lab


def work_size() -> tuple[int, int]:
    return WORK_W, round(VIEW_H * WORK_W / VIEW_W)


def label_size() -> tuple[int, int]:
    return LABEL_W, round(VIEW_H * LABEL_W / VIEW_W)


def shrink(view: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w, h = work_size()
    grey = cv2.resize(cv2.cvtColor(view, cv2.COLOR_BGR2GRAY), (w, h), interpolation=cv2.INTER_AREA)
    lab = cv2.resize(labels, label_size(), interpolation=cv2.INTER_NEAREST)
    return grey, lab


def seg_inputs(view: np.ndarray) -> list[np.ndarray]:
    """The segmentation network's BGR input at every device scale (INTER_AREA from the full view)."""
    out = []
    for s in SEG_SCALES:
        size = (max(8, round(SEG_BASE[0] * s)), max(8, round(SEG_BASE[1] * s)))
        out.append(cv2.resize(view, size, interpolation=cv2.INTER_AREA))
    return out


def world_and_head(seed: int, frames: int, profile: str
                   ) -> tuple[SceneWorld, HeadPath | EyewearHead, float, tuple[int, int]]:
    """The room, the head path, the objects' start time and the canvas margin of one sequence (no rendering)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown head-motion profile {profile!r}; known: {', '.join(PROFILES)}")
    rng = np.random.default_rng(seed)
    seconds = frames / FPS
    if profile == "drift-turns":
        margin = (MARGIN_X, MARGIN_Y)
        world = make_world(rng, VIEW_W + 2 * MARGIN_X, VIEW_H + 2 * MARGIN_Y)
        head: HeadPath | EyewearHead = make_head(rng, seconds)
    else:
        margin = EYEWEAR_MARGIN
        world = make_wide_world(rng, margin)
        head = make_eyewear_head(rng, seconds)
    t0 = float(rng.uniform(0, 60))  # a random moment of the objects' motion
    return world, head, t0, margin


def write_sequence(out: Path, seed: int, frames: int, profile: str = "drift-turns") -> dict[str, object]:
    cv2.setNumThreads(1)  # a shared 2-core box: no OpenCV thread pool fighting the other jobs
    world, head, t0, margin = world_and_head(seed, frames, profile)
    times = np.arange(frames) / FPS
    offsets = head.offset(times)
    # Head velocity at each frame (central difference over a millisecond), for the eyewear profile's blur.
    velocity = (head.offset(times + 5e-4) - head.offset(times - 5e-4)) / 1e-3
    greys, labels, grey40 = [], [], []
    bgr: list[list[np.ndarray]] = [[] for _ in SEG_SCALES]
    for t, off, vel in zip(times, offsets, velocity, strict=True):
        view, lab = render_view(world, t0 + float(t), (float(off[0]), float(off[1])), margin)
        if profile == "eyewear":
            view = motion_blur(view, vel)
        g, lab_small = shrink(view, lab)
        greys.append(g)
        labels.append(lab_small)
        for i, im in enumerate(seg_inputs(view)):
            bgr[i].append(im)
        grey40.append(cv2.resize(cv2.cvtColor(bgr[0][-1], cv2.COLOR_BGR2GRAY), FEATURE_SIDE,
                                 interpolation=cv2.INTER_AREA))
    out.mkdir(parents=True, exist_ok=True)
    (out / "frames.u8").write_bytes(np.stack(greys).tobytes())
    (out / "labels.u8").write_bytes(np.stack(labels).tobytes())
    (out / "grey40.u8").write_bytes(np.stack(grey40).tobytes())
    for s, ims in zip(SEG_SCALES, bgr, strict=True):
        (out / f"bgr-s{round(s * 100)}.u8").write_bytes(np.stack(ims).tobytes())
    w, h = work_size()
    meta = {
        "seed": seed,
        "frames": frames,
        "fps": FPS,
        "width": w,
        "height": h,
        "labelWidth": label_size()[0],
        "labelHeight": label_size()[1],
        "classes": ["background", *CLASSES],
        "segBase": list(SEG_BASE),
        "segScales": list(SEG_SCALES),
        "profile": profile,
        "headTurns": [list(tu) for tu in head.turns] if isinstance(head, HeadPath)
        else [[s.start, s.duration, s.dx, s.dy] for s in head.segments if s.kind == "turn"],
        "synthetic": True,
    }
    (out / "sequence.json").write_text(json.dumps(meta) + "\n")
    return meta


def write_sequences(out: Path, seed: int, count: int, frames: int, profile: str = "drift-turns") -> list[Path]:
    dirs = []
    for i in range(count):
        d = out / f"seq-{seed + i:05d}"
        write_sequence(d, seed + i, frames, profile)
        dirs.append(d)
    return dirs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="keyframe-sequences", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, required=True, help="first seed; sequence i uses seed + i")
    p.add_argument("--count", type=int, default=4)
    p.add_argument("--frames", type=int, default=96)
    p.add_argument("--profile", choices=PROFILES, default="drift-turns",
                   help="head motion: the original drift and short turns, or the eyewear still/pursuit/turn model")
    args = p.parse_args(argv)
    if args.count < 1 or args.frames < 2:
        print("keyframe-sequences: --count must be ≥ 1 and --frames ≥ 2", file=sys.stderr)
        return 2
    for d in write_sequences(args.out, args.seed, args.count, args.frames, args.profile):
        print(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())

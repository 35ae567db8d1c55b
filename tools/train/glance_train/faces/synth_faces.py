"""Synthetic face identities: parametric grey faces whose identity (head shape, hair, eyes, brows, nose, mouth,
glasses, beard) is fixed per person and whose appearance varies per frame (pose, scale, expression, blur, noise)
and per video (lighting, background, camera gain) — what real tracks lack in number here.

Video-level conditions are shared by every track of a video, so a track embedding trained the
video-centralised way (other tracks of the same video are the negatives) cannot separate tracks by scene alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SIDE = 64


@dataclass(frozen=True)
class Identity:
    head_w: float
    head_h: float
    skin: float
    hair: float
    hairline: float
    hair_volume: float
    eye_gap: float
    eye_y: float
    eye_size: float
    brow: float
    brow_tilt: float
    nose_len: float
    nose_w: float
    mouth_w: float
    mouth_y: float
    lips: float
    glasses: bool
    beard: float


def random_identity(rng: np.random.Generator) -> Identity:
    u = rng.uniform
    return Identity(
        head_w=u(0.30, 0.40), head_h=u(0.40, 0.50), skin=u(90, 210), hair=u(10, 120), hairline=u(0.05, 0.25),
        hair_volume=u(0.0, 0.12), eye_gap=u(0.12, 0.2), eye_y=u(-0.08, 0.04), eye_size=u(0.03, 0.06),
        brow=u(0.0, 1.0), brow_tilt=u(-0.3, 0.3), nose_len=u(0.08, 0.18), nose_w=u(0.03, 0.08),
        mouth_w=u(0.08, 0.18), mouth_y=u(0.18, 0.28), lips=u(0.2, 1.0), glasses=bool(rng.random() < 0.25),
        beard=float(rng.random() < 0.25) * u(0.3, 1.0),
    )


@dataclass(frozen=True)
class Scene:
    """Video-level conditions: shared by every track of a video."""

    light_dir: float
    light_gain: float
    contrast: float
    background: float
    texture_seed: int
    noise: float


def random_scene(rng: np.random.Generator) -> Scene:
    return Scene(
        light_dir=rng.uniform(-1, 1), light_gain=rng.uniform(0.0, 0.6), contrast=rng.uniform(0.6, 1.2),
        background=rng.uniform(30, 220), texture_seed=int(rng.integers(1 << 30)), noise=rng.uniform(2, 10),
    )


def _pt(cx: float, cy: float, x: float, y: float, s: float) -> tuple[int, int]:
    return int(round((cx + x * s) * 16)), int(round((cy + y * s) * 16))


def render(idt: Identity, scene: Scene, yaw: float, pitch: float, scale: float, dx: float, dy: float,
           roll: float, mouth_open: float, blink: bool, blur: float, rng: np.random.Generator) -> np.ndarray:
    """One 64x64 grey frame of ``idt``; coordinates are fractions of the side, drawn at 16x subpixel precision."""
    tex = np.random.default_rng(scene.texture_seed).normal(0, 25, (8, 8)).astype(np.float32)
    img = scene.background + cv2.resize(tex, (SIDE, SIDE), interpolation=cv2.INTER_CUBIC)
    s = SIDE * scale
    cx, cy = SIDE / 2 + dx * SIDE, SIDE / 2 + dy * SIDE
    shift = 0.08 * yaw  # features slide towards the turned side; the far half narrows
    sh = 4  # cv2 shift bits
    head = (_pt(cx, cy, 0, 0, s), (int(idt.head_w * s * 16 * (1 - 0.15 * abs(yaw))), int(idt.head_h * s * 16)))
    cv2.ellipse(img, head[0], head[1], 0, 0, 360, idt.hair, -1, cv2.LINE_AA, sh)  # hair behind the head
    hair_top = _pt(cx, cy, 0, -idt.hair_volume, s)
    cv2.ellipse(img, hair_top, (head[1][0] + int(idt.hair_volume * s * 16), head[1][1]), 0, 180, 360, idt.hair, -1,
                cv2.LINE_AA, sh)
    face_c = _pt(cx, cy, shift * 0.3, idt.hairline * 0.5, s)
    face_ax = (head[1][0] - int(0.02 * s * 16), int((idt.head_h - idt.hairline * 0.5) * s * 16))
    cv2.ellipse(img, face_c, face_ax, 0, 0, 360, idt.skin, -1, cv2.LINE_AA, sh)
    if idt.beard > 0:
        cv2.ellipse(img, _pt(cx, cy, shift, idt.mouth_y + 0.05, s), (int(idt.mouth_w * 1.3 * s * 16),
                    int(0.12 * s * 16)), 0, 0, 180, idt.skin * (1 - 0.6 * idt.beard), -1, cv2.LINE_AA, sh)
    ey = idt.eye_y + pitch * 0.03
    for side in (-1, 1):
        near = 1 - 0.25 * max(0.0, side * yaw)
        ex = side * idt.eye_gap * near + shift
        er = int(idt.eye_size * s * 16 * near)
        if blink:
            cv2.line(img, _pt(cx, cy, ex - idt.eye_size, ey, s), _pt(cx, cy, ex + idt.eye_size, ey, s), 30, 1,
                     cv2.LINE_AA, sh)
        else:
            cv2.ellipse(img, _pt(cx, cy, ex, ey, s), (er, int(er * 0.6)), 0, 0, 360, 235, -1, cv2.LINE_AA, sh)
            cv2.circle(img, _pt(cx, cy, ex + 0.01 * yaw, ey, s), int(er * 0.5), 25, -1, cv2.LINE_AA, sh)
        by = ey - idt.eye_size - 0.03
        cv2.line(img, _pt(cx, cy, ex - idt.eye_size * 1.3, by + side * idt.brow_tilt * 0.03, s),
                 _pt(cx, cy, ex + idt.eye_size * 1.3, by - side * idt.brow_tilt * 0.03, s),
                 idt.hair, 1 + int(idt.brow * 2), cv2.LINE_AA, sh)
        if idt.glasses:
            cv2.circle(img, _pt(cx, cy, ex, ey, s), int(er * 1.9), 20, 1, cv2.LINE_AA, sh)
    nose_tip = _pt(cx, cy, shift * 1.5, ey + idt.nose_len, s)
    pts = np.array([_pt(cx, cy, shift, ey + 0.02, s), nose_tip,
                    _pt(cx, cy, shift - idt.nose_w * 0.5, ey + idt.nose_len, s)], np.int32)
    cv2.polylines(img, [pts], False, idt.skin * 0.6, 1, cv2.LINE_AA, sh)
    mouth = _pt(cx, cy, shift, idt.mouth_y, s)
    cv2.ellipse(img, mouth, (int(idt.mouth_w * s * 8), int((0.01 + 0.04 * mouth_open) * s * 16)), 0, 0, 360,
                idt.skin * (1 - 0.5 * idt.lips), -1, cv2.LINE_AA, sh)
    # video-level lighting: a left-right gradient, then contrast; frame-level roll, blur and sensor noise
    ramp = np.linspace(-1, 1, SIDE, dtype=np.float32)[None, :] * scene.light_dir * scene.light_gain * 80
    img = (img + ramp - 128) * scene.contrast + 128
    rot = cv2.getRotationMatrix2D((SIDE / 2, SIDE / 2), roll, 1.0)
    img = cv2.warpAffine(img, rot, (SIDE, SIDE), borderMode=cv2.BORDER_REFLECT)
    if blur > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    img = img + rng.normal(0, scene.noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


BAD_KINDS = ("motion_blur", "occlusion", "profile", "misaligned")
SWITCH = "identity_switch"
"""A run of frames of ANOTHER person on screen at the same time: the tracker followed the neighbouring face for a
moment (faces crossing or occluding each other). Its frames are filled in by ``data.synthetic_tracks`` from a
co-occurring track of the same video; ``render_track`` renders them as the track's own person until then."""
ALL_KINDS = (*BAD_KINDS, SWITCH)


def bad_frame_plan(length: int, rate: float, rng: np.random.Generator,
                   switch_share: float = 0.0) -> list[str | None]:
    """Which frames of a track are bad, and how: bursts of 1–4 frames (a head turn, a hand, a camera jerk last a
    moment) until about ``rate`` of the track is covered. Real tracks from a wearable camera have them; a track
    of only clean frontal frames is what a detector's best case looks like, not what a day looks like.
    ``switch_share`` > 0: first one contiguous identity-switch run of that share of the track (part of the
    ``rate`` budget, so at most ``rate`` — a minority of the track); the bursts never overwrite it."""
    plan: list[str | None] = [None] * length
    run = int(round(switch_share * length))
    if run > 0:
        start = int(rng.integers(0, length - run + 1))
        plan[start : start + run] = [SWITCH] * run
    target = int(round(rate * length))
    while sum(k is not None for k in plan) < target:
        start, run = int(rng.integers(0, length)), int(rng.integers(1, 5))
        kind = BAD_KINDS[int(rng.integers(len(BAD_KINDS)))]
        for i in range(start, min(length, start + run)):
            if plan[i] != SWITCH:
                plan[i] = kind
    return plan


def motion_blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A camera jerk: a line kernel 7–15 px long at a random angle."""
    k = int(rng.integers(7, 16))
    kernel = np.zeros((k, k), np.float32)
    kernel[k // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), rng.uniform(0, 180), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (k, k))
    return cv2.filter2D(img, -1, kernel / max(float(kernel.sum()), 1e-6), borderType=cv2.BORDER_REFLECT)


def occlude(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A hand, a cup or another head in front of the face: a textured blob over 25–50% of the crop."""
    out = img.copy()
    tex = cv2.resize(rng.normal(0, 20, (4, 4)).astype(np.float32), (SIDE, SIDE), interpolation=cv2.INTER_CUBIC)
    blob = np.zeros((SIDE, SIDE), np.uint8)
    side = int(rng.integers(4))  # enters from one edge
    c = [(int(rng.uniform(0.2, 0.8) * SIDE), SIDE), (int(rng.uniform(0.2, 0.8) * SIDE), 0),
         (0, int(rng.uniform(0.2, 0.8) * SIDE)), (SIDE, int(rng.uniform(0.2, 0.8) * SIDE))][side]
    ax = (int(rng.uniform(0.3, 0.55) * SIDE), int(rng.uniform(0.3, 0.55) * SIDE))
    cv2.ellipse(blob, c, ax, rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA)
    a = blob.astype(np.float32) / 255
    return out * (1 - a) + (rng.uniform(40, 220) + tex) * a


def render_track(idt: Identity, scene: Scene, length: int, rng: np.random.Generator,
                 bad_rate: float = 0.0, plan_out: list[list[str | None]] | None = None,
                 switch_share: float = 0.0) -> np.ndarray:
    """A track: pose, position and expression drift smoothly over ``length`` frames; blur and blinks come and go;
    about ``bad_rate`` of the frames are bad (``bad_frame_plan``): motion-blurred, occluded, near-profile, or a
    misaligned detector box (shifted and scaled). ``plan_out`` receives the frame plan (which frames are bad, and
    how): the labels the self-supervised model never sees, for measuring what an oracle could gain."""
    yaw0, yaw1 = rng.uniform(-0.8, 0.8, 2)
    p0, p1 = rng.uniform(-1, 1, 2)
    s0 = rng.uniform(0.85, 1.1)
    d = rng.uniform(-0.04, 0.04, 4)
    out = np.empty((length, SIDE, SIDE), np.uint8)
    talk = rng.uniform(0.2, 0.8)
    plan = bad_frame_plan(length, bad_rate, rng, switch_share) if bad_rate > 0 else [None] * length
    if plan_out is not None:
        plan_out.append(plan)
    for i in range(length):
        a = i / max(1, length - 1)
        kind = plan[i]
        yaw = yaw0 + (yaw1 - yaw0) * a
        scale = s0 * (1 + 0.05 * np.sin(3 * a))
        dx, dy = d[0] + (d[1] - d[0]) * a, d[2] + (d[3] - d[2]) * a
        if kind == "profile":
            yaw = float(np.sign(yaw) or 1) * rng.uniform(1.2, 1.7)
        elif kind == "misaligned":
            scale *= rng.choice([rng.uniform(0.65, 0.8), rng.uniform(1.25, 1.45)])
            dx, dy = dx + rng.choice([-1, 1]) * rng.uniform(0.15, 0.25), dy + rng.uniform(-0.2, 0.2)
        frame = render(
            idt, scene, yaw=yaw, pitch=p0 + (p1 - p0) * a,
            scale=scale, dx=dx, dy=dy,
            roll=rng.normal(0, 4), mouth_open=max(0.0, np.sin(i * talk)) * 0.8, blink=bool(rng.random() < 0.06),
            blur=max(0.0, rng.normal(0.5, 0.5)), rng=rng,
        )
        if kind == "motion_blur":
            frame = motion_blur(frame.astype(np.float32), rng)
        elif kind == "occlusion":
            frame = occlude(frame.astype(np.float32), rng)
        out[i] = np.clip(frame, 0, 255).astype(np.uint8)
    return out

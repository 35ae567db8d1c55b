"""The wearer's behaviour over a session: where they look, when they blink, how wide the pupil is.

A calibration (9 markers) and a validation (4 markers) come first, then free viewing of the moving objects.
Everything is laid out on a 1 ms grid from the session's clock origin, then sampled at each camera frame's own
timestamp, so free-running streams see one consistent wearer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from glance_train.synth.scene_camera import SceneCamera
from glance_train.synth.scene_objects import SceneWorld

STEP_US = 1000
MARKER_MS = 1000
CALIBRATION = [(fx, fy) for fy in (0.1, 0.5, 0.9) for fx in (0.1, 0.5, 0.9)]
VALIDATION = [(0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7)]
BLINK_OPENNESS = 0.25
"""Frames below this openness are flagged as blink: the pupil is no longer measurable."""
ATTENTION_MIN_MS = 800
MIN_FIXATION_MS = 60


@dataclass(frozen=True)
class MarkerShow:
    kind: str
    x: float
    y: float
    start_us: int
    end_us: int

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "x": round(self.x, 3), "y": round(self.y, 3),
                "startUs": self.start_us, "endUs": self.end_us}


@dataclass(frozen=True)
class GazeSample:
    gaze: np.ndarray
    """(T, 2) gaze point in scene pixels."""
    openness: np.ndarray
    pupil_mm: np.ndarray
    """Pupil diameter."""
    attended: np.ndarray
    blink: np.ndarray


@dataclass
class Timeline:
    gaze: np.ndarray
    openness: np.ndarray
    pupil_mm: np.ndarray
    attended: np.ndarray
    markers: list[MarkerShow]
    events: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    def sample(self, t_us: np.ndarray) -> GazeSample:
        """Values at arbitrary times (µs from the clock origin); continuous values are interpolated."""
        f = np.asarray(t_us, float) / STEP_US
        grid = np.arange(len(self.openness))
        openness = np.interp(f, grid, self.openness)
        idx = np.clip(np.floor(f).astype(np.int64), 0, len(grid) - 1)
        return GazeSample(
            gaze=np.stack([np.interp(f, grid, self.gaze[:, k]) for k in (0, 1)], axis=-1),
            openness=openness,
            pupil_mm=np.interp(f, grid, self.pupil_mm),
            attended=self.attended[idx],
            blink=openness < BLINK_OPENNESS,
        )

    def marker_at(self, t_us: float) -> MarkerShow | None:
        for m in self.markers:
            if m.start_us <= t_us < m.end_us:
                return m
        return None


@dataclass
class _Dwell:
    start: int
    """Index (ms) where the saccade towards this target begins."""
    kind: str
    obj: int = -1
    xy: tuple[float, float] = (0.0, 0.0)
    """Fixed target, or the offset from the object's centre."""
    lag: int = 0


def _min_jerk(s: np.ndarray) -> np.ndarray:
    """Position profile of a saccade: smooth start and stop, peak velocity in the middle."""
    return s**3 * (10 - 15 * s + 6 * s * s)


def _smooth(rng: np.random.Generator, n: int, f_lo: float, f_hi: float, parts: int = 4) -> np.ndarray:
    """A slow random signal in [-1, 1] over n ms."""
    t = np.arange(n) / 1000.0
    amps = rng.uniform(0.5, 1.0, parts)
    out = np.zeros(n)
    for a in amps:
        out += a * np.sin(2 * math.pi * rng.uniform(f_lo, f_hi) * t + rng.uniform(0, 2 * math.pi))
    return out / amps.sum()


def _plan(
    world: SceneWorld, rng: np.random.Generator, n: int, px_deg: float
) -> tuple[list[_Dwell], list[MarkerShow]]:
    """Markers first, then free viewing: object dwells (fixate or pursue) and short runs over background."""
    w, h = world.width, world.height
    dwells: list[_Dwell] = []
    markers: list[MarkerShow] = []
    targets = [("calibration", p) for p in CALIBRATION] + [("validation", p) for p in VALIDATION]
    for i, (kind, (fx, fy)) in enumerate(targets):
        start = i * MARKER_MS
        if start >= n:
            break
        x, y = fx * w, fy * h
        markers.append(MarkerShow(kind, x, y, start * STEP_US, min(start + MARKER_MS, n) * STEP_US))
        # Saccade latency to a new marker; people also land slightly off its centre and stay there.
        bias = rng.normal(0.0, 0.3 * px_deg, 2)
        dwells.append(_Dwell(start + int(rng.uniform(120, 180)), "marker", xy=(x + bias[0], y + bias[1])))
    t = len(targets) * MARKER_MS + int(rng.uniform(120, 200))
    last_obj, last_xy = -1, (w / 2, h / 2)
    while t < n:
        free = world.unoccluded_fraction(t / 1000.0)
        choices = [o.id for o in world.objects if free[o.id] > 0.6 and o.id != last_obj]
        if choices and rng.random() < 0.75:
            obj = world.objects[int(rng.choice(choices))]
            ow, oh = obj.extent()
            off = np.clip(rng.normal(0.0, 0.12 * min(ow, oh), 2), -0.25 * min(ow, oh), 0.25 * min(ow, oh))
            lag = int(rng.uniform(60, 100))  # smooth pursuit trails its target slightly
            dwells.append(_Dwell(t, "object", obj.id, (float(off[0]), float(off[1])), lag))
            last_obj = obj.id
            c = obj.centers(np.array([t / 1000.0]))[0]
            last_xy = (float(c[0]), float(c[1]))
            t += int(rng.uniform(900, 2600))
            continue
        last_obj = -1
        for _ in range(int(rng.integers(1, 4))):
            xy = _background_point(world, rng, t, last_xy, px_deg)
            dwells.append(_Dwell(t, "background", xy=xy))
            last_xy = xy
            t += int(rng.uniform(250, 700))
    return [d for d in dwells if d.start < n], markers


def _background_point(
    world: SceneWorld, rng: np.random.Generator, t_ms: int, last: tuple[float, float], px_deg: float
) -> tuple[float, float]:
    """A point on the background, clear of every object and at least 3 degrees from the last target."""
    boxes = world.bboxes(np.array([t_ms / 1000.0]))[:, 0]
    xy = (world.width / 2, world.height / 2)
    for _ in range(60):
        xy = (float(rng.uniform(0.06, 0.94) * world.width), float(rng.uniform(0.06, 0.94) * world.height))
        m = 20.0
        hits = (boxes[:, 0] - m <= xy[0]) & (xy[0] <= boxes[:, 0] + boxes[:, 2] + m)
        hits &= (boxes[:, 1] - m <= xy[1]) & (xy[1] <= boxes[:, 1] + boxes[:, 3] + m)
        clear = not hits.any()
        if clear and math.dist(xy, last) >= 3 * px_deg:
            break
    return xy


def _fixational_noise(rng: np.random.Generator, n: int, px_deg: float) -> np.ndarray:
    """Drift plus microsaccades (0.1-0.3 deg) that tend to pull the eye back towards the target."""
    tau, sd = 500.0, 0.05 * px_deg
    kicks = rng.normal(0.0, sd * math.sqrt(2.0 / tau), (n, 2))
    drift = np.zeros((n, 2))
    for i in range(1, n):
        drift[i] = drift[i - 1] * (1.0 - 1.0 / tau) + kicks[i]
    inc = np.zeros((n, 2))
    ramp = np.diff(_min_jerk(np.linspace(0.0, 1.0, 21)))
    m = np.zeros(2)
    t = int(rng.uniform(200, 800))
    while t < n - 20:
        amp = rng.uniform(0.1, 0.3) * px_deg
        ang = math.atan2(-m[1], -m[0]) + rng.normal(0.0, 1.0) if np.any(m) else rng.uniform(0, 2 * math.pi)
        step = amp * np.array([math.cos(ang), math.sin(ang)])
        inc[t : t + 20] += ramp[:, None] * step
        m = m + step
        t += int(rng.uniform(300, 1000))
    return drift + np.cumsum(inc, axis=0)


def _blinks(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[dict[str, object]]]:
    """Lid-closure multiplier (1 open, 0 shut) and blink events: fast close, brief hold, slower reopening."""
    mult = np.ones(n)
    events: list[dict[str, object]] = []
    b = int(rng.uniform(1200, 3500))
    while b < n:
        close, hold, reopen = int(rng.uniform(50, 70)), int(rng.uniform(20, 50)), int(rng.uniform(90, 130))
        prof = np.concatenate([
            0.5 * (1 + np.cos(np.pi * np.arange(close) / close)),
            np.zeros(hold),
            0.5 * (1 - np.cos(np.pi * np.arange(reopen) / reopen)),
        ])
        end = min(b + len(prof), n)
        mult[b:end] = prof[: end - b]
        events.append({"startUs": b * STEP_US, "endUs": end * STEP_US})
        b += int(rng.uniform(3000, 6000))
    return mult, events


def build_timeline(
    world: SceneWorld, camera: SceneCamera, seconds: float, rng: np.random.Generator
) -> Timeline:
    n = int(math.ceil(seconds * 1000)) + 1
    px_deg = camera.px_per_deg()
    dwells, markers = _plan(world, rng, n, px_deg)
    centers = world.centers(np.arange(n) / 1000.0)
    gaze = np.tile([world.width / 2, world.height / 2], (n, 1)).astype(float)
    attended = np.full(n, -1, np.int32)
    landed: list[tuple[int, int, _Dwell]] = []
    saccades: list[dict[str, object]] = []
    for i, d in enumerate(dwells):
        s, e = d.start, dwells[i + 1].start if i + 1 < len(dwells) else n
        idx = np.arange(s, e)
        if d.kind == "object":
            target = centers[d.obj, np.clip(idx - d.lag, 0, n - 1)] + d.xy
        else:
            target = np.tile(d.xy, (len(idx), 1))
        p0 = gaze[s - 1] if s > 0 else gaze[0]
        amp = camera.angle_deg(p0[0], p0[1], target[0, 0], target[0, 1])
        dur = min(max(int(round(21 + 2.2 * amp)), 20), e - s)
        sig = _min_jerk(np.arange(1, dur + 1) / dur)[:, None]
        gaze[s : s + dur] = (1 - sig) * p0 + sig * target[:dur]
        gaze[s + dur : e] = target[dur:]
        saccades.append({"startUs": s * STEP_US, "endUs": (s + dur) * STEP_US,
                         "fromX": p0[0], "fromY": p0[1], "toX": target[dur - 1, 0], "toY": target[dur - 1, 1],
                         "amplitudeDeg": amp})
        if d.kind == "object":
            attended[s + dur : e] = d.obj
        landed.append((s + dur, e, d))
    gaze += _fixational_noise(rng, n, px_deg)

    fixations, pursuits, attention = [], [], []
    for a, b, d in landed:
        if b - a < MIN_FIXATION_MS:
            continue
        span = {"startUs": a * STEP_US, "endUs": b * STEP_US}
        moving = d.kind == "object" and float(np.ptp(centers[d.obj, a:b], axis=0).max()) > px_deg
        if moving:
            pursuits.append({**span, "objectId": d.obj})
        else:
            fixations.append({**span, "x": float(gaze[a:b, 0].mean()), "y": float(gaze[a:b, 1].mean())})
        if d.kind == "object" and b - a >= ATTENTION_MIN_MS:
            attention.append({**span, "objectId": d.obj})

    mult, blinks = _blinks(rng, n)
    openness = np.clip(0.91 + 0.07 * _smooth(rng, n, 0.02, 0.2), 0.8, 1.0) * mult
    # Pupil diameter wanders slowly (arousal, light); the two eyes share it.
    pupil = np.clip(4.7 + 2.4 * _smooth(rng, n, 0.02, 0.25), 3.1, 6.3)
    events = {"fixations": fixations, "saccades": saccades, "pursuits": pursuits, "blinks": blinks,
              "attention": attention}
    return Timeline(gaze, openness, pupil, attended, markers, events)

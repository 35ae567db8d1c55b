"""The objects in the synthetic scene: what they are and where they are at any time."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CLASSES: tuple[str, ...] = ("ball", "book", "cup", "plant", "phone")

# Width and height of each class's drawing as multiples of the object's size, so bboxes are exact.
_EXTENT: dict[str, tuple[float, float]] = {
    "ball": (1.0, 1.0),
    "book": (0.8, 1.1),
    "cup": (0.95, 1.0),
    "plant": (0.9, 1.4),
    "phone": (0.55, 1.0),
}

PALETTE: dict[str, tuple[int, int, int]] = {  # BGR; shared by every renderer of these classes
    "ball": (40, 70, 220),
    "book": (150, 60, 30),
    "cup": (230, 230, 225),
    "plant": (40, 150, 50),
    "phone": (40, 35, 35),
}


@dataclass(frozen=True)
class SceneObject:
    id: int
    cls: str
    size: float
    colour: tuple[int, int, int]
    depth: int
    """Draw order: larger is nearer, so it occludes smaller depths."""
    base: tuple[float, float]
    amp: tuple[float, float, float, float]
    """x and y amplitudes of two sinusoidal components (px)."""
    freq: tuple[float, float]
    phase: tuple[float, float, float, float]
    pace: float
    """Strength of the speed modulation that makes motion stop-and-go rather than metronomic."""

    def extent(self) -> tuple[float, float]:
        ew, eh = _EXTENT[self.cls]
        return ew * self.size, eh * self.size

    def centers(self, t_s: np.ndarray) -> np.ndarray:
        """Centre positions (T, 2) at times ``t_s`` (seconds); smooth, so gaze can pursue them."""
        t = np.asarray(t_s, float)
        f0 = max(self.freq[0], 1e-6)
        tau = t - self.pace / (2 * math.pi * f0) * np.sin(2 * math.pi * f0 * t)
        x = self.base[0] + self.amp[0] * np.sin(2 * math.pi * self.freq[0] * tau + self.phase[0])
        x = x + self.amp[2] * np.sin(2 * math.pi * self.freq[1] * tau + self.phase[2])
        y = self.base[1] + self.amp[1] * np.sin(2 * math.pi * self.freq[0] * tau + self.phase[1])
        y = y + self.amp[3] * np.sin(2 * math.pi * self.freq[1] * tau + self.phase[3])
        return np.stack([x, y], axis=-1)

    def bboxes(self, t_s: np.ndarray) -> np.ndarray:
        """Unclipped [x, y, w, h] boxes (T, 4) of the whole drawing."""
        c = self.centers(t_s)
        w, h = self.extent()
        return np.concatenate([c - [w / 2, h / 2], np.broadcast_to([w, h], c.shape)], axis=-1)


@dataclass(frozen=True)
class SceneWorld:
    width: int
    height: int
    objects: tuple[SceneObject, ...]
    texture_seed: int

    def centers(self, t_s: np.ndarray) -> np.ndarray:
        """(n_objects, T, 2)."""
        return np.stack([o.centers(t_s) for o in self.objects])

    def bboxes(self, t_s: np.ndarray) -> np.ndarray:
        """(n_objects, T, 4)."""
        return np.stack([o.bboxes(t_s) for o in self.objects])

    def unoccluded_fraction(self, t_s: float) -> np.ndarray:
        """Per object, the share of its bbox not covered by nearer objects' bboxes nor cut by the frame.

        A cheap stand-in for pixel visibility, good enough to decide what a wearer could choose to look at.
        """
        boxes = self.bboxes(np.array([t_s]))[:, 0]
        out = np.zeros(len(self.objects))
        step = 4.0
        for i, o in enumerate(self.objects):
            x, y, w, h = boxes[i]
            gx, gy = np.meshgrid(np.arange(x, x + w, step), np.arange(y, y + h, step))
            free = (gx >= 0) & (gx < self.width) & (gy >= 0) & (gy < self.height)
            for j, p in enumerate(self.objects):
                if p.depth > o.depth:
                    bx, by, bw, bh = boxes[j]
                    free &= ~((gx >= bx) & (gx < bx + bw) & (gy >= by) & (gy < by + bh))
            out[i] = free.mean() if free.size else 0.0
        return out


def make_world(rng: np.random.Generator, width: int = 640, height: int = 480) -> SceneWorld:
    """4-6 objects of mixed classes, each moving smoothly inside the frame; some nearly still, some roaming.

    Depth order is shuffled and paths overlap, so objects occasionally pass in front of each other.
    """
    n = int(rng.integers(4, 7))
    classes = [CLASSES[i % len(CLASSES)] for i in rng.permutation(len(CLASSES))]
    classes += [str(c) for c in rng.choice(CLASSES, n - len(classes))] if n > len(classes) else []
    classes = classes[:n]
    depths = rng.permutation(n)
    objects = []
    for i, cls in enumerate(classes):
        size = float(rng.uniform(55, 85) if cls != "ball" else rng.uniform(40, 60))
        ew, eh = _EXTENT[cls]
        w, h = ew * size, eh * size
        roams = cls == "ball" or rng.random() < 0.4
        if roams:
            ax, ay = rng.uniform(60, 170), rng.uniform(30, 110)
        else:
            ax, ay = rng.uniform(0, 12), rng.uniform(0, 8)
        ax2, ay2 = ax * rng.uniform(0.1, 0.35), ay * rng.uniform(0.1, 0.35)
        # Keep the whole path inside the frame so each object stays available as a gaze target.
        span_x = ax + ax2 + w / 2 + 10
        span_y = ay + ay2 + h / 2 + 10
        bx = rng.uniform(min(span_x, width / 2), max(width - span_x, width / 2))
        by = rng.uniform(min(span_y, height / 2), max(height - span_y, height / 2))
        jitter = rng.integers(-25, 26, 3)
        colour = [int(np.clip(c + d, 0, 255)) for c, d in zip(PALETTE[cls], jitter, strict=True)]
        ph = rng.uniform(0, 2 * math.pi, 4)
        objects.append(
            SceneObject(
                id=i,
                cls=cls,
                size=size,
                colour=(colour[0], colour[1], colour[2]),
                depth=int(depths[i]),
                base=(float(bx), float(by)),
                amp=(float(ax), float(ay), float(ax2), float(ay2)),
                freq=(float(rng.uniform(0.04, 0.14)), float(rng.uniform(0.15, 0.35))),
                phase=(float(ph[0]), float(ph[1]), float(ph[2]), float(ph[3])),
                pace=float(rng.uniform(0.3, 0.8)),
            )
        )
    return SceneWorld(width, height, tuple(objects), int(rng.integers(0, 2**31)))

"""The TVA dataset: model inputs and labels sampled from many short synthetic clips.

A sample is one scene frame of a clip: the frame and the one ``LAG_FRAMES`` earlier (128x96, BGR, INTER_AREA
from the 640x480 render, exactly what the device feeds), the tracker's last 16 gaze samples, and the truth at
that frame: the attended object's clipped bbox (normalised cx, cy, w, h), whether an object is attended at
all, and whether the frame lies in an attention episode. Clips are seeded per split and index, so train,
validation and test never share a clip; rendered splits are cached on disk keyed by the config and the
generators' source.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from glance_train.data.parallel import parallel_map
from glance_train.synth import gaze_script, scene_objects, scene_render
from glance_train.synth.scene_objects import SceneWorld
from glance_train.synth.scene_render import background, draw_object
from glance_train.synth.seeding import child_rng
from glance_train.tva import clips as clips_mod
from glance_train.tva import gaze_noise
from glance_train.tva.clips import ClipConfig, make_clip, object_boxes
from glance_train.tva.gaze_noise import HISTORY, NoiseConfig, draw_error, history, tracked_gaze

WIDTH, HEIGHT = 128, 96
LAG_FRAMES = 4
_SOURCES = (scene_objects, scene_render, gaze_script, clips_mod, gaze_noise)
ARRAYS = ("scene", "gaze", "box", "has_object", "episode", "attended", "clip", "frame")


@dataclass(frozen=True)
class SplitSpec:
    seed: int
    clips: int
    per_clip: int
    clip: ClipConfig = field(default_factory=ClipConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> SplitSpec:
        def tup(d: dict[str, Any]) -> dict[str, Any]:
            return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}

        clip = ClipConfig(**tup(raw.get("clip", {})))
        noise = NoiseConfig(**tup(raw.get("noise", {})))
        return SplitSpec(int(raw["seed"]), int(raw["clips"]), int(raw["per_clip"]), clip, noise)


def clip_seed(split_seed: int, index: int) -> int:
    return split_seed * 100_003 + index


def scene_input(frame_bgr: np.ndarray) -> np.ndarray:
    """640x480 BGR → the 128x96 uint8 the model sees (the device does the same resize)."""
    return cv2.resize(frame_bgr, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)


def render_frame(world: SceneWorld, t_s: float) -> np.ndarray:
    """render_scene's pixels (same drawing, order and blur) without its label map, which costs a third."""
    img = background(world).copy()
    centers = world.centers(np.array([t_s]))[:, 0]
    for obj in sorted(world.objects, key=lambda o: o.depth):
        draw_object(img, obj, float(centers[obj.id, 0]), float(centers[obj.id, 1]))
    return cv2.GaussianBlur(img, (0, 0), 0.6)


def clip_samples(split_seed: int, index: int, spec: SplitSpec) -> dict[str, np.ndarray]:
    seed = clip_seed(split_seed, index)
    clip = make_clip(seed, spec.clip)
    rng = child_rng(seed, "tracker")
    err = draw_error(rng, spec.noise)
    first = -(HISTORY - 1)
    track_frames = np.arange(first, clip.frames)
    xy, valid = tracked_gaze(clip, track_frames, rng, err, spec.noise)
    pick = np.sort(child_rng(seed, "frames").choice(clip.frames, spec.per_clip, replace=False))
    w, h = clip.world.width, clip.world.height
    cache: dict[int, np.ndarray] = {}

    def frame(f: int) -> np.ndarray:
        if f not in cache:
            cache[f] = scene_input(render_frame(clip.world, float(clip.frame_time_s(f))))
        return cache[f]

    scene = np.stack([np.concatenate([frame(int(f)), frame(int(f) - LAG_FRAMES)], axis=2) for f in pick])
    scene = scene.transpose(0, 3, 1, 2)  # NCHW: 0-2 now, 3-5 the lag frame
    gaze = np.stack([history(xy, valid, int(f) - first, w, h) for f in pick])
    att = clip.attended(pick)
    boxes = object_boxes(clip.world, clip.frame_time_s(pick))  # (n_obj, K, 4)
    box = np.zeros((len(pick), 4), np.float32)
    for k, a in enumerate(att):
        if a >= 0:
            x, y, bw, bh = boxes[a, k]
            box[k] = ((x + bw / 2) / w, (y + bh / 2) / h, bw / w, bh / h)
    return {
        "scene": np.ascontiguousarray(scene, np.uint8),
        "gaze": gaze,
        "box": box,
        "has_object": att >= 0,
        "episode": clip.in_episode(pick),
        "attended": att.astype(np.int32),
        "clip": np.full(len(pick), index, np.int32),
        "frame": pick.astype(np.int32),
    }


def _job(args: tuple[int, int, SplitSpec]) -> dict[str, np.ndarray]:
    return clip_samples(*args)


CHUNK = 25
"""Clips per cache file: a larger split reuses the chunks a smaller one with the same seed rendered."""


def build_split(
    spec: SplitSpec, jobs: int = 1, first: int = 0, count: int | None = None
) -> dict[str, np.ndarray]:
    work = [(spec.seed, i, spec) for i in range(first, first + (spec.clips if count is None else count))]
    parts = parallel_map(_job, work, jobs, chunksize=2)
    return {k: np.concatenate([p[k] for p in parts]) for k in ARRAYS}


def fingerprint(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in ARRAYS:
        h.update(k.encode())
        h.update(np.ascontiguousarray(arrays[k]).tobytes())
    return "sha256:" + h.hexdigest()


def _cache_key(spec: SplitSpec, chunk: int) -> str:
    h = hashlib.sha256(json.dumps({**spec.to_dict(), "clips": None, "chunk": chunk}, sort_keys=True).encode())
    for mod in _SOURCES:
        h.update(inspect.getsource(mod).encode())
    h.update(inspect.getsource(clip_samples).encode())
    return h.hexdigest()[:24]


def load_split(spec: SplitSpec, cache_dir: Path | None, jobs: int = 1) -> dict[str, np.ndarray]:
    """The split's arrays, chunk by chunk from the cache when the same config and generators made them."""
    parts = []
    for c, first in enumerate(range(0, spec.clips, CHUNK)):
        count = min(CHUNK, spec.clips - first)
        path = cache_dir / f"tva-{_cache_key(spec, c)}.npz" if cache_dir else None
        if path and count == CHUNK and path.exists():
            with np.load(path) as z:
                parts.append({k: z[k] for k in ARRAYS})
            continue
        arrays = build_split(spec, jobs, first, count)
        if path and count == CHUNK:  # only whole chunks are cached: a partial one would shadow a whole one
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, **arrays)
            tmp.replace(path)
        parts.append(arrays)
    return {k: np.concatenate([p[k] for p in parts]) for k in ARRAYS}

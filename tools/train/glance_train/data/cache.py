"""Render a synthetic dataset once, in parallel, and keep it as arrays (in memory and on disk).

Rendering costs ~10 ms an image on one core, far more than a training step of a small CNN, so training reads
pre-rendered uint8 arrays. The on-disk cache is keyed by the dataset config and the source of every module the
pixels depend on, so editing the renderer or an augmentation can never serve stale images. The dataset's
fingerprint is the sha256 of the rendered pixels and labels themselves: it is what a manifest records.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from glance_train.data import augment, eye_dataset
from glance_train.data.eye_dataset import EyeDatasetConfig, render_item
from glance_train.data.parallel import parallel_map
from glance_train.synth import eye_model, eye_render, eye_state

_PIXEL_SOURCES = (eye_model, eye_render, eye_state, augment, eye_dataset)


@dataclass(frozen=True)
class RenderedSet:
    images: np.ndarray
    """uint8 (N, S, S)"""
    targets: np.ndarray
    """float32 (N, len(TARGETS))"""
    fingerprint: str


def default_cache_dir() -> Path:
    base = os.environ.get("GLANCE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "glance"
    )
    return Path(base) / "datasets"


def cache_key(config: EyeDatasetConfig) -> str:
    h = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode())
    for module in _PIXEL_SOURCES:
        h.update(Path(module.__file__ or "").read_bytes())
    return h.hexdigest()[:24]


def fingerprint(images: np.ndarray, targets: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(images).tobytes())
    h.update(np.ascontiguousarray(targets, dtype="<f4").tobytes())
    return h.hexdigest()


def _render_range(args: tuple[EyeDatasetConfig, int, int]) -> tuple[np.ndarray, np.ndarray]:
    config, start, stop = args
    items = [render_item(config, i) for i in range(start, stop)]
    return np.stack([im for im, _ in items]), np.stack([t for _, t in items])


def render_all(config: EyeDatasetConfig, jobs: int = 1) -> RenderedSet:
    chunk = 256
    ranges = [(config, s, min(s + chunk, config.size)) for s in range(0, config.size, chunk)]
    parts = parallel_map(_render_range, ranges, jobs)
    images = np.concatenate([p[0] for p in parts])
    targets = np.concatenate([p[1] for p in parts])
    return RenderedSet(images, targets, fingerprint(images, targets))


def load_or_render(config: EyeDatasetConfig, jobs: int = 1, cache_dir: Path | None = None) -> RenderedSet:
    """The rendered set from the disk cache if there, else rendered now (and stored when a cache is given)."""
    if cache_dir is None:
        return render_all(config, jobs)
    path = cache_dir / f"eye-{cache_key(config)}.npz"
    if path.exists():
        with np.load(path) as z:
            return RenderedSet(z["images"], z["targets"], str(z["fingerprint"]))
    rendered = render_all(config, jobs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    fp = np.array(rendered.fingerprint)
    np.savez(tmp, images=rendered.images, targets=rendered.targets, fingerprint=fp)
    os.replace(tmp, path)  # a concurrent run sees the whole file or none of it
    return rendered


class ArrayDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Pre-rendered items, same shape and scaling as ``EyeDataset``'s."""

    def __init__(self, rendered: RenderedSet) -> None:
        self.images = torch.from_numpy(rendered.images)
        self.targets = torch.from_numpy(rendered.targets)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[index].float().div_(255.0).unsqueeze(0), self.targets[index]

"""The segmentation data as training reads it: rendered splits (cached on disk), tensors, crops, fingerprints.

Pixels and labels come from ``glance_train.seg.render``; the cache key covers that module and the scene
renderer, so a change there can never serve stale frames, and a change here (how frames are batched or
cropped) does not force a re-render.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from glance_train.data.parallel import parallel_map
from glance_train.data.splits import seeded_splits
from glance_train.seg import render as seg_render
from glance_train.seg.render import LABELS, SegDatasetConfig, render_item
from glance_train.synth import scene_objects, scene_render

__all__ = ["LABELS", "SegDatasetConfig", "render_item"]
DATASET_NAME = "glance-synth-scene-seg"

_PIXEL_SOURCES = (scene_objects, scene_render, seg_render)


@dataclass(frozen=True)
class RenderedSegSet:
    images: np.ndarray
    """uint8 (N, H, W, 3), BGR"""
    targets: np.ndarray
    """uint8 (N, H, W) class indices into LABELS"""
    fingerprint: str


def _cache_key(cfg: SegDatasetConfig) -> str:
    h = hashlib.sha256(json.dumps(cfg.to_dict(), sort_keys=True).encode())
    for module in _PIXEL_SOURCES:
        h.update(Path(module.__file__ or "").read_bytes())
    return h.hexdigest()[:24]


def _render_range(args: tuple[SegDatasetConfig, int, int]) -> tuple[np.ndarray, np.ndarray]:
    cfg, start, stop = args
    items = [render_item(cfg, i) for i in range(start, stop)]
    return np.stack([a for a, _ in items]), np.stack([b for _, b in items])


def render_set(cfg: SegDatasetConfig, jobs: int = 1, cache_dir: Path | None = None) -> RenderedSegSet:
    path = cache_dir / f"seg-{_cache_key(cfg)}.npz" if cache_dir is not None else None
    if path is not None and path.exists():
        with np.load(path) as z:
            return RenderedSegSet(z["images"], z["targets"], str(z["fingerprint"]))
    ranges = [(cfg, s, min(s + 128, cfg.size)) for s in range(0, cfg.size, 128)]
    parts = parallel_map(_render_range, ranges, jobs)
    images = np.concatenate([p[0] for p in parts])
    targets = np.concatenate([p[1] for p in parts])
    h = hashlib.sha256(images.tobytes())
    h.update(targets.tobytes())
    rendered = RenderedSegSet(images, targets, h.hexdigest())
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, images=images, targets=targets, fingerprint=np.array(rendered.fingerprint))
        os.replace(tmp, path)
    return rendered


def to_input(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) BGR → float32 (N, 3, H, W) BGR in [0, 1]: the model's input, as the manifest says."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)


TRAIN_CROP = 0.6
"""Training sees random crops of this fraction of each side (rounded to a multiple of 8): the network is
fully convolutional, and a crop costs ~1/3 of a frame, so a run fits its time budget on a busy CPU."""


class SegDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Pre-rendered items; for training (``augment``) a random crop and a horizontal flip (the scene has no
    handedness). Evaluation sees whole frames."""

    def __init__(self, rendered: RenderedSegSet, augment: bool = False) -> None:
        self.images = torch.from_numpy(rendered.images)
        self.targets = torch.from_numpy(rendered.targets)
        self.augment = augment
        h, w = self.targets.shape[1:]
        self.crop = (max(8, int(h * TRAIN_CROP) // 8 * 8), max(8, int(w * TRAIN_CROP) // 8 * 8))

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.images[index].permute(2, 0, 1).float().div_(255.0)
        t = self.targets[index].long()
        if self.augment:
            (h, w), (ch, cw) = t.shape, self.crop
            y0, x0 = int(torch.randint(0, h - ch + 1, ())), int(torch.randint(0, w - cw + 1, ()))
            x, t = x[:, y0 : y0 + ch, x0 : x0 + cw], t[y0 : y0 + ch, x0 : x0 + cw]
            if torch.rand(()) < 0.5:
                x, t = x.flip(-1), t.flip(-1)
        return x, t


# --- splits ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegSplits:
    train: SegDatasetConfig
    val: SegDatasetConfig
    test: SegDatasetConfig

    @staticmethod
    def from_dict(raw: dict[str, Any], width: int, height: int) -> SegSplits:
        def base(values: dict[str, Any], seed: int) -> SegDatasetConfig:
            return SegDatasetConfig.from_dict({**values, "width": width, "height": height, "seed": seed})

        return SegSplits(*seeded_splits(raw, (2500, 300, 600), 3000, base))

    def items(self) -> list[tuple[str, SegDatasetConfig]]:
        return [("train", self.train), ("val", self.val), ("test", self.test)]


def render_splits(splits: SegSplits, jobs: int, cache_dir: Path | None) -> dict[str, RenderedSegSet]:
    return {name: render_set(cfg, jobs, cache_dir) for name, cfg in splits.items()}


def datasets(rendered: dict[str, RenderedSegSet]) -> dict[str, SegDataset]:
    return {name: SegDataset(r, augment=name == "train") for name, r in rendered.items()}


def dataset_record(splits: SegSplits, rendered: dict[str, RenderedSegSet]) -> dict[str, Any]:
    h = hashlib.sha256()
    for name, _ in splits.items():
        h.update(rendered[name].fingerprint.encode())
    return {
        "name": DATASET_NAME,
        "fingerprint": f"sha256:{h.hexdigest()}",
        "synthetic": True,
        "generator": "glance_train.seg.render (renderer glance_train.synth.scene_render, scene_objects)",
        "labels": list(LABELS),
        "splits": {
            name: {"size": cfg.size, "seed": cfg.seed, "fingerprint": f"sha256:{rendered[name].fingerprint}"}
            for name, cfg in splits.items()
        },
        "config": splits.train.to_dict() | {"size": None, "seed": None},
    }


def golden_inputs(ckpt: dict[str, Any], count: int) -> torch.Tensor:
    """The first ``count`` held-out items, as the model's input."""
    dataset = ckpt["dataset"]
    test = dataset["splits"]["test"]
    cfg = SegDatasetConfig.from_dict({**dataset["config"], "size": test["size"], "seed": test["seed"]})
    return to_input(np.stack([render_item(cfg, i)[0] for i in range(count)]))

"""The emotion experiments' data: an EMO-Film root given in the config, or synthetic splits generated once.

Synthetic splits live in the dataset cache, keyed by their settings and the source of every module their
pixels depend on (as data/cache.py does for eye images), so editing the generator never serves stale clips.
The test split's wearers are people the training split never saw (another seed draws them).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from glance_train.emotion import expression, eye_camera, generate, labels, layout, scene_clip
from glance_train.emotion.dataset import DecodedSet, decode
from glance_train.synth import eye_model, eye_render, eye_state, scene_objects, scene_render, video

_SOURCES = (expression, eye_camera, generate, labels, layout, scene_clip, eye_model, eye_render, eye_state,
            scene_objects, scene_render, video)
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class EmotionData:
    root: str = ""
    """An EMO-Film dataset with train/, val/ and test/ inside; empty: synthetic splits."""
    seed: int = 100
    train_clips: int = 1400
    val_clips: int = 210
    test_clips: int = 420
    train_wearers: int = 30
    eval_wearers: int = 10
    per_clip_train: int = 4
    """Windows per training clip (their last frames spread over the clip); evaluation takes 2."""
    per_clip_eval: int = 2

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> EmotionData:
        known = set(EmotionData.__dataclass_fields__)
        bad = sorted(set(raw) - known)
        if bad:
            raise ValueError(f"unknown [data] keys {bad}; known: {sorted(known)}")
        return EmotionData(**raw)

    def split_args(self, split: str) -> tuple[int, int, int]:
        """(clips, seed, wearers) of a synthetic split; val and test draw wearers from their own seeds."""
        clips = {"train": self.train_clips, "val": self.val_clips, "test": self.test_clips}[split]
        wearers = self.train_wearers if split == "train" else self.eval_wearers
        return clips, self.seed + SPLITS.index(split), wearers


def _source_key() -> str:
    h = hashlib.sha256()
    for module in _SOURCES:
        h.update(inspect.getsource(module).encode())
    return h.hexdigest()[:12]


def split_roots(cfg: EmotionData, cache_dir: Path, jobs: int) -> dict[str, Path]:
    if cfg.root:
        roots = {s: Path(cfg.root) / s for s in SPLITS}
        missing = [str(p) for p in roots.values() if not (p / "dataset.json").exists()]
        if missing:
            raise FileNotFoundError(f"EMO-Film root {cfg.root}: no dataset.json in {', '.join(missing)}")
        return roots
    roots = {}
    for split in SPLITS:
        clips, seed, wearers = cfg.split_args(split)
        key = hashlib.sha256(f"{_source_key()}:{clips}:{seed}:{wearers}".encode()).hexdigest()[:16]
        root = cache_dir / f"emo-film-synthetic-{split}-{key}"
        if not (root / "clips.csv").exists():
            tmp = root.with_name(root.name + ".partial")
            shutil.rmtree(tmp, ignore_errors=True)
            generate.generate(tmp, clips, seed, wearers, jobs)
            tmp.rename(root)  # clips.csv is written last: a half-generated split is never taken for whole
        roots[split] = root
    return roots


def load_splits(cfg: EmotionData, cache_dir: Path, jobs: int) -> tuple[dict[str, DecodedSet], dict[str, Any]]:
    roots = split_roots(cfg, cache_dir, jobs)
    sets = {s: decode(r) for s, r in roots.items()}
    infos = {s: json.loads((r / "dataset.json").read_text()) for s, r in roots.items()}
    h = hashlib.sha256()
    for s in SPLITS:
        h.update(sets[s].fingerprint.encode())
    record = {
        "name": infos["train"].get("name", "emo-film"),
        "fingerprint": f"sha256:{h.hexdigest()}",
        "synthetic": bool(infos["train"].get("synthetic", False)),
        "layout": layout.FORMAT,
        "generator": infos["train"].get("generator"),
        "splits": {
            s: {"clips": int(len(sets[s].eye)), "fingerprint": f"sha256:{sets[s].fingerprint}",
                "participants": int(len(set(sets[s].participant.tolist())))}
            for s in SPLITS
        },
        "config": asdict(cfg),
    }
    return sets, record

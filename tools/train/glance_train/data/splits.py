"""Train / validation / held-out test splits of the synthetic eye data: the same generator, three seeds."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

from glance_train.data.cache import ArrayDataset, RenderedSet, load_or_render
from glance_train.data.eye_dataset import EyeDatasetConfig

DATASET_NAME = "glance-synth-eye"

C = TypeVar("C")


def seeded_splits(
    raw: dict[str, Any],
    defaults: tuple[int, int, int],
    default_seed: int,
    make_base: Callable[[dict[str, Any], int], C],
) -> tuple[C, C, C]:
    """Train, validation and test configs of one generator (dataclasses with `size` and `seed`):
    `<split>_size` keys (else `defaults`) set their sizes; `seed`, `seed + 1`, `seed + 2` keep them apart.
    `make_base(the rest of raw, seed)` builds the config they share."""
    values = dict(raw)
    sizes = [int(values.pop(f"{k}_size", d)) for k, d in zip(("train", "val", "test"), defaults, strict=True)]
    seed = int(values.pop("seed", default_seed))
    base = make_base(values, seed)
    # C is a dataclass with size and seed; the type checker cannot say so.
    made = [dataclasses.replace(base, size=n, seed=seed + i) for i, n in enumerate(sizes)]  # type: ignore
    return made[0], made[1], made[2]


@dataclass(frozen=True)
class EyeSplits:
    train: EyeDatasetConfig
    val: EyeDatasetConfig
    test: EyeDatasetConfig

    @staticmethod
    def from_dict(raw: dict[str, Any], input_size: int) -> EyeSplits:
        def base(values: dict[str, Any], seed: int) -> EyeDatasetConfig:
            return EyeDatasetConfig.from_dict({**values, "input_size": input_size, "seed": seed})

        return EyeSplits(*seeded_splits(raw, (4000, 500, 1000), 1000, base))

    def items(self) -> list[tuple[str, EyeDatasetConfig]]:
        return [("train", self.train), ("val", self.val), ("test", self.test)]


def render_splits(splits: EyeSplits, jobs: int, cache_dir: Path | None) -> dict[str, RenderedSet]:
    return {name: load_or_render(cfg, jobs, cache_dir) for name, cfg in splits.items()}


def datasets(rendered: dict[str, RenderedSet]) -> dict[str, ArrayDataset]:
    return {name: ArrayDataset(r) for name, r in rendered.items()}


def dataset_record(splits: EyeSplits, rendered: dict[str, RenderedSet]) -> dict[str, Any]:
    """The manifest's ``dataset``: a fingerprint of every rendered pixel and label, and how to render them."""
    h = hashlib.sha256()
    for name, _ in splits.items():
        h.update(rendered[name].fingerprint.encode())
    return {
        "name": DATASET_NAME,
        "fingerprint": f"sha256:{h.hexdigest()}",
        "synthetic": True,
        "generator": "glance_train.data.eye_dataset (renderer glance_train.synth.eye_render)",
        "splits": {
            name: {"size": cfg.size, "seed": cfg.seed, "fingerprint": f"sha256:{rendered[name].fingerprint}"}
            for name, cfg in splits.items()
        },
        "config": splits.train.to_dict() | {"size": None, "seed": None},
    }

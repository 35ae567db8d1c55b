"""A tiny pupil experiment, rendered once per test session and shared by the trainer, export and DDP tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from glance_train.config import Experiment

TINY = {
    "model": "pupil",
    "version": "0.0.1-test",
    "seed": 3,
    "model_config": {"input_size": 32, "channels": [8, 16, 16, 24], "depth": 1, "hidden": 16},
    "data": {"seed": 500, "train_size": 480, "val_size": 96, "test_size": 160},
    # One torch thread: on a busy 2-core machine, spinning OpenMP threads cost more than they give.
    "train": {"epochs": 6, "batch_size": 16, "lr": 0.005, "patience": 6, "threads": 1},
}


def tiny_experiment(**train: object) -> Experiment:
    raw = {**TINY, "train": {**TINY["train"], **train}}
    return Experiment.from_dict(raw)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")

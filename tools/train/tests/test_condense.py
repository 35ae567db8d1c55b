"""Dataset condensation: utility on real digits, the privacy report, the one-file format and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from glance_train.condense.__main__ import main
from glance_train.condense.common import CondenseConfig
from glance_train.condense.evaluate import EvalConfig
from glance_train.condense.pipeline import prepare, run
from glance_train.condense.privacy import enforce_distance, nearest_record_distances
from glance_train.condense.store import load_condensed, save_condensed

torch.set_num_threads(1)

EVAL = EvalConfig(seeds=1, steps=250)


@pytest.fixture(scope="module")
def digits_dm(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """Distribution matching, 10 per class, on scikit-learn's 8×8 digits (random MLP embedders: fast)."""
    out = tmp_path_factory.mktemp("dc") / "digits-dm10.npz"
    cfg = CondenseConfig(method="dm", ipc=10, iterations=200, lr=0.05, batch_real=64, family="mlp", seed=0)
    return run(prepare("sk-digits"), cfg, EVAL, out=out), out


def test_ten_per_class_keep_most_of_full_data_accuracy(digits_dm: tuple[dict, Path]) -> None:
    ev = digits_dm[0]["evaluation"]
    assert set(ev["relative"]) == {"mlp", "convnet", "logreg"}
    assert min(ev["accuracy_full"].values()) > 0.9
    assert ev["relative_mean"] >= 0.8
    assert min(ev["relative"].values()) >= 0.8


def test_no_condensed_sample_is_closer_to_a_real_record_than_real_records_are_to_each_other(
    digits_dm: tuple[dict, Path],
) -> None:
    record = digits_dm[0]
    priv = record["privacy"]
    assert priv["all_beyond_real_median"]
    assert priv["syn_to_real_min"] >= priv["real_to_real_median"]
    # The guard (on by default) enforces that floor; it should rarely have to act. Without it the median
    # condensed sample is already farther from any real record than real records are from each other.
    before = record["guard"]["before"]
    assert record["guard"]["moved"] <= 10
    assert before["syn_to_real_median"] >= before["real_to_real_median"]
    # Membership inference against the condensed-set model is near chance.
    assert 0.4 <= priv["mia_auc"] <= 0.6


def test_condensed_set_is_one_self_describing_file(digits_dm: tuple[dict, Path]) -> None:
    record, path = digits_dm
    loaded = load_condensed(path)
    assert loaded.x.shape == (100, 1, 8, 8) and loaded.x.dtype == np.float32
    assert np.bincount(loaded.y).tolist() == [10] * 10
    meta = loaded.meta
    assert meta["schema"] == "glance.condensed/1" and meta["method"] == "dm" and meta["ipc"] == 10
    assert meta["dataset"]["name"] == "sk-digits" and len(meta["dataset"]["fingerprint"]) == 64
    assert meta["privacy"]["all_beyond_real_median"] == record["privacy"]["all_beyond_real_median"]
    assert path.stat().st_size == record["bytes"] < 200_000


def test_nearest_record_distances_flag_copies() -> None:
    rng = np.random.default_rng(0)
    real = rng.normal(size=(200, 6)).astype(np.float32)
    copies = real[:5] + 1e-3
    report = nearest_record_distances(copies, real)
    assert not report["all_beyond_real_median"] and report["syn_to_real_min"] < 0.01
    far = rng.normal(size=(5, 6)).astype(np.float32) + 20
    assert nearest_record_distances(far, real)["all_beyond_real_median"]
    guarded, moved = enforce_distance(copies, real, report["real_to_real_median"])
    assert moved == 5 and nearest_record_distances(guarded, real)["all_beyond_real_median"]


def test_file_rejects_other_schemas(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    save_condensed(path, np.zeros((2, 3), np.float32), np.array([0, 1]), {"schema": "other/9"})
    with pytest.raises(ValueError, match="schema"):
        load_condensed(path)


def test_gradient_matching_and_cli_on_tabular_data(tmp_path: Path) -> None:
    out = tmp_path / "iris.npz"
    argv = ["--dataset", "iris", "--method", "gm", "--ipc", "2", "--iterations", "5", "--out", str(out),
            "--eval-seeds", "1", "--quiet"]
    assert main(argv) == 0
    loaded = load_condensed(out)
    assert loaded.x.shape == (6, 4) and loaded.meta["method"] == "gm"
    assert loaded.meta["evaluation"]["relative_mean"] > 0.5
    assert main(["--dataset", "nope", "--out", str(out), "--quiet"]) == 2

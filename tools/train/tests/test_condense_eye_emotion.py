"""Condensing the eye-emotion data (synthetic, generated here): the CLI end to end into one file, GM on the
time-series networks, the split by participant, and bad input named with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from glance_train.condense.__main__ import main
from glance_train.condense.eye_emotion import EYE, STEPS, load_records
from glance_train.condense.store import load_condensed
from glance_train.emotion.generate import generate

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def emo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One EMO-Film root of 32 synthetic clips by 8 wearers (the CLI holds out a quarter of them)."""
    root = tmp_path_factory.mktemp("emo") / "tiny"
    generate(root, clips=32, seed=11, wearers=8, jobs=1)
    return root


def test_change_records_hold_no_static_eye(emo_root: Path) -> None:
    train, _, described = load_records(emo_root, seed=0, per_clip=(2, 2), records="change")
    assert described["record"]["records"] == "change"
    assert np.abs(train.x[..., :-1].mean(axis=1)).max() < 1e-5  # every window's mean crop and pupil removed


def test_held_out_participants_never_appear_in_training(emo_root: Path) -> None:
    train, test, described = load_records(emo_root, seed=0, per_clip=(2, 2))
    assert train.x.shape[1:] == (STEPS, EYE * EYE + 2) and train.x.dtype == np.float32
    assert not set(train.participant.tolist()) & set(test.participant.tolist())
    assert described["participants"] == {"train": 6, "held_out": 2} and described["synthetic"]
    assert 0.0 <= train.x[..., :-2].min() and train.x[..., :-2].max() <= 1.0
    assert 1.0 < float(np.median(train.x[..., -2])) < 9.0  # the pupil column is in mm


def test_dm_condenses_eye_emotion_into_one_self_describing_file(
    emo_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "eye-dm.npz"
    code = main(["--dataset", "eye-emotion", "--data-dir", str(emo_root), "--method", "dm", "--ipc", "2",
                 "--iterations", "20", "--eval-seeds", "1", "--eval-steps", "20", "--out", str(out)])
    assert code == 0
    record = json.loads(capsys.readouterr().out)
    ev = record["evaluation"]
    assert set(ev["accuracy_full"]) == {"tcn", "gru"} and set(ev["auc_condensed"]) == {"tcn", "gru"}
    priv = record["privacy"]
    assert priv["all_beyond_real_median"] and 0.0 <= priv["mia_auc"] <= 1.0
    with np.load(out, allow_pickle=False) as raw:
        assert sorted(raw.files) == ["meta", "x", "y"]
    loaded = load_condensed(out)
    assert loaded.x.shape == (14, STEPS, EYE * EYE + 2) and loaded.x.dtype == np.float32
    assert np.bincount(loaded.y).tolist() == [2] * 7
    meta = loaded.meta
    assert meta["schema"] == "glance.condensed/1" and meta["kind"] == "eye-series" and meta["method"] == "dm"
    assert meta["dataset"]["name"] == "eye-emotion" and meta["dataset"]["synthetic"] is True
    assert meta["dataset"]["description"]["record"]["scene"] == "not included"
    assert meta["classes"][0] == "neutral" and meta["config"]["family"] == "series"
    assert meta["config"]["init"] == "smooth" and meta["config"]["lr"] == 0.01
    assert len(meta["normalisation"]["mean"]) == EYE * EYE + 2


def test_gm_works_on_the_time_series_network(emo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "eye-gm.npz"
    code = main(["--dataset", "eye-emotion", "--data-dir", str(emo_root), "--method", "gm", "--ipc", "1",
                 "--records", "change", "--iterations", "2", "--eval-seeds", "0", "--quiet",
                 "--out", str(out)])
    assert code == 0
    loaded = load_condensed(out)
    assert loaded.meta["method"] == "gm" and loaded.x.shape == (7, STEPS, EYE * EYE + 2)
    assert loaded.meta["dataset"]["description"]["record"]["records"] == "change"
    assert np.isfinite(loaded.x).all()


@pytest.mark.parametrize(("args", "named"), [
    (["--dataset", "eye-emotions"], "unknown dataset 'eye-emotions'"),
    (["--dataset", "eye-emotion", "--ipc", "0"], "--ipc must be at least 1"),
    (["--dataset", "eye-emotion", "--data-dir", "/nonexistent/emo"], "/nonexistent/emo"),
    (["--dataset", "digits", "--data-dir", "/tmp"], "--data-dir applies to eye-emotion only"),
    (["--dataset", "iris", "--init", "smooth"], "--init smooth is for time series"),
    (["--dataset", "wine", "--records", "change"], "--records applies to eye-emotion only"),
])
def test_bad_input_exits_2_naming_what_was_wrong(
    args: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never.npz"
    assert main([*args, "--out", str(out)]) == 2
    assert named in capsys.readouterr().err
    assert not out.exists()


def test_a_directory_without_emo_film_data_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "train").mkdir()
    out = tmp_path / "o.npz"
    assert main(["--dataset", "eye-emotion", "--data-dir", str(tmp_path), "--out", str(out)]) == 2
    assert "no dataset.json" in capsys.readouterr().err


def test_series_inits_hold_no_real_record_and_vary_little_within_a_window() -> None:
    from glance_train.condense.common import CondenseConfig, initial_synthetic

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(40, STEPS, 10)
    y = torch.arange(4).repeat_interleave(10)
    smooth, labels = initial_synthetic(x, y, 4, CondenseConfig(ipc=3, init="smooth"), gen)
    assert smooth.shape == (12, STEPS, 10) and labels.tolist() == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    assert float(smooth.std(1).mean()) < 0.2 < float(smooth.std((0, 1)).mean())
    mean, _ = initial_synthetic(x, y, 4, CondenseConfig(ipc=3, init="mean", mean_noise=0.0), gen)
    assert torch.allclose(mean[0], x[:10].mean(0), atol=1e-6)
    with pytest.raises(ValueError, match="time series"):
        initial_synthetic(torch.randn(8, 5), torch.arange(2).repeat(4), 2, CondenseConfig(init="smooth"), gen)

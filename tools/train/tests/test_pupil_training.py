"""The shared trainer on the pupil task: it learns, keeps its record, exports a parity-checked model, and DDP
with two processes follows the same path as one process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import onnx
import pytest
import torch

from glance_train.checkpoint import SCHEMA_VERSION, load_checkpoint
from glance_train.config import apply_overrides
from glance_train.data.cache import default_cache_dir
from glance_train.data.splits import EyeSplits, render_splits
from glance_train.distributed import launch
from glance_train.export import ExportError, export_checkpoint, parity_check
from glance_train.manifest import MANIFEST_SCHEMA_VERSION, sha256_file
from glance_train.models import config_dict, create_model, list_models, model_config
from glance_train.seeding import seed_everything
from glance_train.train import _worker, run
from tests.conftest import tiny_experiment

REPO = Path(__file__).resolve().parents[3]
HAVE_NODE = (REPO / "node_modules" / ".bin" / "tsx").exists()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("run")
    record = run(tiny_experiment(), out, cache_dir, jobs=2, quiet=True)
    return out, record


def test_trainer_learns_and_beats_the_trivial_baseline(trained: tuple[Path, dict[str, Any]]) -> None:
    out, record = trained
    history = record["history"]
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    assert record["test"]["test_centre_err_px"] < 0.8 * record["baselines"]["test_baseline_centre_err_px"]
    assert (out / "curves.png").stat().st_size > 1000
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["test"] == pytest.approx(record["test"])


def test_checkpoints_carry_config_and_schema_version(trained: tuple[Path, dict[str, Any]]) -> None:
    out, _ = trained
    ckpt = load_checkpoint(out / "best.pt")
    assert ckpt["schema_version"] == SCHEMA_VERSION
    assert ckpt["model"] == "pupil" and ckpt["model_config"]["input_size"] == 32
    assert ckpt["experiment"]["seed"] == 3
    assert ckpt["dataset"]["synthetic"] is True and ckpt["held_out"]["test"]
    torch.save({**ckpt, "schema_version": SCHEMA_VERSION + 1}, out / "future.pt")
    with pytest.raises(ValueError, match="schema"):
        load_checkpoint(out / "future.pt")


@pytest.mark.skipif(not HAVE_NODE, reason="parity runs in onnxruntime-node (npm ci)")
def test_export_checker_manifest_and_parity(trained: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    out, _ = trained
    model_dir = tmp_path / "pupil" / "0.0.1-test"
    manifest = export_checkpoint(out / "best.pt", model_dir)
    onnx.checker.check_model(onnx.load(str(model_dir / "model.onnx")), full_check=True)
    assert manifest["schemaVersion"] == MANIFEST_SCHEMA_VERSION and manifest["opset"] == 17
    assert manifest["sha256"] == sha256_file(model_dir / "model.onnx")
    assert manifest["inputs"][0]["shape"] == ["batch", 1, 32, 32]
    assert [o["name"] for o in manifest["outputs"]] == ["centre", "axes", "angle", "open_logit"]
    assert manifest["dataset"]["synthetic"] is True
    assert manifest["dataset"]["fingerprint"].startswith("sha256:")
    assert manifest["metrics"]["heldOut"]["test_centre_err_px"] > 0
    assert manifest["provenance"]["seed"] == 3 and manifest["provenance"]["config"]["model"] == "pupil"

    # A model whose ONNX outputs drift from PyTorch's fails the parity step with a clear message.
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    golden = json.loads((broken / "golden.json").read_text())
    golden["outputs"]["centre"]["data"] = golden["outputs"]["axes"]["data"]
    (broken / "golden.json").write_text(json.dumps(golden))
    with pytest.raises(ExportError, match="parity check failed"):
        parity_check(broken, 1e-4)


def test_dataset_is_deterministic_per_index_and_seed(cache_dir: Path) -> None:
    from glance_train.data.cache import render_all
    from glance_train.data.eye_dataset import EyeDataset

    splits = EyeSplits.from_dict({"seed": 77, "train_size": 24}, 32)
    one, two = render_all(splits.train, jobs=1), render_all(splits.train, jobs=2)
    assert one.fingerprint == two.fingerprint
    ds = EyeDataset(splits.train)
    a, b = ds[5], ds[5]
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(a[0][0], torch.from_numpy(one.images[5]).float() / 255)
    assert not torch.equal(EyeDataset(splits.val)[5][0], a[0])  # another seed, another image
    assert a[0].shape == (1, 32, 32) and 0.0 <= float(a[0].min()) and float(a[0].max()) <= 1.0


def _final_params(out: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(out / "last.pt")["state_dict"]


def test_ddp_two_processes_match_one(tmp_path: Path, cache_dir: Path) -> None:
    exp = tiny_experiment(max_steps=4, epochs=1, batch_size=16)
    splits = EyeSplits.from_dict(exp.data, 32)
    render_splits(splits, 2, cache_dir)
    meta = {"model": exp.model, "model_config": config_dict(model_config(exp.model, exp.model_config))}
    for world in (1, 2):
        launch(_worker, world, (exp, splits, cache_dir, tmp_path / f"w{world}", meta, True))
    one, two = _final_params(tmp_path / "w1"), _final_params(tmp_path / "w2")
    seed_everything(exp.seed)
    init = create_model(exp.model, exp.model_config).state_dict()  # the weights both runs started from
    moved = max(float((one[k] - init[k]).abs().max()) for k in one if one[k].is_floating_point())
    diff = max(float((one[k] - two[k]).abs().max()) for k in one if one[k].is_floating_point())
    assert moved > 1e-3  # the steps did change the weights
    assert diff < 1e-5, f"1 vs 2 processes differ by {diff}"


def test_registry_and_overrides() -> None:
    assert "pupil" in list_models()
    with pytest.raises(ValueError, match="unknown config keys"):
        create_model("pupil", {"input_sise": 64})
    raw = apply_overrides({"train": {"epochs": 3}}, ["train.epochs=5", "data.train_size=10", "version=x"])
    assert raw == {"train": {"epochs": 5}, "data": {"train_size": 10}, "version": "x"}
    assert default_cache_dir().name == "datasets"


@pytest.mark.parametrize("name", list_models())
def test_every_registered_model_exports_to_onnx(name: str, tmp_path: Path) -> None:
    from glance_train.export import export_onnx, symbolic_axes
    from glance_train.models import model_entry
    from glance_train.tasks import get_task

    model = create_model(name).eval()
    task = get_task(model_entry(name).task)
    spec = task.io_spec(config_dict(model_config(name)))
    if len(spec["inputs"]) > 1:
        pytest.skip("several inputs: the model exports through its own path, tested in its own suite")
    first = spec["inputs"][0]
    size = first.get("normalisation", {}).get("resize", {})
    # A symbolic dimension gets a batch of 2, or the size the manifest resizes to (height, width).
    shape = [d if isinstance(d, int) else 2 if d == "batch" else int(size[d]) for d in first["shape"]]
    exported = model.for_export() if hasattr(model, "for_export") else model
    export_onnx(exported, torch.rand(*shape), tmp_path / "m.onnx", first["name"], task.output_names,
                symbolic_axes(spec))
    graph = onnx.load(str(tmp_path / "m.onnx")).graph
    assert [o.name for o in graph.output] == list(task.output_names)
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"

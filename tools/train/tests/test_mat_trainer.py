"""MAT as an option of the shared trainer: on the pupil task it logs λ_max per module, really skips the
backward pass of inactive modules, is switched on from the command line, and works under 2-process DDP."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from glance_train.config import Experiment
from glance_train.data.splits import EyeSplits, datasets, render_splits
from glance_train.distributed import WorkerContext, launch
from glance_train.mat.controller import default_groups
from glance_train.models import config_dict, create_model, model_config
from glance_train.seeding import seed_everything
from glance_train.tasks import get_task
from glance_train.train import _worker, main
from glance_train.trainer import Trainer
from tests.conftest import TINY

torch.set_num_threads(1)

# A short period and warm-up so that two tiny epochs see several selections; tau so large that no λ "moves":
# after the warm-up only min_active modules train, which makes skipping certain rather than likely.
MAT = {"enabled": True, "period": 4, "probe_size": 2, "warmup": 1, "tau": 1e9, "min_active": 2}


def _experiment(mat: dict[str, Any], **train: Any) -> Experiment:
    data = {**TINY["data"], "train_size": 160}  # ten steps an epoch
    return Experiment.from_dict({**TINY, "data": data, "train": {**TINY["train"], **train}, "mat": mat})


def _active_at(probes: list[dict[str, Any]], step: int) -> set[str]:
    return set([p for p in probes if p["step"] <= step][-1]["active"])


def test_default_modules_are_the_blocks_of_the_pupil_net() -> None:
    groups = default_groups(create_model("pupil", {**TINY["model_config"], "depth": 2}))
    # Stages are Sequentials of conv blocks (split); the stem and the MLP heads are blocks of plain layers.
    assert list(groups)[:5] == ["stem", "stage4.0", "stage4.1", "stage8.0", "stage8.1"]
    assert "shape_head" in groups and "shape_head.0" not in groups


def test_mat_in_the_shared_trainer_logs_lambda_and_skips_inactive_backward(
    tmp_path: Path, cache_dir: Path
) -> None:
    exp = _experiment(MAT, epochs=2)
    splits = EyeSplits.from_dict(exp.data, 32)
    data = datasets(render_splits(splits, 2, cache_dir))
    seed_everything(exp.seed)
    model = create_model(exp.model, exp.model_config)
    groups = default_groups(model)
    owner = {id(p): name for name, ps in groups.items() for p in ps}
    fired: set[str] = set()
    for p in model.parameters():
        if id(p) in owner:
            p.register_hook(lambda g, n=owner[id(p)]: fired.add(n))
    steps: list[dict[str, Any]] = []  # per step: modules frozen at the forward pass, and who got a gradient
    task = get_task("pupil")

    def watched_loss(outputs: tuple[torch.Tensor, ...], target: torch.Tensor) -> Any:
        if steps:  # the previous step's backward has run and its gradients are still in place
            steps[-1]["fired"] = set(fired)
            steps[-1]["with_grad"] = {owner[id(p)] for p in model.parameters() if p.grad is not None}
        fired.clear()
        frozen = {n for n, ps in groups.items() if not any(p.requires_grad for p in ps)}
        values = {n: [p.detach().clone() for p in ps] for n, ps in groups.items()}
        steps.append({"frozen": frozen, "values": values})
        return task.loss(outputs, target)

    watched = dataclasses.replace(task, loss=watched_loss)
    trainer = Trainer(exp.train, watched, exp.seed, tmp_path, {}, True, exp.mat)
    result = trainer.fit(WorkerContext(0, 1), model, data["train"], data["val"])

    record = json.loads((tmp_path / "metrics.json").read_text())["mat"]
    assert [e["epoch"] for e in record["epochs"]] == [1, 2]
    for epoch in record["epochs"]:  # λ_max of every module, every epoch
        assert set(epoch["lambda"]) == set(groups)
        assert all(math.isfinite(v) and v > 0 for v in epoch["lambda"].values())
    assert [p["step"] for p in record["probes"]] == list(range(0, result.steps, 4))
    assert record["inactiveParamsWithGrad"] == 0
    assert sum(e["inactive_module_steps"] for e in record["epochs"]) > 0
    # Measured FLOPs: the first epoch (warm-up, all modules on) runs full back-propagation; once modules are
    # frozen the backward costs less than full BP would, and the probes are charged to MAT.
    first, second = (e["flops"] for e in record["epochs"])
    assert first["backward"] > 0 and second["backward"] < second["full_backward"]
    assert record["flops"]["probe"] > 0 and record["epochs"][1]["backward_saved"] > 0

    skipped = 0
    for i, step in enumerate(steps[:-1]):
        assert step["frozen"] == set(groups) - _active_at(record["probes"], i)  # what MAT logged is what ran
        assert not step["frozen"] & step["fired"], f"step {i}: a frozen module's gradient was computed"
        assert not step["frozen"] & step["with_grad"]
        assert step["fired"] == set(groups) - step["frozen"]
        for n in step["frozen"]:  # nor updated: no gradient, so AdamW skips it (weight decay included)
            after = steps[i + 1]["values"][n]
            assert all(torch.equal(a, b) for a, b in zip(step["values"][n], after, strict=True))
        skipped += len(step["frozen"])
    assert skipped > 0
    assert all(p.requires_grad for p in model.parameters())  # released after training


def test_mat_is_switched_on_from_the_command_line(tmp_path: Path, cache_dir: Path) -> None:
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({**TINY, "train": {**TINY["train"], "epochs": 1, "max_steps": 5}}))
    sets = ["mat.enabled=true", "mat.period=2", "mat.probe_size=2", "mat.warmup=1"]
    argv = [str(config), "--out", str(tmp_path / "run"), "--cache-dir", str(cache_dir)]
    argv += ["--no-export", "--quiet"]
    assert main([*argv, *[a for s in sets for a in ("--set", s)]]) == 0
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["mat"]["options"]["period"] == 2 and len(record["mat"]["probes"]) == 3
    assert main([*argv, "--set", "mat.enabled=perhaps"]) == 2
    assert main([*argv, "--set", "mat.rule=x"]) == 2


def test_ddp_two_processes_with_mat_match_one(tmp_path: Path, cache_dir: Path) -> None:
    exp = _experiment({**MAT, "period": 2}, max_steps=6, epochs=1, batch_size=16)
    splits = EyeSplits.from_dict(exp.data, 32)
    render_splits(splits, 2, cache_dir)
    meta = {"model": exp.model, "model_config": config_dict(model_config(exp.model, exp.model_config))}
    for world in (1, 2):
        launch(_worker, world, (exp, splits, cache_dir, tmp_path / f"w{world}", meta, True))
    logs = [json.loads((tmp_path / f"w{w}" / "metrics.json").read_text())["mat"] for w in (1, 2)]
    assert [p["active"] for p in logs[0]["probes"]] == [p["active"] for p in logs[1]["probes"]]
    for log in logs:
        assert log["inactiveParamsWithGrad"] == 0 and log["epochs"][0]["inactive_module_steps"] > 0
    one = torch.load(tmp_path / "w1" / "last.pt")["state_dict"]
    two = torch.load(tmp_path / "w2" / "last.pt")["state_dict"]
    diff = max(float((one[k] - two[k]).abs().max()) for k in one if one[k].is_floating_point())
    assert diff < 1e-5, f"1 vs 2 processes with MAT differ by {diff}"


@pytest.mark.parametrize("bad", [{"period": 0}, {"enabled": "yes"}, {"alpha": -1.0}])
def test_bad_mat_options_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="mat"):
        _experiment({"enabled": True, **bad})

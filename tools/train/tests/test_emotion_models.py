"""The two emotion networks: output shapes, and the aware one starting from the eye-only one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from glance_train.checkpoint import save_checkpoint
from glance_train.emotion.run import load_expression_path
from glance_train.models import create_model
from glance_train.tasks.emotion import io_spec, loss

torch.set_num_threads(1)


def _inputs(b: int = 2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    eye, pupil = torch.rand(b, 16, 32, 32, generator=g), torch.rand(b, 16, 2, generator=g)
    return eye, pupil, torch.rand(b, 16, 3, 32, 32, generator=g)


def test_outputs_match_the_manifest_shapes() -> None:
    eye, pupil, scene = _inputs()
    eye_net, ship_net = create_model("emotion-eye").eval(), create_model("emotion-ship").eval()
    logits, emb = eye_net(eye, pupil)
    assert logits.shape == (2, 7) and emb.shape == (2, io_spec(32, 16, False, 48)["outputs"][1]["shape"][1])
    logits, emb, cause = ship_net(eye, pupil, scene)
    assert logits.shape == (2, 7) and emb.shape == (2, 64) and cause.shape == (2, 16, 6)
    with pytest.raises(ValueError, match="scene"):
        ship_net(eye, pupil)
    target = torch.cat([torch.tensor([[1], [2]]), torch.full((2, 16), -1)], dim=1)
    total, parts = loss((logits, emb, cause), target)
    assert torch.isfinite(total) and parts["cause"] == 0.0  # unknown causes (-1) add nothing


def test_aware_network_starts_from_the_eye_only_expression_path(tmp_path: Path) -> None:
    eye_net, ship_net = create_model("emotion-eye"), create_model("emotion-ship")
    save_checkpoint(tmp_path / "best.pt", eye_net, {"model": "emotion-eye", "model_config": {}})
    load_expression_path(ship_net, tmp_path / "best.pt")
    for k, v in eye_net.state_dict().items():
        if k.startswith(("eye.", "temporal.")):
            assert torch.equal(ship_net.state_dict()[k], v), k
    with pytest.raises(FileNotFoundError, match="train emotion-eye first"):
        load_expression_path(ship_net, tmp_path / "missing.pt")

"""TVA: labels agree with the renderer, the tracker-error model has its stated statistics, a tiny training run
learns, and the export passes onnx.checker with the contract's names and shapes."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from glance_train.config import TrainConfig
from glance_train.synth.scene_render import render_scene
from glance_train.tasks import tva as task
from glance_train.tva import baseline
from glance_train.tva.clips import CAMERA, make_clip
from glance_train.tva.data import SplitSpec, build_split, clip_seed, render_frame
from glance_train.tva.evaluate import hits, iou
from glance_train.tva.export import export_onnx
from glance_train.tva.fit import batch, fit, outputs
from glance_train.tva.gaze_noise import NoiseConfig, draw_error, tracked_gaze
from glance_train.tva.model import TvaNet, TvaNetConfig

torch.set_num_threads(1)
SPLIT = SplitSpec(seed=4242, clips=2, per_clip=12)


@pytest.fixture(scope="module")
def tiny() -> dict[str, np.ndarray]:
    return build_split(SPLIT)


def test_attended_box_is_the_renderers_bbox_of_that_object(tiny: dict[str, np.ndarray]) -> None:
    checked = 0
    for i in np.flatnonzero(tiny["has_object"])[:8]:
        clip = make_clip(clip_seed(SPLIT.seed, int(tiny["clip"][i])), SPLIT.clip)
        t = float(clip.frame_time_s(int(tiny["frame"][i])))
        img, truth = render_scene(clip.world, t)
        x, y, w, h = truth.bboxes[int(tiny["attended"][i])]
        expect = [(x + w / 2) / 640, (y + h / 2) / 480, w / 640, h / 480]
        np.testing.assert_allclose(tiny["box"][i], expect, atol=1e-5)
        # and the pixels the model sees are the renderer's, resized
        assert np.array_equal(render_frame(clip.world, t), img)
        checked += 1
    assert checked >= 4
    # An episode frame always has an attended object; non-object frames have no box.
    assert np.all(tiny["has_object"][tiny["episode"]])
    assert np.all(tiny["box"][~tiny["has_object"]] == 0)


def test_episodes_last_at_least_0_8_s_and_lie_on_one_object() -> None:
    clip = make_clip(clip_seed(SPLIT.seed, 0))
    assert clip.episodes
    for a, b, obj in clip.episodes:
        assert b - a >= 800
        assert np.all(clip.attended_ms[a:b] == obj)


def test_tracker_error_has_the_stated_statistics() -> None:
    cfg = NoiseConfig()
    rng = np.random.default_rng(0)
    px = CAMERA.px_per_deg()
    errs = [draw_error(rng, cfg) for _ in range(2000)]
    off = np.array([np.linalg.norm(e.offset_px) / px for e in errs])
    assert off.min() >= 0.5 - 1e-9 and off.max() <= 2.0 + 1e-9
    assert abs(off.mean() - 1.25) < 0.05  # uniform in [0.5, 2] deg
    # Against a still eye with the lid open: the median error is the offset, the spread the precision.
    clip = make_clip(clip_seed(SPLIT.seed, 1))
    n = len(clip.gaze_ms)
    still = dataclasses.replace(clip, gaze_ms=np.tile([320.0, 240.0], (n, 1)), openness=np.full(n, 0.93))
    err = dataclasses.replace(errs[0], drift_px_s=np.zeros(2), latency_ms=0.0)
    frames = np.arange(still.frames)
    no_glitch = dataclasses.replace(cfg, glitch_p=0.0)
    xy, valid = tracked_gaze(still, frames, np.random.default_rng(1), err, no_glitch)
    d = xy[valid] - [320.0, 240.0]
    np.testing.assert_allclose(np.median(d, 0), err.offset_px, atol=0.25 * px)
    assert np.std(d - err.offset_px) == pytest.approx(err.precision_px / math.sqrt(2), rel=0.2)
    # dropouts: about dropouts_per_s bursts a second, each 1-4 frames
    assert 0.9 < valid.mean() < 1.0
    # a closed lid gives no sample
    shut = dataclasses.replace(still, openness=np.zeros(n))
    assert not tracked_gaze(shut, frames, np.random.default_rng(2), err)[1].any()


def test_box_metrics_and_eye_only_baseline() -> None:
    truth = np.array([[0.5, 0.5, 0.2, 0.2]])
    assert hits(np.array([[0.55, 0.45, 0.1, 0.1]]), truth).all()
    assert not hits(np.array([[0.65, 0.5, 0.1, 0.1]]), truth).any()
    assert iou(truth, truth)[0] == pytest.approx(1.0)
    gaze = np.zeros((1, 16, 3), np.float32)
    gaze[0, :10] = (0.3, 0.4, 1.0)  # the last 6 samples are missing: the latest valid one counts
    np.testing.assert_allclose(baseline.boxes(gaze, (0.1, 0.2))[0], [0.3, 0.4, 0.1, 0.2])


def test_a_tiny_training_run_lowers_the_loss(tiny: dict[str, np.ndarray], tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = TvaNet(TvaNetConfig(channels=(8, 12, 16), fuse=12, gaze_hidden=12))
    idx = np.arange(len(tiny["scene"]))
    s, g, t = batch(tiny, idx)

    def loss() -> float:
        model.eval()
        with torch.no_grad():
            return float(task.loss(outputs(model, s, g), t)[0])

    before = loss()
    cfg = TrainConfig(epochs=12, batch_size=8, lr=5e-3, patience=12, threads=1)
    fit(model, tiny, tiny, cfg, seed=0, out=None, meta={}, quiet=True)
    assert loss() < 0.8 * before


def test_export_passes_the_checker_with_the_contracts_names(tmp_path: Path) -> None:
    model = TvaNet(TvaNetConfig(channels=(8, 12, 16), fuse=12, gaze_hidden=12)).eval()
    scene, gaze = torch.rand(2, 6, 96, 128), torch.rand(2, 16, 3)
    path = tmp_path / "model.onnx"
    export_onnx(model, scene, gaze, path)  # raises ExportError when onnx.checker rejects it
    graph = onnx.load(str(path)).graph
    dims = {i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in graph.input}
    assert dims == {"scene": ["batch", 6, 96, 128], "gaze": ["batch", 16, 3]}
    outs = {o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in graph.output}
    assert outs == {"box": ["batch", 4], "score": ["batch", 1]}
    box, score = model(scene, gaze)
    assert float(box.min()) >= 0 and float(box.max()) <= 1
    assert 0 <= float(score.min()) <= float(score.max()) <= 1


def test_appearance_augmentation_moves_gaze_and_box_together() -> None:
    from glance_train.tva.fit import appearance

    scene = torch.rand(8, 6, 96, 128)
    gaze = torch.zeros(8, 16, 3)
    gaze[:, 8:] = torch.tensor([0.4, 0.6, 1.0])
    t = torch.tensor([[0.4, 0.6, 0.1, 0.1, 1.0, 1.0]] * 8)
    appearance(scene, gaze, t, torch.Generator().manual_seed(0))
    torch.testing.assert_close(gaze[:, -1, 0:2], t[:, 0:2])
    assert torch.all(gaze[:, :8] == 0)  # missing samples stay (0, 0, 0)
    assert float(scene.min()) >= 0.0 and float(scene.max()) <= 1.0
    assert t[:, 2].std() > 0  # sizes change with the zoom


def test_bad_data_config_is_named() -> None:
    from glance_train.tva.run import split_specs

    with pytest.raises(ValueError, match="train_clips"):
        split_specs({"train_clips": "many"})
    with pytest.raises(ValueError, match="bogus"):
        split_specs({"bogus": 1})
    specs = split_specs({"seed": 7})
    assert len({s.seed for s in specs.values()}) == 3  # train, validation and test never share a seed

"""Synthetic EMO-Film: the generator's layout round-trips through the reader, and bad data is named."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from glance_train.emotion.dataset import EmotionWindows, crop_box, decode, window_ends
from glance_train.emotion.generate import FRAMES, generate
from glance_train.emotion.labels import CAUSE_CLASSES, EMOTIONS
from glance_train.emotion.layout import read_clips, read_frames
from glance_train.emotion.scene_clip import MARKER_POINTS, gaze_path, make_world

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def emo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("emo") / "set"
    generate(root, clips=16, seed=5, wearers=3, jobs=1)
    return root


def test_layout_round_trips_through_the_reader(emo_root: Path) -> None:
    info = json.loads((emo_root / "dataset.json").read_text())
    assert info["synthetic"] is True and info["emotions"] == list(EMOTIONS)
    clips = read_clips(emo_root)
    assert len(clips) == 16 and {c.emotion for c in clips} == set(EMOTIONS)
    # neutral twice per cycle of eight (generate.CLASS_CYCLE), every other class twice in two cycles
    assert Counter(c.emotion for c in clips) == {e: 4 if e == "neutral" else 2 for e in EMOTIONS}
    data = decode(emo_root)
    assert data.eye.shape == (16, FRAMES, 32, 32) and data.scene.shape == (16, FRAMES, 32, 32, 3)
    for i, c in enumerate(clips):
        table = read_frames(emo_root / "clips" / c.clip / "frames.csv")
        # labels: neutral before the onset, the clip's emotion from it on
        want = ["neutral" if c.onset_frame < 0 or k < c.onset_frame else c.emotion for k in range(FRAMES)]
        assert table.label == want
        assert [EMOTIONS[j] for j in data.label[i]] == want
        assert [CAUSE_CLASSES[j] for j in data.cause[i]] == [o or "background" for o in table.object]
        # the eye crop the reader returns is the PNG on disk
        png = cv2.imread(str(emo_root / "clips" / c.clip / "eye" / "000003.png"), cv2.IMREAD_GRAYSCALE)
        assert np.array_equal(png, data.eye[i, 3])
        # the scene crop is centred on the gaze (clamped into the frame)
        scene = cv2.imread(str(emo_root / "clips" / c.clip / "scene" / "000003.jpg"))
        x0, y0, side = crop_box(*table.gaze[3], scene.shape[1], scene.shape[0])
        crop = cv2.resize(scene[y0 : y0 + side, x0 : x0 + side], (32, 32), interpolation=cv2.INTER_AREA)
        assert np.array_equal(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB), data.scene[i, 3])
    # the second read comes from the cache and is identical
    again = decode(emo_root)
    assert again.fingerprint == data.fingerprint and np.array_equal(again.pupil, data.pupil)


def test_windows_end_after_the_onset_and_carry_the_last_label(emo_root: Path) -> None:
    data = decode(emo_root)
    windows = EmotionWindows(data, steps=16, per_clip=3)
    for i, (c, e) in enumerate(windows.index):
        onset = int(data.onset[c])
        assert e >= 15 and (onset < 0 or e >= onset + 4)
        (eye, pupil, scene), target = windows[i]
        assert eye.shape == (16, 32, 32) and pupil.shape == (16, 2) and scene.shape == (16, 3, 32, 32)
        assert int(target[0]) == int(data.label[c, e])
        assert float(eye.max()) <= 1.0
    assert window_ends(-1, 22, 16, 2) == [15, 21]
    assert window_ends(20, 22, 16, 2) == []  # the expression has not had time to show


def test_generation_is_deterministic(tmp_path: Path, emo_root: Path) -> None:
    again = tmp_path / "again"
    generate(again, clips=16, seed=5, wearers=3, jobs=1)
    assert (again / "clips.csv").read_text() == (emo_root / "clips.csv").read_text()
    a = (emo_root / "clips" / "c00004" / "frames.csv").read_text()
    assert (again / "clips" / "c00004" / "frames.csv").read_text() == a


def test_bad_data_is_named(tmp_path: Path, emo_root: Path) -> None:
    with pytest.raises(FileNotFoundError, match="dataset.json"):
        decode(tmp_path)
    bad = tmp_path / "bad"
    shutil.copytree(emo_root, bad, ignore=shutil.ignore_patterns(".glance-cache-*"))
    frames = bad / "clips" / "c00000" / "frames.csv"
    rows = list(csv.reader(frames.open()))
    rows[5][6] = "bored"
    with frames.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(ValueError, match="unknown emotion 'bored'"):
        decode(bad)
    (bad / "clips" / "c00001" / "eye" / "000002.png").unlink()
    rows[5][6] = "neutral"
    with frames.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(FileNotFoundError, match="c00001 frame 2"):
        decode(bad)


def test_neutral_gaze_covers_the_frame_as_a_session_wearer_does() -> None:
    """Version 2 of the data: a neutral wearer follows markers to the corners and looks at the background, so the
    gaze's place alone cannot mean an emotion (version 1's neutral gaze stayed on three objects mid-frame)."""
    t_s = np.arange(FRAMES) / 4.0
    reached: list[np.ndarray] = []
    background = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        world, cause = make_world(rng, "ball")
        gaze, on = gaze_path(rng, world, cause, "neutral", t_s, float("inf"))
        reached.append(gaze)
        background += int((on < 0).sum())
    g = np.concatenate(reached)
    for fx, fy in MARKER_POINTS[:9:2]:  # the calibration grid's corners and centre
        assert float(np.min(np.hypot(g[:, 0] - fx, g[:, 1] - fy))) < 0.05, (fx, fy)
    assert background > 0.1 * len(g)


def test_eye_crops_pass_the_camera_codec_as_the_daemon_reads_them() -> None:
    """Version 3: eyes drawn at the eye camera's 192 px go through H.264 and back before the area-resize, as the
    daemon reads its recordings (eye_camera.py); the codec changes pixels a little, not the picture."""
    from glance_train.emotion.eye_camera import CAMERA_SIZE, camera_augment, through_codec
    from glance_train.synth.eye_model import make_eye_geometry
    from glance_train.synth.eye_render import render_eye
    from glance_train.synth.eye_state import EyeAppearance, EyeState

    rng = np.random.default_rng(3)
    geometry, appearance = make_eye_geometry("right", rng), EyeAppearance.random(rng)
    augment = camera_augment(rng)
    frames = [
        render_eye(EyeState(geometry=geometry, appearance=appearance, gaze=(0.05 * k, 0.0, 1.0), pupil_radius_mm=2.0,
                            openness=0.8, blink=False, squint=0.1), rng, CAMERA_SIZE, augment)[0]
        for k in range(5)
    ]
    crops = through_codec(frames, 4.0, 32)
    direct = [cv2.resize(f, (32, 32), interpolation=cv2.INTER_AREA) for f in frames]
    assert len(crops) == 5 and crops[0].shape == (32, 32) and crops[0].dtype == np.uint8
    diff = np.mean([np.abs(a.astype(float) - b.astype(float)).mean() for a, b in zip(crops, direct, strict=True)])
    assert 0.0 < diff < 4.0


def test_objects_sit_low_and_high_in_the_frame() -> None:
    """Version 3: dwelling on an object low in the frame is something every class does (version 2's objects sat at
    35-60 % of the height, so only sad clips' gaze rested at the bottom)."""
    ys = [o.base[1] / world.height for seed in range(40)
          for world in [make_world(np.random.default_rng(seed), "ball")[0]] for o in world.objects]
    assert min(ys) < 0.25 and max(ys) > 0.75

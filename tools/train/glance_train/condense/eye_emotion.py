"""The eye-emotion data as records condensation can match (``--dataset eye-emotion``).

A **record is one window of the emotion task** (``emotion/dataset.py``): 16 steps at 4 Hz (4 s) ending at
least 4 steps after the onset, labelled with its last frame's emotion, taken ``per_clip`` times per clip
exactly as the emotion task takes its training (4) and evaluation (2) windows. Each step holds the eye crop,
**area-downscaled from 32×32 to 16×16** (four times fewer numbers to match, so distribution matching stays
affordable on a CPU, and fewer pixels of a person's eye leave the device), then the measured pupil diameter in
mm and the tracker's confidence: a record is ``(16, 16·16 + 2)`` float32, eye pixels in [0, 1]. Expression
only: the scene crop at the gaze (emotion-ship's second input) is left out, because a shared scene crop shows
what the wearer looked at, the one thing a de-identified emotion sample should not carry.

The held-out split is **by participant**, as the emotion task's: either an EMO-Film root with ``train/`` and
``test/`` splits (the emotion task's own layout; ``val/`` is not used), or one EMO-Film root whose
participants are split (a seeded quarter held out). Without ``data_dir``, the emotion task's synthetic splits
in the dataset cache are read (``emotion/data.py``; made by ``glance train emotion-eye``). That data is
**synthetic** (``generate.py``, data version 3), and every file and report says so.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from glance_train.datasets_real import RealDataset, Standardiser
from glance_train.emotion.dataset import PUPIL_MEAN_MM, PUPIL_STD_MM, STEP_HZ, DecodedSet, decode, window_ends
from glance_train.emotion.labels import EMOTIONS

NAME = "eye-emotion"
KIND = "eye-series"
"""RealDataset.kind of these records: nets.py builds time-series models for it."""
STEPS = 16
"""The emotion models' window (emotion-eye's ``steps``)."""
EYE = 16
"""Eye crop side in a record (the emotion task reads 32; 2×2 area averaging)."""
HELD_OUT_FRACTION = 0.25
RECORDS = ("raw", "change")
"""raw: the crops and pupil as measured. change: each window's mean crop and mean pupil subtracted (what the
expression changes; the wearer's static eye, the identifying part, is gone)."""


@dataclass(frozen=True)
class EyeRecords:
    """Windows of one split: ``x`` (N, STEPS, EYE·EYE + 2), ``y`` (N,), the participant of each window."""

    x: np.ndarray
    y: np.ndarray
    participant: np.ndarray


def record_layout(eye: int = EYE, records: str = "raw") -> dict[str, Any]:
    """What each number of a record is: the file's meta carries it, so a receiver can read the samples."""
    per_step = ([f"eye pixels {eye}x{eye} row-major, [0, 1] grey", "pupil diameter mm",
                 "pupil confidence [0, 1]"]
                if records == "raw" else
                [f"eye pixels {eye}x{eye} row-major minus the window's mean crop, [-1, 1] grey",
                 "pupil diameter mm minus the window's mean", "pupil confidence [0, 1]"])
    return {"steps": STEPS, "step_hz": STEP_HZ, "eye_size": eye, "records": records, "per_step": per_step,
            "label": "emotion of the window's last step", "scene": "not included"}


def windows(data: DecodedSet, per_clip: int, eye: int = EYE, records: str = "raw") -> EyeRecords:
    """The emotion task's windows of ``data`` as flat records (see the module doc and ``RECORDS``)."""
    if records not in RECORDS:
        raise ValueError(f"records must be one of {', '.join(RECORDS)}, not {records!r}")
    frames = data.eye.shape[1]
    xs, ys, who = [], [], []
    factor = data.eye.shape[-1] // eye
    for c in range(len(data.eye)):
        for e in window_ends(int(data.onset[c]), frames, STEPS, per_clip):
            s = slice(e - STEPS + 1, e + 1)
            crops = data.eye[c, s].astype(np.float32) / 255.0
            crops = crops.reshape(STEPS, eye, factor, eye, factor).mean(axis=(2, 4))  # area downscale
            mm = data.pupil[c, s, 0] * PUPIL_STD_MM + PUPIL_MEAN_MM
            if records == "change":
                crops, mm = crops - crops.mean(0), mm - mm.mean()
            xs.append(np.concatenate([crops.reshape(STEPS, -1), mm[:, None], data.pupil[c, s, 1:2]], axis=1))
            ys.append(int(data.label[c, e]))
            who.append(str(data.participant[c]))
    if not xs:
        raise ValueError(f"no window of {STEPS} steps fits clips of {frames} frames")
    return EyeRecords(np.stack(xs).astype(np.float32), np.array(ys, dtype=np.int64), np.array(who))


def _is_root(path: Path) -> bool:
    return (path / "dataset.json").exists()


def emotion_task_roots(cache_dir: Path | None = None, held_out: str = "test") -> dict[str, Path]:
    """The emotion task's synthetic train and ``held_out`` (test or val) splits in the dataset cache, without
    generating them."""
    from glance_train.data.cache import default_cache_dir
    from glance_train.emotion.data import EmotionData, _source_key

    cache_dir = cache_dir or default_cache_dir()
    cfg = EmotionData()
    roots = {}
    for split in ("train", held_out):
        clips, seed, wearers = cfg.split_args(split)
        key = hashlib.sha256(f"{_source_key()}:{clips}:{seed}:{wearers}".encode()).hexdigest()[:16]
        roots["train" if split == "train" else "test"] = cache_dir / f"emo-film-synthetic-{split}-{key}"
    missing = [str(p) for p in roots.values() if not (p / "clips.csv").exists()]
    if missing:
        raise FileNotFoundError(
            f"the emotion task's synthetic splits are not in the dataset cache ({', '.join(missing)}): "
            "run `glance train emotion-eye` once (it generates them), "
            "or pass --data-dir with an EMO-Film root")
    return roots


def load_records(
    data_dir: Path | None, seed: int = 0, eye: int = EYE, per_clip: tuple[int, int] = (4, 2),
    held_out: str = "test", records: str = "raw",
) -> tuple[EyeRecords, EyeRecords, dict[str, Any]]:
    """(train, held-out, description) windows; held-out participants never appear in train. ``held_out``
    "val" reads the validation split instead of the test split (choosing settings without seeing test)."""
    if data_dir is None:
        roots = emotion_task_roots(held_out=held_out)
    elif not data_dir.is_dir():
        raise FileNotFoundError(f"--data-dir {data_dir} does not exist or is not a directory")
    elif _is_root(data_dir / "train") and _is_root(data_dir / held_out):
        roots = {"train": data_dir / "train", "test": data_dir / held_out}
    elif _is_root(data_dir):
        roots = {"all": data_dir}
    else:
        raise FileNotFoundError(
            f"--data-dir {data_dir}: no dataset.json in it nor in its train/ and test/ (EMO-Film layout, "
            "docs/emotion.md)")
    infos = {s: json.loads((r / "dataset.json").read_text()) for s, r in roots.items()}
    if "all" in roots:
        data = decode(roots["all"])
        people = sorted(set(data.participant.tolist()))
        if len(people) < 2:
            raise ValueError(
                f"{roots['all']}: {len(people)} participant(s); a held-out split needs at least 2")
        rng = np.random.default_rng(seed)
        n_out = max(1, round(len(people) * HELD_OUT_FRACTION))
        held = set(rng.permutation(people)[:n_out].tolist())
        keep = np.array([p not in held for p in data.participant])
        train = windows(_subset(data, keep), per_clip[0], eye, records)
        test = windows(_subset(data, ~keep), per_clip[1], eye, records)
    else:
        train = windows(decode(roots["train"]), per_clip[0], eye, records)
        test = windows(decode(roots["test"]), per_clip[1], eye, records)
    overlap = set(train.participant.tolist()) & set(test.participant.tolist())
    if overlap:
        raise ValueError(f"participants {sorted(overlap)[:5]} are in both the training and held-out split")
    first = next(iter(infos.values()))
    described = {
        "roots": {s: str(r) for s, r in roots.items()},
        "held_out": held_out if "all" not in roots else "participants split from one root",
        "synthetic": all(bool(i.get("synthetic", False)) for i in infos.values()),
        "generator": first.get("generator"),
        "participants": {"train": len(set(train.participant.tolist())),
                         "held_out": len(set(test.participant.tolist()))},
        "windows": {"train": int(len(train.y)), "held_out": int(len(test.y))},
        "windows_per_clip": {"train": per_clip[0], "held_out": per_clip[1]},
        "record": record_layout(eye, records),
    }
    return train, test, described


def _subset(data: DecodedSet, keep: np.ndarray) -> DecodedSet:
    h = hashlib.sha256(data.fingerprint.encode() + keep.tobytes()).hexdigest()
    return DecodedSet(data.eye[keep], data.scene[keep], data.pupil[keep], data.label[keep], data.cause[keep],
                      data.onset[keep], data.participant[keep], h)


def as_dataset(records: EyeRecords, source: str) -> RealDataset:
    return RealDataset(NAME, records.x, records.y, EMOTIONS, KIND, source)


def series_standardiser(x: np.ndarray) -> Standardiser:
    """One mean/std for all eye pixels (they share a scale), one each for pupil mm and confidence; shape
    (EYE·EYE + 2,), broadcast over steps."""
    pixels = x[..., :-2]
    mean = np.concatenate([np.full(pixels.shape[-1], pixels.mean()), x[..., -2:].reshape(-1, 2).mean(0)])
    std = np.concatenate([np.full(pixels.shape[-1], pixels.std()), x[..., -2:].reshape(-1, 2).std(0)]) + 1e-6
    return Standardiser(mean.astype(np.float32), std.astype(np.float32))

"""Traces for adaptive resolution: what each choice would have given on each frame of a sequence, measured once.

For every frame t and scale s the segmentation network's label map (scored against the mask at base size), its
confidence, and for reuse — keeping the label map computed at an earlier frame — the quality of that old map
on frame t, for up to ``MAX_AGE`` frames back. A policy's rollout is then table look-ups, so policy gradient
can run thousands of episodes. Costs are measured: PyTorch time per frame at each scale, one thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from glance_train.seg.compare import SCALES, scaled_size
from glance_train.seg.data import to_input
from glance_train.seg.render import LABELS
from glance_train.seg.sequences import SequenceConfig, render_sequence

MAX_AGE = 8
"""A label map is reused for at most this many frames after the one it was computed on."""
FEATURE_SIDE = (40, 30)
"""Content features come from the frame at 40×30 grey: cheap enough to compute on every frame."""


def frame_miou(pred: np.ndarray, truth: np.ndarray, classes: int = len(LABELS)) -> float:
    """Mean IoU over the classes present in the prediction or the truth of one frame."""
    cm = np.bincount(truth.ravel().astype(np.int64) * classes + pred.ravel(), minlength=classes * classes)
    cm = cm.reshape(classes, classes)
    inter = np.diag(cm).astype(np.float64)
    union = cm.sum(0) + cm.sum(1) - inter
    present = union > 0
    return float((inter[present] / union[present]).mean())


@dataclass(frozen=True)
class Trace:
    quality: np.ndarray
    """(T, S) frame mIoU when segmenting frame t at scale s."""
    reuse: np.ndarray
    """(T, S, MAX_AGE) quality on frame t + 1 + a of the map computed on frame t at scale s (nan past the end)."""
    confidence: np.ndarray
    """(T, S) mean winning softmax probability."""
    grey: np.ndarray
    """(T, 30, 40) float32 grey frames in [0, 1], for content features."""


@torch.no_grad()
def trace_sequence(model: nn.Module, images: np.ndarray, masks: np.ndarray) -> Trace:
    n, h, w = masks.shape
    maps = np.zeros((n, len(SCALES), h, w), np.uint8)
    conf = np.zeros((n, len(SCALES)), np.float32)
    for si, s in enumerate(SCALES):
        size = scaled_size(w, h, s)
        small = np.stack([cv2.resize(im, size, interpolation=cv2.INTER_AREA) for im in images]) if s != 1 else images
        logits = F.interpolate(model(to_input(small)), size=(h, w), mode="bilinear", align_corners=False)
        prob = logits.softmax(1).max(1)
        maps[:, si] = logits.argmax(1).numpy().astype(np.uint8)
        conf[:, si] = prob.values.mean(dim=(1, 2)).numpy()
    quality = np.array([[frame_miou(maps[t, si], masks[t]) for si in range(len(SCALES))] for t in range(n)])
    reuse = np.full((n, len(SCALES), MAX_AGE), np.nan)
    for t in range(n):
        for si in range(len(SCALES)):
            for a in range(MAX_AGE):
                if t + 1 + a < n:
                    reuse[t, si, a] = frame_miou(maps[t, si], masks[t + 1 + a])
    grey = np.stack([cv2.resize(cv2.cvtColor(im, cv2.COLOR_BGR2GRAY), FEATURE_SIDE, interpolation=cv2.INTER_AREA)
                     for im in images]).astype(np.float32) / 255.0
    return Trace(quality, reuse, conf, grey)


def trace_sequences(model: nn.Module, cfg: SequenceConfig) -> list[Trace]:
    return [trace_sequence(model, *render_sequence(cfg, i)) for i in range(cfg.count)]


@torch.no_grad()
def measure_costs(model: nn.Module, width: int, height: int, rounds: int = 150) -> np.ndarray:
    """PyTorch compute per frame (ms of this thread's CPU time, batch 1, one thread) at each scale.

    Rounds interleave the scales (one run of each per round) and each scale keeps its least time: CPU time
    rather than wall time, interleaved and the least, because on a shared machine preemption and the
    neighbours' cache traffic only ever add to the network's own cost, and they drift over seconds.
    """
    inputs = []
    for s in SCALES:
        w, h = scaled_size(width, height, s)
        inputs.append(torch.rand(1, 3, h, w))
    for x in inputs:
        model(x)
    best = np.full(len(SCALES), np.inf)
    for _ in range(rounds):
        for i, x in enumerate(inputs):
            t0 = time.thread_time()
            model(x)
            best[i] = min(best[i], (time.thread_time() - t0) * 1000)
    return best


def save_traces(path: str, traces: list[Trace], costs_ms: np.ndarray) -> None:
    np.savez_compressed(
        path,
        quality=np.stack([t.quality for t in traces]),
        reuse=np.stack([t.reuse for t in traces]).astype(np.float32),
        confidence=np.stack([t.confidence for t in traces]),
        grey=np.stack([(t.grey * 255).round().astype(np.uint8) for t in traces]),
        costs_ms=costs_ms,
    )


def load_traces(path: str) -> tuple[list[Trace], np.ndarray]:
    with np.load(path) as z:
        traces = [Trace(q, r, c, g.astype(np.float32) / 255.0)
                  for q, r, c, g in zip(z["quality"], z["reuse"], z["confidence"], z["grey"], strict=True)]
        return traces, z["costs_ms"]

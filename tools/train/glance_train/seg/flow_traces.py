"""The key scheduler's network traces (glance_train.keyframe.net_traces) as adaptive-resolution traces, with
reuse *by flow*: reusing the map of frame k at scale s on frame t warps it by the device's flow (denseFlow(t, k),
warpLabels), as the key scheduler's non-key frames do — the action "reuse-by-flow" of papers.md §3.

Quality is against the network's full-scale output on every frame ("reference") or the masks ("truth"); costs
are the onnxruntime times at each scale measured while tracing (median over the traces' sequences).
"""

from __future__ import annotations

import numpy as np

from glance_train.keyframe.net_traces import NetTrace
from glance_train.seg.traces import FEATURE_SIDE, MAX_AGE, Trace


def from_net_trace(nt: NetTrace, quality: str) -> Trace:
    if quality not in ("reference", "truth"):
        raise ValueError(f"quality must be 'reference' or 'truth', got {quality!r}")
    key, warp = nt.quality(quality == "truth")
    n, k, s = warp.shape
    if k < MAX_AGE:
        raise ValueError(f"traces reach {k} frames back, reuse needs {MAX_AGE}")
    reuse = np.full((n, s, MAX_AGE), np.nan, np.float32)
    for t in range(n):
        for a in range(MAX_AGE):
            if t + 1 + a < n:
                reuse[t, :, a] = warp[t + 1 + a, a, :]
    if nt.grey40.shape[1:] != (FEATURE_SIDE[1], FEATURE_SIDE[0]):
        raise ValueError(f"{nt.name}: grey frames of {nt.grey40.shape[1:]}, expected {FEATURE_SIDE[::-1]}")
    return Trace(key.astype(np.float64), reuse, nt.confidence, nt.grey40)


def measured_costs(traces: list[NetTrace]) -> np.ndarray:
    """Milliseconds of one onnxruntime run at each scale: the median over the sequences' medians."""
    return np.median(np.stack([t.ms for t in traces]), axis=0)

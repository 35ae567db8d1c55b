"""Traces with the segmentation network in the loop, the papers' way (DVSNet, the RL key scheduler, RL adaptive
resolution): the reference of each frame is the zoo network's own output on it at full scale; a key frame's
result is the network's output on the key at the chosen scale; other frames warp the last key's map by the
device's flow. Every quality is kept against that reference *and* against the ground truth.

Made by ``tools/keyframe/net-traces-cli.ts`` (onnxruntime-node, the device's flow and features), cached per
sequence under ``~/.cache/glance/keyframe/net-traces`` keyed by seed, length, interval, the sources and the
network's sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from glance_train.keyframe import sequences
from glance_train.keyframe.traces import REPO_ROOT, Split, _digest, cached_sequence, profile_tag, sequence_dir

SCALES = (1.0, 0.75, 0.5, 0.25)
SEGMENTATION_VERSION = "1.1.0"
"""The segmentation model in the traces: the one the daemon serves (tools/keyframe/segmenter.ts
POLICY_SEGMENTATION_VERSION says the same)."""
_NET_SOURCES = ("tools/keyframe/net-traces-cli.ts", "tools/keyframe/segmenter.ts")


@dataclass(frozen=True)
class NetTrace:
    """One sequence. Indices: t frame, a = age − 1 (key t − age), s scale (SCALES order)."""

    name: str
    deviation: np.ndarray
    """(N, K, 6) deviation of t from its key (NaN where the key would be < 0)."""
    warp_ref: np.ndarray
    """(N, K, S) mIoU of the key's map at scale s warped to t, against the network's full-scale map of t."""
    warp_truth: np.ndarray
    """(N, K, S) the same against the ground truth."""
    key_ref: np.ndarray
    """(N, S) mIoU of t's own map at scale s against its full-scale map (1 at s = 0)."""
    key_truth: np.ndarray
    """(N, S) the same against the ground truth."""
    confidence: np.ndarray
    """(N, S) mean winning softmax probability of t's map at scale s."""
    ms: np.ndarray
    """(S,) median onnxruntime time of one run at each scale, this sequence."""
    grey40: np.ndarray
    """(N, 30, 40) float32 grey in [0, 1]: the resolution policy's content features."""

    @property
    def frames(self) -> int:
        return int(self.key_ref.shape[0])

    def quality(self, truth: bool) -> tuple[np.ndarray, np.ndarray]:
        """(key quality (N, S), warped quality (N, K, S)) against the truth or the reference."""
        return (self.key_truth, self.warp_truth) if truth else (self.key_ref, self.warp_ref)


def network_sha(zoo: Path | None = None) -> str:
    root = zoo or REPO_ROOT / "models" / "zoo"
    manifest = json.loads((root / "segmentation" / SEGMENTATION_VERSION / "manifest.json").read_text())
    return str(manifest["sha256"])[:12]


def network_id(zoo: Path | None = None) -> str:
    """What ran in the traces: ``segmentation@<SEGMENTATION_VERSION> sha256 <first 12 hex>``."""
    return f"segmentation@{SEGMENTATION_VERSION} sha256 {network_sha(zoo)}"


def npz_network(path: Path) -> str | None:
    """The network a saved split was traced with (None for files saved before it was recorded)."""
    with np.load(path) as z:
        return str(z["network"]) if "network" in z.files else None


def _key(frames: int, max_interval: int) -> str:
    h = hashlib.sha256(_digest(False).encode())
    for rel in _NET_SOURCES:
        h.update((REPO_ROOT / rel).read_bytes())
    h.update(network_sha().encode())
    return f"{frames}-k{max_interval}-{h.hexdigest()[:12]}"


def _one(cache: Path, seed: int, frames: int, max_interval: int, profile: str = "drift-turns"
         ) -> tuple[dict[str, Any], Path]:
    path = cache / "net-traces" / f"seq-{seed:05d}{profile_tag(profile)}-{_key(frames, max_interval)}.json"
    d = sequence_dir(cache, seed, frames, profile)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{seed}.tmp")
        tsx = REPO_ROOT / "node_modules" / ".bin" / "tsx"
        cmd = [str(tsx), str(REPO_ROOT / "tools/keyframe/net-traces-cli.ts"), "--max-interval", str(max_interval),
               "--out", str(tmp), str(d)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=3600)
        if proc.returncode != 0:
            raise RuntimeError(f"net-traces-cli failed ({proc.returncode}): {proc.stderr[-2000:]}")
        os.replace(tmp, path)
    return cached_sequence(path, max_interval, seed), d


def parse(s: dict[str, Any], max_interval: int, grey40: np.ndarray) -> NetTrace:
    n, k, ns = s["frames"], max_interval, len(SCALES)

    def arr(xs: list[float | None], shape: tuple[int, ...]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in xs], np.float32).reshape(shape)

    dev = np.array([[np.nan] * 6 if r is None else r for r in s["deviation"]], np.float32).reshape(n, k, 6)
    return NetTrace(s["name"], dev, arr(s["warpRef"], (n, k, ns)), arr(s["warpTruth"], (n, k, ns)),
                    arr(s["keyRef"], (n, ns)), arr(s["keyTruth"], (n, ns)), arr(s["confidence"], (n, ns)),
                    np.array(s["msByScale"], np.float32), grey40)


def read_grey40(d: Path, frames: int) -> np.ndarray:
    w, h = sequences.FEATURE_SIDE
    raw = np.frombuffer((d / "grey40.u8").read_bytes(), np.uint8)
    return raw.reshape(frames, h, w).astype(np.float32) / 255.0


def build_net_traces(split: Split, max_interval: int, cache: Path, jobs: int = 2) -> list[NetTrace]:
    seeds = range(split.seed, split.seed + split.count)
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        docs = list(pool.map(lambda s: _one(cache, s, split.frames, max_interval, split.profile), seeds))
    return [parse(doc, max_interval, read_grey40(d, split.frames)) for doc, d in docs]


def save_npz(path: Path, traces: list[NetTrace]) -> None:
    """A split's traces in one compressed file (the tests' held-out fixture), with the network that made them
    (``network``: ``segmentation@<version> sha256 <first 12>``) so a test can tell stale traces from current ones."""
    np.savez_compressed(
        path, names=np.array([t.name for t in traces]), network=np.array(network_id()),
        **{f: np.stack([getattr(t, f) for t in traces]).astype(np.float32)
           for f in ("deviation", "warp_ref", "warp_truth", "key_ref", "key_truth", "confidence", "ms")},
        grey40=np.stack([(t.grey40 * 255).round().astype(np.uint8) for t in traces]),
    )


def load_npz(path: Path) -> list[NetTrace]:
    with np.load(path) as z:
        fields = ("deviation", "warp_ref", "warp_truth", "key_ref", "key_truth", "confidence", "ms")
        return [NetTrace(str(z["names"][i]), *(z[f][i].astype(np.float32) for f in fields),
                         z["grey40"][i].astype(np.float32) / 255.0) for i in range(len(z["names"]))]


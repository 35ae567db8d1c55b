"""Traces of propagation quality for the key scheduler, made by the device's own TypeScript flow and features.

For a split (first seed, count) this renders the sequences (glance_train.keyframe.sequences), then runs
``tools/keyframe/traces-cli.ts`` in onnxruntime's sibling runtime, Node, so that the state features and the
flow that warps labels are bit-for-bit the device's (no numpy port to drift). Both steps are cached per sequence under
``~/.cache/glance/keyframe``, keyed by seed, length and the sources the numbers depend on.
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

from glance_train.keyframe import head_motion, sequences
from glance_train.synth import scene_objects, scene_render

REPO_ROOT = Path(__file__).resolve().parents[4]
_TS_SOURCES = (
    "tools/keyframe/traces-cli.ts",
    "tools/keyframe/sequences.ts",
    "pipelines/schedulers/deviation.ts",
    "pipelines/schedulers/quality.ts",
    "pipelines/schedulers/flow/filters.ts",
    "pipelines/schedulers/flow/image.ts",
    "pipelines/schedulers/flow/lucas-kanade.ts",
    "pipelines/schedulers/flow/warp-labels.ts",
)
DEVIATION_FIELDS = ("meanAbsDiff", "residual", "poorBlocks", "flowMean", "flowSpread", "outside")


@dataclass(frozen=True)
class Split:
    seed: int
    count: int
    frames: int
    profile: str = "drift-turns"
    """Head-motion profile of the sequences (glance_train.keyframe.head_motion.PROFILES)."""


@dataclass(frozen=True)
class Trace:
    """One sequence: deviation[t, age-1] (6 features) and miou[t, age-1] for key k = t - age; NaN if k < 0."""

    name: str
    deviation: np.ndarray
    miou: np.ndarray
    key: np.ndarray | None = None
    """(N,) quality of frame t when it is a key (the segmentation network's result on it); None: 1 (the key
    result is the ground truth itself)."""

    @property
    def frames(self) -> int:
        return int(self.miou.shape[0])

    def key_quality(self, t: int) -> float:
        return 1.0 if self.key is None else float(self.key[t])


def default_cache_dir() -> Path:
    return Path(os.environ.get("GLANCE_CACHE", Path.home() / ".cache" / "glance")) / "keyframe"


def _digest(py_only: bool) -> str:
    h = hashlib.sha256()
    for mod in (sequences, head_motion, scene_objects, scene_render):
        h.update(Path(mod.__file__ or "").read_bytes())
    if not py_only:
        for rel in _TS_SOURCES:
            h.update((REPO_ROOT / rel).read_bytes())
    return h.hexdigest()[:12]


def profile_tag(profile: str) -> str:
    """The cache names' profile part: empty for the original profile, so its names keep their old form."""
    if profile not in head_motion.PROFILES:
        raise ValueError(f"unknown head-motion profile {profile!r}; known: {', '.join(head_motion.PROFILES)}")
    return "" if profile == "drift-turns" else f"-{profile}"


def sequence_dir(cache: Path, seed: int, frames: int, profile: str = "drift-turns") -> Path:
    """One rendered sequence, cached by seed, length, head-motion profile and the renderer's sources."""
    d = cache / "sequences" / f"seq-{seed:05d}-{frames}{profile_tag(profile)}-{_digest(True)}"
    if not (d / "sequence.json").exists():  # written last: its presence means the sequence is complete
        sequences.write_sequence(d, seed, frames, profile)
    return d


def _trace_chunk(dirs: list[Path], max_interval: int, out: Path) -> None:
    tsx = REPO_ROOT / "node_modules" / ".bin" / "tsx"
    cmd = [str(tsx), str(REPO_ROOT / "tools/keyframe/traces-cli.ts"), "--max-interval", str(max_interval)]
    cmd += ["--out", str(out), *map(str, dirs)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"traces-cli failed ({proc.returncode}): {proc.stderr[-2000:]}")


def _one(cache: Path, seed: int, frames: int, max_interval: int, profile: str = "drift-turns") -> dict[str, Any]:
    path = cache / "traces" / f"seq-{seed:05d}-{frames}{profile_tag(profile)}-k{max_interval}-{_digest(False)}.json"
    if not path.exists():
        d = sequence_dir(cache, seed, frames, profile)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{seed}.tmp")
        _trace_chunk([d], max_interval, tmp)
        os.replace(tmp, path)
    return cached_sequence(path, max_interval, seed)


def cached_sequence(path: Path, max_interval: int, seed: int) -> dict[str, Any]:
    """One sequence's traces from its cache file, refused when built for another interval or feature set."""
    doc = json.loads(path.read_text())
    if doc["maxInterval"] != max_interval or tuple(doc["fields"]) != DEVIATION_FIELDS:
        raise ValueError(f"{path}: traces for another interval or feature set")
    seq = doc["sequences"][0]
    seq["name"] = f"seq-{seed:05d}"
    return seq


def build_traces(split: Split, max_interval: int, cache: Path, jobs: int = 2) -> list[Trace]:
    """The split's traces; each sequence and its trace are cached on their own, so splits can grow."""
    seeds = range(split.seed, split.seed + split.count)
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        docs = list(pool.map(lambda s: _one(cache, s, split.frames, max_interval, split.profile), seeds))
    return [_parse(d, max_interval) for d in docs]


def _parse(s: dict[str, Any], max_interval: int) -> Trace:
    n = s["frames"]
    dev = np.array([[np.nan] * 6 if r is None else r for r in s["deviation"]], np.float32)
    miou = np.array([np.nan if v is None else v for v in s["miou"]], np.float32)
    return Trace(s["name"], dev.reshape(n, max_interval, 6), miou.reshape(n, max_interval))


def read_traces(path: Path, max_interval: int) -> list[Trace]:
    doc = json.loads(path.read_text())
    if doc["maxInterval"] != max_interval or tuple(doc["fields"]) != DEVIATION_FIELDS:
        raise ValueError(f"{path}: traces for another interval or feature set")
    return [_parse(s, max_interval) for s in doc["sequences"]]


def fingerprint(traces: list[Trace]) -> str:
    h = hashlib.sha256()
    for t in traces:
        h.update(t.name.encode())
        h.update(np.ascontiguousarray(t.deviation).tobytes())
        h.update(np.ascontiguousarray(t.miou).tobytes())
        if t.key is not None:
            h.update(np.ascontiguousarray(t.key).tobytes())
    return f"sha256:{h.hexdigest()}"

"""Write a freshly generated held-out set as raw model inputs, for evaluation outside Python (vitest runs the
zoo models on it in onnxruntime-node, the device's runtime).

    python3 -m glance_train.emotion.heldout --out DIR --clips 140 --seed 7001 [--wearers 6]
        [--shift-openness D --shift-squint D] [--per-clip 1]
    python3 -m glance_train.emotion.heldout --out DIR --root SPLIT_DIR [--per-clip 2]

With ``--root`` the windows come from an existing EMO-Film layout (e.g. a training run's cached test split), so
models of two data versions can be compared on the same windows.

DIR gets ``eye.f32``, ``pupil.f32``, ``scene.f32`` (little-endian float32, shapes in ``heldout.json``) and
``heldout.json`` with the labels, participants and the shapes. The clips themselves are in ``DIR/clips``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from glance_train.emotion.dataset import EmotionWindows, decode
from glance_train.emotion.generate import generate
from glance_train.emotion.labels import EMOTIONS


def write_heldout(out: Path, clips: int, seed: int, wearers: int, shift: tuple[float, float], per_clip: int,
                  steps: int = 16, jobs: int = 1, root: Path | None = None) -> dict[str, object]:
    if root is None:
        root = out / "clips"
        generate(root, clips, seed, wearers, jobs, shift)
    out.mkdir(parents=True, exist_ok=True)
    data = decode(root)
    windows = EmotionWindows(data, steps, per_clip)
    items = [windows[i] for i in range(len(windows))]
    shapes: dict[str, list[int]] = {}
    for k, name in enumerate(("eye", "pupil", "scene")):
        t = torch.stack([x[k] for x, _ in items]).contiguous()
        shapes[name] = list(t.shape)
        (out / f"{name}.f32").write_bytes(t.numpy().astype("<f4").tobytes())
    meta = {
        "synthetic": True,
        "seed": seed,
        "shift": {"openness": shift[0], "squint": shift[1]},
        "emotions": list(EMOTIONS),
        "labels": [int(t[0]) for _, t in items],
        "participants": [str(data.participant[c]) for c, _ in windows.index],
        "clips": [int(c) for c, _ in windows.index],
        "shapes": shapes,
    }
    (out / "heldout.json").write_text(json.dumps(meta) + "\n")
    return meta


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="glance_train.emotion.heldout", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--clips", type=int, default=140)
    p.add_argument("--seed", type=int, default=7001)
    p.add_argument("--wearers", type=int, default=6)
    p.add_argument("--per-clip", type=int, default=1)
    p.add_argument("--shift-openness", type=float, default=0.0)
    p.add_argument("--shift-squint", type=float, default=0.0)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--root", type=Path, default=None, help="an existing EMO-Film layout instead of generating")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    try:
        meta = write_heldout(args.out, args.clips, args.seed, args.wearers,
                             (args.shift_openness, args.shift_squint), args.per_clip, jobs=args.jobs, root=args.root)
    except ValueError as error:
        print(f"heldout: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"out": str(args.out), "windows": len(meta["labels"])}))  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Write a fresh held-out synthetic set as raw little-endian arrays for tests outside Python.

    /usr/bin/python3 -m glance_train.tva.heldout --seed 9100 --clips 10 --per-clip 20 --out DIR

DIR gets scene.u8 (N, 6, 96, 128 uint8: divide by 255 for the model), gaze.f32 (N, 16, 3), box.f32 (N, 4),
episode.u8 (N,) and meta.json with the shapes. Use a seed no training run used (training uses 5000-5002).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from glance_train.tva.data import SplitSpec, build_split

TRAINING_SEEDS = range(4990, 5010)
"""Seeds the shipped experiment's splits come from (and a margin); a held-out set must not use them."""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="glance_train.tva.heldout", description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--clips", type=int, default=10)
    p.add_argument("--per-clip", type=int, default=20)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    if args.seed in TRAINING_SEEDS:
        print(f"glance_train.tva.heldout: seed {args.seed} is a training seed; pick another", file=sys.stderr)
        return 2
    data = build_split(SplitSpec(args.seed, args.clips, args.per_clip))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scene.u8").write_bytes(data["scene"].astype(np.uint8).tobytes())
    (args.out / "gaze.f32").write_bytes(data["gaze"].astype("<f4").tobytes())
    (args.out / "box.f32").write_bytes(data["box"].astype("<f4").tobytes())
    (args.out / "episode.u8").write_bytes(data["episode"].astype(np.uint8).tobytes())
    n = len(data["scene"])
    meta = {"count": n, "seed": args.seed, "scene": [n, 6, 96, 128], "gaze": [n, 16, 3], "box": [n, 4],
            "episodeFrames": int(data["episode"].sum())}
    (args.out / "meta.json").write_text(json.dumps(meta) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Key schedulers side by side on one split of network traces, under both quality measures.

    /usr/bin/python3 -m glance_train.keyframe.compare --profile eyewear --seed 2000 --count 6 \
        --policy ../../models/zoo/keyframe/1.0.0/model.onnx [--policy OTHER.onnx] [--npz TRACES.npz] [--out R.json]

For each exported policy (ONNX, replayed in PyTorch): its key rate, mIoU against the masks and agreement with the
every-frame network, the fixed interval with the same keys per sequence, and the fixed intervals 1/2 … 1/10; plus
the share of compute saved and the loss against every frame at full scale. Traces come from the cache (built if
missing, glance_train.keyframe.net_traces) or from a saved split (``--npz``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from glance_train.keyframe.baselines import fixed_rate
from glance_train.keyframe.dqn import greedy
from glance_train.keyframe.env import evaluate
from glance_train.keyframe.head_motion import PROFILES
from glance_train.keyframe.net_traces import NetTrace, build_net_traces, load_npz
from glance_train.keyframe.policy import policy_from_onnx
from glance_train.keyframe.traces import Split, Trace, default_cache_dir
from glance_train.keyframe.train import as_trace

MAX_INTERVAL = 10
INTERVALS = (2, 3, 5, 8, 10)


def same_keys(trs: list[Trace], key_rate: float) -> dict[str, float]:
    """The fixed interval with the same number of keys per sequence (frame 0 is a key for both)."""
    n = trs[0].frames
    return evaluate(trs, MAX_INTERVAL, fixed_rate(max((key_rate * n - 1) / (n - 1), 1e-6)))


def compare(net: list[NetTrace], policies: dict[str, Path]) -> dict[str, Any]:
    by_quality = {q: [as_trace(t, q) for t in net] for q in ("truth", "reference")}
    every = {q: float(np.mean([tr.key_quality(t) for tr in trs for t in range(tr.frames)]))
             for q, trs in by_quality.items()}
    out: dict[str, Any] = {"everyFrame": {"masks": every["truth"], "agreement": every["reference"]}, "fixed": {}}
    for k in INTERVALS:
        row = {q: evaluate(trs, MAX_INTERVAL, fixed_rate(1 / k)) for q, trs in by_quality.items()}
        out["fixed"][f"1/{k}"] = {"keyRate": row["truth"]["keyRate"], "masks": row["truth"]["miou"],
                                  "agreement": row["reference"]["miou"]}
    out["policies"] = {}
    for name, path in policies.items():
        decide = greedy(policy_from_onnx(path))
        rl = {q: evaluate(trs, MAX_INTERVAL, decide) for q, trs in by_quality.items()}
        rate = rl["truth"]["keyRate"]
        fixed = {q: same_keys(trs, rate) for q, trs in by_quality.items()}
        out["policies"][name] = {
            "keyRate": rate,
            "computeSaved": 1 - rate,
            "masks": rl["truth"]["miou"],
            "agreement": rl["reference"]["miou"],
            "lossPointsMasks": 100 * (every["truth"] - rl["truth"]["miou"]),
            "fixedSameKeys": {"keyRate": fixed["truth"]["keyRate"], "masks": fixed["truth"]["miou"],
                              "agreement": fixed["reference"]["miou"]},
            "gainPointsMasks": 100 * (rl["truth"]["miou"] - fixed["truth"]["miou"]),
            "gainPointsAgreement": 100 * (rl["reference"]["miou"] - fixed["reference"]["miou"]),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="keyframe-compare", description=__doc__.splitlines()[0])
    p.add_argument("--profile", choices=PROFILES, default="eyewear")
    p.add_argument("--seed", type=int)
    p.add_argument("--count", type=int, default=8)
    p.add_argument("--frames", type=int, default=96)
    p.add_argument("--npz", type=Path, help="a saved split instead of the cache")
    p.add_argument("--policy", type=Path, action="append", required=True, help="an exported keyframe model.onnx")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    missing = [str(x) for x in args.policy if not x.is_file()]
    if missing or (args.npz is None and args.seed is None) or (args.npz is not None and not args.npz.is_file()):
        print(f"keyframe-compare: need --seed or an existing --npz, and existing policies (missing: {missing})",
              file=sys.stderr)
        return 2
    if args.npz is not None:
        net = load_npz(args.npz)
    else:
        net = build_net_traces(Split(args.seed, args.count, args.frames, args.profile), MAX_INTERVAL,
                               default_cache_dir())
    names = {f"{x.parent.parent.name}@{x.parent.name}" if x.parent.parent.name else str(x): x for x in args.policy}
    report = {"profile": args.profile, "split": str(args.npz) if args.npz else [args.seed, args.count],
              **compare(net, names)}
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

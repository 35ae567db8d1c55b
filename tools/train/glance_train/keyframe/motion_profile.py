"""How the key-frame sequences move, frame by frame: is change bursty (where an adaptive key scheduler can win) or
near-uniform (where a fixed key interval is near-optimal by construction)?

    /usr/bin/python3 -m glance_train.keyframe.motion_profile --seed 3000 --count 8 [--frames 96] \
        [--profile drift-turns|eyewear] [--out report.json]

Measured from the generator's own geometry (no rendering): the head's angular speed (view offsets / 9.08 px a
degree), each visible object's apparent speed in the view (its motion in the room minus the head's), and the
image motion of a frame = the area-weighted mean displacement (background moves with the head, objects with
their apparent motion). Burstiness per sequence: coefficient of variation of the per-frame image motion, the
share of all motion in the busiest 10% of frames, and the share of frames where the head is still (< 2 deg/s),
slow (2-40 deg/s) or fast (> 40 deg/s). With ``--traces``, the network traces of the split (built or read from
the cache) say whether motion is what propagation loses to: the correlation between a frame's image motion and
the loss of propagating the previous frame's map to it (masks: the key's mIoU minus the warped map's; reference:
1 minus the warped map's agreement), and the mean loss on fast (> 10 deg/s) and other frames.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from glance_train.keyframe import sequences
from glance_train.keyframe.head_motion import PROFILES, PX_PER_DEG

STILL_DEG_S, FAST_DEG_S = 2.0, 40.0


def sequence_motion(seed: int, frames: int, profile: str) -> dict[str, np.ndarray]:
    """Per-frame head speed, mean apparent object speed and image motion (all deg/s) of one sequence."""
    world, head, t0, margin = sequences.world_and_head(seed, frames, profile)
    fps = sequences.FPS
    times = np.arange(frames) / fps
    dt = 1.0 / fps
    off = head.offset(times)
    off_prev = head.offset(times - dt)
    head_px = np.linalg.norm(off - off_prev, axis=1)  # px a frame at 640
    c_now = world.centers(t0 + times)  # (n_obj, N, 2) in room px
    c_prev = world.centers(t0 + times - dt)
    rel = (c_now - off[None]) - (c_prev - off_prev[None])  # apparent displacement in the view
    obj_px = np.linalg.norm(rel, axis=2)
    boxes = world.bboxes(t0 + times)  # (n_obj, N, 4)
    ox = margin[0] + off[:, 0]
    oy = margin[1] + off[:, 1]
    x0 = np.clip(boxes[..., 0] - ox, 0, sequences.VIEW_W)
    x1 = np.clip(boxes[..., 0] + boxes[..., 2] - ox, 0, sequences.VIEW_W)
    y0 = np.clip(boxes[..., 1] - oy, 0, sequences.VIEW_H)
    y1 = np.clip(boxes[..., 1] + boxes[..., 3] - oy, 0, sequences.VIEW_H)
    area = (x1 - x0) * (y1 - y0) / (sequences.VIEW_W * sequences.VIEW_H)  # share of the view (overlaps ignored)
    visible = area > 0
    obj_mean = np.where(visible.any(0), (obj_px * visible).sum(0) / np.maximum(visible.sum(0), 1), 0.0)
    fg = np.clip(area.sum(0), 0, 1)
    image_px = (1 - fg) * head_px + (obj_px * area).sum(0)
    scale = fps / PX_PER_DEG
    return {"head": head_px * scale, "objects": obj_mean * scale, "image": image_px * scale}


def burstiness(x: np.ndarray) -> dict[str, float]:
    top = np.sort(x)[::-1][: max(1, len(x) // 10)]
    return {
        "mean": float(x.mean()),
        "cv": float(x.std() / x.mean()) if x.mean() > 0 else 0.0,
        "top10_share": float(top.sum() / x.sum()) if x.sum() > 0 else 0.0,
        "p50": float(np.median(x)),
        "p90": float(np.percentile(x, 90)),
        "max": float(x.max()),
    }


def profile_report(seed: int, count: int, frames: int, profile: str) -> dict[str, Any]:
    per_seq = [sequence_motion(s, frames, profile) for s in range(seed, seed + count)]
    head = np.concatenate([m["head"] for m in per_seq])
    out: dict[str, Any] = {
        "profile": profile,
        "seeds": [seed, seed + count - 1],
        "frames": frames,
        "head_still_share": float((head < STILL_DEG_S).mean()),
        "head_slow_share": float(((head >= STILL_DEG_S) & (head <= FAST_DEG_S)).mean()),
        "head_fast_share": float((head > FAST_DEG_S).mean()),
    }
    for key in ("head", "objects", "image"):
        stats = [burstiness(m[key]) for m in per_seq]
        out[key] = {k: float(np.mean([s[k] for s in stats])) for k in stats[0]}  # mean over sequences
    return out


def propagation_vs_motion(seed: int, count: int, frames: int, profile: str, npz: Path | None = None
                          ) -> dict[str, float]:
    from glance_train.keyframe.net_traces import build_net_traces, load_npz
    from glance_train.keyframe.traces import Split, default_cache_dir

    traces = load_npz(npz) if npz else build_net_traces(Split(seed, count, frames, profile), 10, default_cache_dir())
    if [t.name for t in traces] != [f"seq-{s:05d}" for s in range(seed, seed + count)]:
        raise ValueError(f"the traces are not seeds {seed}..{seed + count - 1}")
    speed = np.concatenate([sequence_motion(s, frames, profile)["image"][1:] for s in range(seed, seed + count)])
    masks = np.concatenate([t.key_truth[1:, 0] - t.warp_truth[1:, 0, 0] for t in traces])
    ref = np.concatenate([1 - t.warp_ref[1:, 0, 0] for t in traces])
    fast = speed > 10.0
    return {
        "corr_motion_loss_masks": float(np.corrcoef(speed, masks)[0, 1]),
        "corr_motion_loss_reference": float(np.corrcoef(speed, ref)[0, 1]),
        "fast_frame_share": float(fast.mean()),
        "loss_points_masks_fast": float(100 * masks[fast].mean()),
        "loss_points_masks_other": float(100 * masks[~fast].mean()),
        "loss_points_reference_fast": float(100 * ref[fast].mean()),
        "loss_points_reference_other": float(100 * ref[~fast].mean()),
        "loss_points_masks_std": float(100 * masks.std()),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="keyframe-motion-profile", description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--count", type=int, default=8)
    p.add_argument("--frames", type=int, default=96)
    p.add_argument("--profile", choices=PROFILES, nargs="+", default=list(PROFILES))
    p.add_argument("--out", type=Path)
    p.add_argument("--traces", action="store_true", help="also relate motion to propagation loss (network traces)")
    p.add_argument("--npz", type=Path, help="with --traces and one profile: the split's saved traces")
    args = p.parse_args(argv)
    if args.count < 1 or args.frames < 2:
        print("keyframe-motion-profile: --count must be ≥ 1 and --frames ≥ 2", file=sys.stderr)
        return 2
    report = [profile_report(args.seed, args.count, args.frames, prof) for prof in args.profile]
    if args.traces:
        for r in report:
            r["propagation"] = propagation_vs_motion(args.seed, args.count, args.frames, str(r["profile"]), args.npz)
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

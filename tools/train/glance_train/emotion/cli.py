"""``glance train emotion-*``: the emotion runner and export behind train.py's front door (same flags)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from glance_train.config import Experiment
from glance_train.emotion.data import EmotionData


def train_emotion(exp: Experiment, out: Path, args: argparse.Namespace) -> int:
    from glance_train.emotion.export import export_emotion
    from glance_train.emotion.run import run
    from glance_train.export import ExportError

    try:
        EmotionData.from_dict(exp.data)
        record = run(exp, out, args.cache_dir, args.jobs, args.quiet)
    except (FileNotFoundError, ValueError) as error:
        print(f"glance train: {error}", file=sys.stderr)
        return 2
    print(f"run: {out}")
    for key, value in {**record["test"], **record["baselines"]}.items():
        print(f"  {key} = {value:.4g}")
    if not args.no_export:
        try:
            manifest = export_emotion(out / "best.pt", out / "model", version=args.version or exp.version)
        except ExportError as error:
            print(f"glance train: export failed: {error}", file=sys.stderr)
            return 1
        print(f"exported: {out / 'model'} (sha256 {manifest['sha256'][:16]}…)")
    return 0

"""``glance train emotion-*``: the emotion runner and export behind train.py's front door (same flags)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from glance_train.config import Experiment
from glance_train.emotion.data import EmotionData


def train_emotion(exp: Experiment, out: Path, args: argparse.Namespace) -> int:
    from glance_train.emotion.export import export_emotion
    from glance_train.emotion.run import run
    from glance_train.export import export_after_training

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
        version = args.version or exp.version
        return export_after_training(
            lambda: export_emotion(out / "best.pt", out / "model", version=version), out / "model"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python3 -m glance_train.emotion.cli RUN_DIR``: test and export a run whose training was stopped early
    (e.g. to keep within a time budget): its best.pt is tested on the held-out split and exported."""
    from glance_train.data.cache import default_cache_dir
    from glance_train.emotion.export import export_emotion
    from glance_train.emotion.run import finish
    from glance_train.export import ExportError

    p = argparse.ArgumentParser(prog="glance_train.emotion.cli", description="test and export a stopped run")
    p.add_argument("run", type=Path)
    p.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    p.add_argument("--version", default=None)
    args = p.parse_args(argv)
    if not (args.run / "best.pt").exists():
        print(f"finish: {args.run / 'best.pt'} does not exist", file=sys.stderr)
        return 2
    record = finish(args.run, args.cache_dir)
    print(json.dumps(record["test"]))
    try:
        export_emotion(args.run / "best.pt", args.run / "model", version=args.version)
    except ExportError as error:
        print(f"finish: export failed: {error}", file=sys.stderr)
        return 1
    print(f"exported: {args.run / 'model'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m glance_train.metric``: the robust metric learning benchmark (``glance train metric-robustness``)

    /usr/bin/python3 -m glance_train.metric              # five datasets, 5 seeds → tools/train/reports
    /usr/bin/python3 -m glance_train.metric --set seeds=2 --set datasets=iris,wine --out /tmp/m

Writes ``metric_robustness.json``, ``metric_robustness.png``, ``metric.md`` (the table) and
``metric.metrics.json`` (the numbers ``glance bench --only toolchain`` shows, once ``python -m
reports.toolchain --only ''`` has merged them; ``glance train metric-robustness`` does both).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from glance_train.metric.bench import BenchConfig, run
from glance_train.metric.lmnn import LmnnConfig
from glance_train.metric.report import REPORTS, write

QUICK = {"seeds": "2", "datasets": "iris,wine,breast_cancer"}


def _convert(example: Any, text: str, key: str) -> Any:
    if isinstance(example, tuple):
        items = [t for t in text.split(",") if t]
        inner = example[0] if example else ""
        if key == "seeds" and len(items) == 1:
            return tuple(range(int(items[0])))  # seeds=3 means seeds 0, 1, 2
        return tuple(_convert(inner, t, key) for t in items)
    if isinstance(example, bool):
        return text.lower() in ("1", "true", "yes")
    return type(example)(text)


def apply_overrides(cfg: BenchConfig, pairs: list[str]) -> BenchConfig:
    """``key=value`` on BenchConfig (``seeds=3``, ``datasets=iris,wine``, ``noise=0,0.5``) or on its LMNN
    configs (``lmnn.max_iter=50``, ``pl.lam=2``; ``metric.X`` sets both)."""
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--set expects KEY=VALUE, got {pair!r}")
        head, _, sub = key.partition(".")
        if sub:
            targets = {"lmnn": ("lmnn",), "pl": ("pl",), "metric": ("lmnn", "pl")}.get(head)
            known = {f.name for f in fields(LmnnConfig)}
            if targets is None or sub not in known:
                names = ",".join(sorted(known))
                raise ValueError(f"unknown setting {key!r}; LMNN settings: lmnn|pl|metric.{{{names}}}")
            for t in targets:
                inner = getattr(cfg, t)
                cfg = replace(cfg, **{t: replace(inner, **{sub: _convert(getattr(inner, sub), value, sub)})})
            continue
        known = {f.name for f in fields(BenchConfig)} - {"lmnn", "pl"}
        if key not in known:
            names = ", ".join(sorted(known))
            raise ValueError(f"unknown setting {key!r}; known: {names}, lmnn.*, pl.*, metric.*")
        cfg = replace(cfg, **{key: _convert(getattr(cfg, key), value, key)})
    return cfg


def _silent(_: str) -> None:
    pass


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="glance train metric-robustness", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=REPORTS, help=f"report directory (default {REPORTS})")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a benchmark setting")
    p.add_argument("--quick", action="store_true", help="three small datasets, two seeds (a smoke run)")
    p.add_argument("--quiet", action="store_true", help="no per-seed progress lines")
    args = p.parse_args(argv)
    try:
        quick = [f"{k}={v}" for k, v in QUICK.items()] if args.quick else []
        cfg = apply_overrides(BenchConfig(), quick + list(args.set))
    except (ValueError, TypeError) as error:
        print(f"glance train metric-robustness: {error}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    with threadpool_limits(1):  # one BLAS thread: the machine is shared (BRIEF)
        result = run(cfg, log=_silent if args.quiet else _progress)
    md, metrics = write(result, args.out)
    (args.out / "metric.md").write_text(md)
    record = {"seconds": round(time.perf_counter() - start, 1), "metrics": metrics}
    (args.out / "metric.metrics.json").write_text(json.dumps(record, indent=1) + "\n")
    print(md)
    print(f"wrote {args.out / 'metric_robustness.json'} and .png ({record['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

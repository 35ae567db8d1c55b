"""The benchmark: Euclidean kNN, LMNN and LMNN-PL on real tabular data, clean and under input noise.

Per dataset and seed: a stratified train/test split, features standardised on the training part, both metrics
learnt on the clean training part, then kNN accuracy on the test part with Gaussian noise N(0, σ²I) added in
standardised units. Every method sees the same noise draws (a paired comparison), and the 1-NN certified
radius of :mod:`.knn` is measured on the clean test points.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from glance_train.datasets_real import RealDataset, load_dataset, standardiser, stratified_split
from glance_train.metric import knn
from glance_train.metric.lmnn import LmnnConfig, MetricFit, fit, transform

METHODS = ("euclidean", "lmnn", "lmnn-pl")
TABULAR = ("iris", "wine", "breast_cancer", "sk-digits", "letters")


@dataclass(frozen=True)
class BenchConfig:
    datasets: tuple[str, ...] = TABULAR
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    letters_per_class: int = 100
    """letters has 20,000 rows; a stratified subset per seed keeps the run inside its time budget."""
    test_fraction: float = 0.3
    k: int = 3
    noise: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)
    noise_draws: int = 3
    radii: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)
    lmnn: LmnnConfig = field(default_factory=LmnnConfig)
    pl: LmnnConfig = field(default_factory=lambda: LmnnConfig(lam=1.0, tau_quantile=0.5))

    def __post_init__(self) -> None:
        unknown = sorted(set(self.datasets) - set(TABULAR))
        if unknown:
            raise ValueError(f"unknown datasets {unknown}; known: {', '.join(TABULAR)}")
        if not self.seeds or self.noise_draws < 1 or any(s < 0 for s in self.noise):
            raise ValueError("need at least one seed, noise_draws >= 1 and noise levels >= 0")


def tabular(name: str, cfg: BenchConfig, seed: int) -> RealDataset:
    """The dataset as N×D rows (sk-digits' 8×8 images are flattened: 64 pixel features)."""
    ds = load_dataset(name, max_per_class=cfg.letters_per_class if name == "letters" else None, seed=seed)
    x = ds.x.reshape(len(ds.x), -1)
    return RealDataset(ds.name, x, ds.y, ds.classes, "tabular", ds.source)


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def split(ds: RealDataset, test_fraction: float, seed: int) -> Split:
    train, test = stratified_split(ds, test_fraction, seed)
    scale = standardiser(train)
    return Split(scale(train.x).astype(np.float64), train.y, scale(test.x).astype(np.float64), test.y)


def learn(data: Split, cfg: BenchConfig) -> dict[str, tuple[np.ndarray, MetricFit | None]]:
    """M per method: the identity for Euclidean kNN, learnt for LMNN and LMNN-PL (same triplets, same k)."""
    eye = np.eye(data.x_train.shape[1])
    out: dict[str, tuple[np.ndarray, MetricFit | None]] = {"euclidean": (eye, None)}
    for name, lcfg in (("lmnn", replace(cfg.lmnn, k=cfg.k)), ("lmnn-pl", replace(cfg.pl, k=cfg.k))):
        f = fit(data.x_train, data.y_train, lcfg)
        out[name] = (f.m, f)
    return out


def evaluate(data: Split, metrics: dict[str, tuple[np.ndarray, MetricFit | None]], cfg: BenchConfig,
             seed: int) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 7919])
    noises = [[rng.standard_normal(data.x_test.shape) * s for _ in range(cfg.noise_draws if s > 0 else 1)]
              for s in cfg.noise]
    out: dict[str, Any] = {}
    for name, (m, f) in metrics.items():
        lt = transform(m)
        z_train = data.x_train @ lt.T
        acc = [float(np.mean([knn.accuracy(z_train, data.y_train, (data.x_test + e) @ lt.T, data.y_test,
                                           cfg.k) for e in draws])) for draws in noises]
        radii = knn.certified_radii(m, data.x_train, data.y_train, data.x_test, data.y_test)
        out[name] = {"accuracy": acc, "certified": [float((radii >= r).mean()) if r > 0 else
                                                    float((radii > 0).mean()) for r in cfg.radii],
                     "median_radius": float(np.median(radii)), "fit": _fit_record(f)}
    return out


def _fit_record(f: MetricFit | None) -> dict[str, Any] | None:
    if f is None:
        return None
    return {"iterations": f.iterations, "seconds": round(f.seconds, 2), "tau": f.tau,
            "hinge_start": f.start.hinge, "hinge_end": f.end.hinge, "violated_start": f.start.violated,
            "violated_end": f.end.violated, "rank": int(np.linalg.matrix_rank(f.m, tol=1e-8))}


def run_dataset(name: str, cfg: BenchConfig, log: Callable[[str], None]) -> dict[str, Any]:
    runs = []
    for seed in cfg.seeds:
        t0 = time.perf_counter()
        ds = tabular(name, cfg, seed)
        data = split(ds, cfg.test_fraction, seed)
        runs.append(evaluate(data, learn(data, cfg), cfg, seed))
        acc = {m: round(runs[-1][m]["accuracy"][-1], 3) for m in METHODS}
        log(f"{name} seed {seed}: σ={cfg.noise[-1]} accuracy {acc} ({time.perf_counter() - t0:.1f} s)")
    return {"n_train": len(data.y_train), "n_test": len(data.y_test), "dim": int(data.x_train.shape[1]),
            "classes": ds.n_classes, "source": ds.source,
            "methods": {m: _aggregate(runs, m) for m in METHODS}}


def _aggregate(runs: list[dict[str, Any]], method: str) -> dict[str, Any]:
    acc = np.array([r[method]["accuracy"] for r in runs])
    cert = np.array([r[method]["certified"] for r in runs])
    fits = [r[method]["fit"] for r in runs]
    sd = acc.std(0, ddof=1 if len(runs) > 1 else 0)
    return {"accuracy_mean": acc.mean(0).tolist(), "accuracy_sd": sd.tolist(),
            "accuracy_per_seed": acc.tolist(), "certified_mean": cert.mean(0).tolist(),
            "median_radius": float(np.mean([r[method]["median_radius"] for r in runs])),
            "fits": fits if fits[0] is not None else None}


def run(cfg: BenchConfig, log: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> dict[str, Any]:
    t0 = time.perf_counter()
    result: dict[str, Any] = {"config": asdict(cfg), "datasets": {}}
    for name in cfg.datasets:
        result["datasets"][name] = run_dataset(name, cfg, log)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    result["summary"] = summarise(result)
    return result


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """The issue's claim, read off the means: at the strongest noise, does LMNN-PL keep more accuracy than
    LMNN?"""
    per: dict[str, Any] = {}
    for name, ds in result["datasets"].items():
        lm, pl, eu = (ds["methods"][m]["accuracy_mean"] for m in ("lmnn", "lmnn-pl", "euclidean"))
        per[name] = {"pl_minus_lmnn_clean_pp": 100 * (pl[0] - lm[0]),
                     "pl_minus_lmnn_strongest_pp": 100 * (pl[-1] - lm[-1]),
                     "lmnn_minus_euclidean_clean_pp": 100 * (lm[0] - eu[0]),
                     "retained_lmnn": lm[-1] / lm[0], "retained_pl": pl[-1] / pl[0]}
    wins = [n for n, p in per.items() if p["pl_minus_lmnn_strongest_pp"] > 0]
    kept = [n for n, p in per.items() if p["retained_pl"] > p["retained_lmnn"]]
    return {"per_dataset": per, "pl_beats_lmnn_strongest": wins, "pl_retains_more": kept,
            "claim_holds": len(wins) >= 2,
            "mean_pl_minus_lmnn_strongest_pp": float(np.mean([p["pl_minus_lmnn_strongest_pp"]
                                                              for p in per.values()]))}

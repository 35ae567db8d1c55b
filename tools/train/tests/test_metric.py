"""Robust metric learning (issue 9, deliver 3): the closed-form margin, LMNN, LMNN-PL and the noise benchmark.

All on real data (scikit-learn's bundled sets). About 30 s on one thread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from glance_train.metric import knn, perturbation
from glance_train.metric.__main__ import main as metric_main
from glance_train.metric.bench import BenchConfig, Split, run, split, tabular
from glance_train.metric.lmnn import LmnnConfig, Objective, fit, initial_tau, transform
from glance_train.metric.triplets import build_triplets, diffs


@pytest.fixture(autouse=True)
def one_thread():
    with threadpool_limits(1):
        yield


def data(name: str, seed: int = 0) -> Split:
    return split(tabular(name, BenchConfig(), seed), 0.3, seed)


def random_psd(dim: int, seed: int) -> np.ndarray:
    a = np.random.default_rng(seed).normal(size=(dim, dim))
    return a @ a.T / dim + 0.1 * np.eye(dim)


def test_triplets_are_targets_and_impostors_of_their_anchor() -> None:
    d = data("wine")
    t = build_triplets(d.x_train, d.y_train, 3, (3, 100))
    y = d.y_train
    assert (y[t.anchor] == y[t.target]).all() and (y[t.anchor] != y[t.impostor]).all()
    assert (t.target_pairs[t.near, 0] == t.anchor).all() and (t.impostor_pairs[t.far] == np.stack(
        [t.anchor, t.impostor], 1)).all()
    assert len(t.target_pairs) == 3 * len(y)
    with pytest.raises(ValueError, match="two classes"):
        build_triplets(d.x_train, np.zeros_like(y), 3, (3, 10))


def test_closed_form_margin_matches_a_numerical_search() -> None:
    """d² = Δ²/(4‖M(x_l − x_j)‖²) against SLSQP minimising ‖δ‖² on d²_M(x+δ, l) = d²_M(x+δ, j)."""
    d = data("wine")
    t = build_triplets(d.x_train, d.y_train, 3, (3, 100))
    m = random_psd(d.x_train.shape[1], 1)
    rng = np.random.default_rng(2)
    x = d.x_train
    for tri in rng.choice(len(t), size=6, replace=False):
        xi, xj, xl = x[t.anchor[tri]], x[t.target[tri]], x[t.impostor[tri]]
        gap = (xi - xl) @ m @ (xi - xl) - (xi - xj) @ m @ (xi - xj)
        q = perturbation.normal_sq(m, (xl - xj)[None])
        closed = perturbation.adversarial_sq_distance(np.array([gap]), q)[0]

        def on_plane(delta: np.ndarray) -> float:
            p = xi + delta
            return float((p - xl) @ m @ (p - xl) - (p - xj) @ m @ (p - xj))

        found = minimize(lambda v: v @ v, np.zeros_like(xi) + 1e-3, jac=lambda v: 2 * v, method="SLSQP",
                         constraints=[{"type": "eq", "fun": on_plane}],
                         options={"ftol": 1e-12, "maxiter": 500})
        assert found.success, found.message
        assert abs(on_plane(found.x)) < 1e-6
        assert found.fun == pytest.approx(closed, rel=1e-5, abs=1e-9)
        x_adv = perturbation.nearest_adversarial(m, xi, xj, xl)
        assert abs(on_plane(x_adv - xi)) < 1e-8 * max(1.0, abs(gap))
        assert np.sum((x_adv - xi) ** 2) == pytest.approx(closed, rel=1e-9)


def test_pruning_keeps_the_active_set() -> None:
    """The σ_max bound skips ‖M(x_l − x_j)‖² only for triplets that are inactive for sure."""
    d = data("breast_cancer")
    td = diffs(d.x_train, build_triplets(d.x_train, d.y_train, 3, (3, 100)))
    m = random_psd(td.near.shape[1], 6)
    gap = ((td.far @ m) * td.far).sum(1)[td.far_of] - ((td.near @ m) * td.near).sum(1)[td.near_of]
    tau = initial_tau(td, 0.5)
    full = perturbation.state(gap, perturbation.normal_sq(m, td.jl), tau)
    pruned = perturbation.state_pruned(m, gap, td.jl, (td.jl * td.jl).sum(1), tau)
    assert full.active.sum() > 0 and (full.active == pruned.active).all()
    assert perturbation.loss(full, tau) == pytest.approx(perturbation.loss(pruned, tau))
    assert np.allclose(full.sq_distance[full.active], pruned.sq_distance[pruned.active])


@pytest.mark.parametrize("lam", [0.0, 1.0])
def test_gradient_matches_finite_differences(lam: float) -> None:
    d = data("wine")
    td = diffs(d.x_train, build_triplets(d.x_train, d.y_train, 3, (3, 100)))
    obj = Objective(td, LmnnConfig(lam=lam), initial_tau(td, 0.5))
    m = random_psd(td.near.shape[1], 3)
    g = obj.gradient(m, obj.evaluate(m))
    rng = np.random.default_rng(4)
    for _ in range(3):
        e = rng.normal(size=m.shape)
        e = (e + e.T) / 2
        h = 1e-6
        fd = (obj.evaluate(m + h * e).value - obj.evaluate(m - h * e).value) / (2 * h)
        assert (g * e).sum() == pytest.approx(fd, rel=1e-4, abs=1e-7)


def test_lmnn_shrinks_the_hinge_and_beats_euclidean_knn_clean_somewhere() -> None:
    wins = {}
    for name in ("iris", "breast_cancer"):
        d = data(name)
        f = fit(d.x_train, d.y_train, LmnnConfig())
        # start and end are on the same (first, Euclidean) triplets: fewer impostors beat their target.
        assert f.end.hinge < 0.5 * f.start.hinge, (name, f.start, f.end)
        assert f.end.violated < f.start.violated, (name, f.start, f.end)
        z = transform(f.m)
        lmnn = knn.accuracy(d.x_train @ z.T, d.y_train, d.x_test @ z.T, d.y_test, 3)
        wins[name] = lmnn - knn.accuracy(d.x_train, d.y_train, d.x_test, d.y_test, 3)
    assert max(wins.values()) > 0, wins


def test_certified_radius_holds_against_random_perturbations() -> None:
    d = data("wine")
    m = fit(d.x_train, d.y_train, LmnnConfig(lam=1.0)).m
    r = knn.certified_radii(m, d.x_train, d.y_train, d.x_test, d.y_test)
    z = transform(m)
    rng = np.random.default_rng(5)
    checked = 0
    for i in np.flatnonzero(r > 0)[:15]:
        u = rng.normal(size=(300, d.x_test.shape[1]))
        pts = d.x_test[i] + 0.999 * r[i] * u / np.linalg.norm(u, axis=1, keepdims=True)
        pred = knn.predict(d.x_train @ z.T, d.y_train, pts @ z.T, 1, 3)
        assert (pred == d.y_test[i]).all()
        checked += 1
    assert checked >= 10


def test_lmnn_pl_keeps_more_accuracy_than_lmnn_under_the_strongest_noise() -> None:
    """The issue's claim on a light version of the benchmark (three small datasets, two seeds, σ up to 1)."""
    cfg = BenchConfig(datasets=("iris", "wine", "breast_cancer"), seeds=(0, 1), noise=(0.0, 0.5, 1.0))
    s = run(cfg, log=lambda _: None)["summary"]
    gaps = {n: round(p["pl_minus_lmnn_strongest_pp"], 1) for n, p in s["per_dataset"].items()}
    assert s["claim_holds"], f"PL − LMNN at σ=1 (pp): {gaps}"


def test_cli_rejects_unknown_settings(tmp_path: Path) -> None:
    assert metric_main(["--set", "no_such=1", "--out", str(tmp_path)]) == 2
    assert metric_main(["--set", "pl.nope=1", "--out", str(tmp_path)]) == 2
    assert metric_main(["--set", "datasets=mnist", "--out", str(tmp_path)]) == 2
    assert not any(tmp_path.iterdir())

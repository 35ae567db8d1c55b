"""DEAL: the criteria, REXP4, the label queue, and the paper's claim measured on five real datasets."""

from __future__ import annotations

import numpy as np
import pytest

from glance_train.active.criteria import CRITERIA, Candidates, margin, query_by_committee
from glance_train.active.loop import TASKS, aulc, prepare_pool, run_strategy, with_batch
from glance_train.active.queue import LabelQueue, LabelQueueConfig
from glance_train.active.report import SINGLES, summarise
from glance_train.active.rexp4 import Rexp4, Rexp4Config
from glance_train.active.tune import parse_point

SEEDS = 3


def test_criteria_rank_the_obvious_cases() -> None:
    probs = np.array([[0.98, 0.01, 0.01], [0.34, 0.33, 0.33], [0.5, 0.5, 0.0]])
    cands = Candidates(probs, density=np.array([1.0, 0.1, 1.0]))
    rng = np.random.default_rng(0)
    for name in ("uncertainty", "entropy"):
        assert int(np.argmax(CRITERIA[name](cands, rng))) == 1
    assert int(np.argmax(margin(cands, rng))) == 2  # a tie between the top two classes
    assert int(np.argmax(CRITERIA["density"](cands, rng))) == 2  # uncertain and representative
    agree = np.stack([probs, probs])
    disagree = np.stack([probs, probs[::-1]])
    assert query_by_committee(Candidates(probs, agree), rng).max() == pytest.approx(0.0, abs=1e-9)
    assert query_by_committee(Candidates(probs, disagree), rng)[0] > 0.1


def test_rexp4_moves_weight_to_the_rewarded_expert_and_restarts() -> None:
    rng = np.random.default_rng(0)
    bandit = Rexp4(["good", "bad"], Rexp4Config(gamma=0.1, restart=5, eta=1.0))
    k = 50
    for _ in range(4):
        advice = np.stack([np.eye(k)[0] * 0.9 + 0.1 / k, np.eye(k)[1] * 0.9 + 0.1 / k])
        p = bandit.query_distribution(advice)
        assert p.sum() == pytest.approx(1.0) and p.min() >= 0.1 / k
        chosen, probs = bandit.draw(p, 2, rng)
        rewards = np.array([1.0 if i == 0 else 0.0 for i in chosen])
        bandit.update(advice, chosen, probs, rewards)
        bandit.end_round()
    assert bandit.weights[0] > 0.8
    bandit.end_round()  # the fifth round: Δ_T reached, weights reset
    assert bandit.weights.tolist() == [0.5, 0.5]


def test_label_queue_picks_asks_and_round_trips_its_state() -> None:
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(4), size=30)
    ids = [f"snippet-{i}" for i in range(30)]
    queue = LabelQueue(LabelQueueConfig(), seed=3)
    picks = queue.pick(ids, probs, k=3, embeddings=rng.normal(size=(30, 5)))
    assert len({p.item for p in picks}) == 3 and all(0 < p.probability <= 1 for p in picks)
    assert set(picks[0].expert_votes) == set(LabelQueueConfig().criteria)
    reward = queue.answer(picks[0].item, label=2)
    assert reward == pytest.approx(1 - probs[ids.index(picks[0].item), 2])
    queue.skip(picks[1].item)
    state = queue.state()
    again = LabelQueue(LabelQueueConfig(), seed=3)
    again.load_state(state)
    assert list(again.state()["pending"]) == [picks[2].item]
    before = queue.weights
    queue.end_round()
    assert queue.weights != before and sum(queue.weights.values()) == pytest.approx(1.0)


def test_fixed_weights_make_deal_follow_one_criterion() -> None:
    """The diagnosis's fixed-weight step (η = 0, no restart, all weight on margin) keeps its weights; its
    oracle step (the test-accuracy gain as reward) moves them."""
    task = TASKS["iris"]
    data = prepare_pool(task, 0)
    frozen = Rexp4Config(eta=0.0, restart=0)
    curve = run_strategy(task, data, "deal", 0, frozen, weights={"margin": 1.0})
    assert len(curve.weights) == task.budget // task.batch
    assert all(w["margin"] == 1.0 for w in curve.weights)
    oracle = run_strategy(task, data, "deal", 0, Rexp4Config(), reward="oracle")
    assert any(abs(w["margin"] - 1 / 6) > 1e-6 for w in oracle.weights)  # the exact reward moves them


def test_batch_override_keeps_budgets_and_bad_settings_are_named() -> None:
    """The one-label-a-round experiment (tune/diagnose ``--batch``) changes only the labels asked a round."""
    one = with_batch(TASKS, 1)
    assert {n: t.batch for n, t in one.items()} == dict.fromkeys(TASKS, 1)
    assert {n: t.budget for n, t in one.items()} == {n: t.budget for n, t in TASKS.items()}
    assert with_batch(TASKS, None) == TASKS
    with pytest.raises(ValueError, match="batch must be at least 1"):
        with_batch(TASKS, 0)
    assert parse_point("gamma=0.15,restart=30") == {**Rexp4Config(gamma=0.15, restart=30).__dict__,
                                                    "reward": "iw_gain"}
    with pytest.raises(ValueError, match="restart must be a number"):
        parse_point("restart=abc")
    with pytest.raises(ValueError, match="unknown reward"):
        parse_point("reward=accuracy")


@pytest.fixture(scope="module")
def benchmark() -> dict:
    """Every single criterion and DEAL on five real datasets, seeds averaged (the report's code path)."""
    out: dict = {"datasets": {}}
    for name, task in TASKS.items():
        per: dict[str, list[float]] = {s: [] for s in (*SINGLES, "deal")}
        for seed in range(SEEDS):
            data = prepare_pool(task, seed)
            for strategy in per:
                per[strategy].append(aulc(run_strategy(task, data, strategy, seed, Rexp4Config())))
        out["datasets"][name] = {s: {"aulc": float(np.mean(v))} for s, v in per.items()}
    return summarise(out)


def test_deal_is_measured_on_five_real_datasets(benchmark: dict) -> None:
    assert set(benchmark["datasets"]) == {"iris", "wine", "breast_cancer", "sk-digits", "letters"}
    mean = benchmark["summary"]["mean_aulc"]
    singles = [mean[s] for s in SINGLES]
    # What holds in our measurements: DEAL is better than the average criterion, i.e. better than picking one
    # criterion blindly, and better than the worst.
    assert mean["deal"] > float(np.mean(singles))
    assert mean["deal"] > min(singles)


def test_deal_beats_random_on_average_and_where_the_gap_is_clear(benchmark: dict) -> None:
    ds = benchmark["datasets"]
    mean = benchmark["summary"]["mean_aulc"]
    assert mean["deal"] > mean["random"]
    for name in ("wine", "breast_cancer", "sk-digits"):
        assert ds[name]["deal"]["aulc"] > ds[name]["random"]["aulc"], name


@pytest.mark.xfail(strict=False, reason="Does not hold: with the paper's reward and defaults chosen on "
                   "validation seeds, DEAL is below random on letters (0.390 vs 0.422 at these 3 seeds; 0.403 vs "
                   "0.437 at the report's 5) and, at 5 seeds, on iris (0.888 vs 0.890). On letters DEAL "
                   "does not learn to follow random or margin within 26 rounds (nor within 156 at one label "
                   "a round: 0.396 vs 0.432 on validation seeds 100-109); its weights stay near the uniform "
                   "mixture (reports/deal_diagnosis*.md; docs/toolchain-mat-dc-deal.md).")
def test_deal_beats_random_on_every_dataset(benchmark: dict) -> None:
    assert all(benchmark["summary"]["deal_beats_random"].values()), benchmark["summary"]["deal_beats_random"]


@pytest.mark.xfail(strict=False, reason="The paper's claim does not hold in our measurements: margin "
                   "sampling alone has a higher mean AULC than DEAL on every dataset but wine (5 seeds: 0.8313 vs "
                   "0.8060; the per-dataset best single averages 0.8320). Not a reward bug: on validation "
                   "seeds 100-109 even the exact test-accuracy gain as reward leaves DEAL 1.8 pp below margin, "
                   "and the paper's reward does no better than fixed uniform weights: 26-30 bandit rounds are "
                   "too few to learn the best of six experts (reports/deal_diagnosis.md). One label a round "
                   "(30-156 rounds, pre-registered, validation seeds) leaves it 3.0 pp below margin as well "
                   "(reports/deal_batch1_validation.json), so the batches stay.")
def test_deal_aulc_at_least_the_best_single_criterion_on_average(benchmark: dict) -> None:
    assert benchmark["summary"]["deal_minus_best_single"] >= 0.0, benchmark["summary"]

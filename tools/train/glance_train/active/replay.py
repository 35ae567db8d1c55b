"""Replay a label-queue scenario through the Python DEAL queue and print what it chose, as JSON.

The device's queue (pipelines/labels/ in the daemon) is a port of ``queue.py``; its parity test feeds the same
scenario to both and compares the picks, query probabilities and expert weights round by round.

    echo '{"seed": 7, "config": {...}, "rounds": [...]}' | /usr/bin/python3 -m glance_train.active.replay

Scenario: ``config`` {criteria, gamma, restart, eta, advice_scale}; each round {candidates: [{id,
probabilities, committee?, embedding?, truth}], k}: the queue picks k, every pick is answered with its
candidate's ``truth`` (an option index), then ``end_round()``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np

from glance_train.active.queue import LabelQueue, LabelQueueConfig
from glance_train.active.rexp4 import Rexp4Config


def replay(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    cfg = scenario.get("config", {})
    bandit = Rexp4Config(
        gamma=cfg.get("gamma", 0.3),
        restart=cfg.get("restart", 15),
        eta=cfg.get("eta", 3.0),
        advice_scale=cfg.get("advice_scale", 4.0),
    )
    criteria = tuple(cfg.get("criteria", LabelQueueConfig().criteria))
    queue = LabelQueue(LabelQueueConfig(criteria=criteria, bandit=bandit), seed=int(scenario["seed"]))
    out = []
    for rnd in scenario["rounds"]:
        cands = rnd["candidates"]
        ids = [c["id"] for c in cands]
        probs = np.array([c["probabilities"] for c in cands], dtype=float)
        committee = None
        if all("committee" in c for c in cands):
            committee = np.array([c["committee"] for c in cands], dtype=float).transpose(1, 0, 2)
        emb = None
        if all("embedding" in c for c in cands):
            emb = np.array([c["embedding"] for c in cands], dtype=float)
        picks = queue.pick(ids, probs, k=int(rnd["k"]), committee=committee, embeddings=emb)
        truth = {c["id"]: int(c["truth"]) for c in cands}
        rewards = [queue.answer(p.item, truth[p.item]) for p in picks]
        queue.end_round()
        out.append({
            "picks": [{"id": p.item, "probability": p.probability} for p in picks],
            "rewards": rewards,
            "weights": queue.bandit.weights.tolist(),
        })
    return out


def main() -> int:
    json.dump(replay(json.load(sys.stdin)), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

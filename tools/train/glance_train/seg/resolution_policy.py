"""Adaptive resolution by policy gradient (after arXiv 2104.04443; its state, actions and reward are not public).

Per scene frame the policy picks one of five actions: segment at scale 1, ¾, ½ or ¼ of the base input, or reuse
the last label map. State (9 numbers, all cheap): how much the 40×30 grey frame differs from the last segmented
frame and from the previous frame, the last map's confidence, its age, its scale (one-hot), and the battery
level. Reward = frame mIoU − λ(battery) · cost, with cost the measured time of the chosen scale relative to full
scale (reuse costs nothing here: it keeps the map as it was, no flow warping) and λ(b) = λ₀ · (2 − b), so a
draining battery weighs compute more. Trained with REINFORCE (discounted returns, a per-step mean baseline,
an entropy bonus) on training traces; judged on held-out ones against every fixed scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from glance_train.seg.traces import MAX_AGE, Trace

ACTIONS = ("scale1", "scale0.75", "scale0.5", "scale0.25", "reuse")
REUSE = 4
DIFF_SCALE = 100.0
"""Frame differences (mean |Δ| of grey/255 at 40×30, median ~0.006 a frame) scaled to order one for the MLP."""
FEATURES = ("diff_to_key", "diff_to_prev", "key_confidence", "key_age", "key_s1", "key_s075", "key_s05",
            "key_s025", "battery")


class ResolutionPolicy(nn.Module):
    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(len(FEATURES), hidden), nn.Tanh(), nn.Linear(hidden, len(ACTIONS)))

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return self.net(state)


@dataclass
class Rollout:
    quality: float
    """mean frame mIoU over the frames"""
    cost: float
    """mean cost per frame, relative to segmenting every frame at full scale"""
    actions: np.ndarray


def state_of(tr: Trace, t: int, key: int, key_scale: int, battery: float) -> np.ndarray:
    s = np.zeros(len(FEATURES), np.float32)
    if key >= 0:
        s[0] = float(np.abs(tr.grey[t] - tr.grey[key]).mean()) * DIFF_SCALE
        s[2] = tr.confidence[key, key_scale]
        s[3] = (t - key) / MAX_AGE
        s[4 + key_scale] = 1.0
    if t > 0:
        s[1] = float(np.abs(tr.grey[t] - tr.grey[t - 1]).mean()) * DIFF_SCALE
    s[8] = battery
    return s


def step(tr: Trace, t: int, key: int, key_scale: int, action: int) -> tuple[float, int, int]:
    """(quality on frame t, new key frame, new key scale)."""
    if action == REUSE:
        return float(tr.reuse[key, key_scale, t - key - 1]), key, key_scale
    return float(tr.quality[t, action]), t, action


def can_reuse(t: int, key: int) -> bool:
    return key >= 0 and t - key <= MAX_AGE


def rollout(policy: ResolutionPolicy | None, tr: Trace, rel_cost: np.ndarray, battery: float,
            fixed: int | None = None, greedy: bool = True, rng: np.random.Generator | None = None) -> Rollout:
    """Run a policy (or one fixed action, ``fixed``) over a trace."""
    key, key_scale = -1, 0
    qs, cs, acts = [], [], []
    for t in range(len(tr.quality)):
        if fixed is not None:
            a = fixed if (fixed != REUSE or can_reuse(t, key)) else 0
        else:
            assert policy is not None
            with torch.no_grad():
                logits = policy(torch.from_numpy(state_of(tr, t, key, key_scale, battery)))
            if not can_reuse(t, key):
                logits[REUSE] = -1e9
            if greedy:
                a = int(logits.argmax())
            else:
                p = torch.softmax(logits, 0).numpy().astype(np.float64)
                a = int((rng or np.random.default_rng()).choice(len(ACTIONS), p=p / p.sum()))
        q, key, key_scale = step(tr, t, key, key_scale, a)
        qs.append(q)
        cs.append(0.0 if a == REUSE else float(rel_cost[a]))
        acts.append(a)
    return Rollout(float(np.mean(qs)), float(np.mean(cs)), np.array(acts))


@dataclass(frozen=True)
class TrainConfig:
    lam: float = 0.03
    iterations: int = 800
    batch: int = 32
    lr: float = 5e-3
    gamma: float = 0.9
    entropy: float = 0.01
    seed: int = 0


def train_policy(traces: list[Trace], rel_cost: np.ndarray, cfg: TrainConfig) -> ResolutionPolicy:
    """REINFORCE over episodes in lock-step (every trace has the same length): one forward per time step."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    policy = ResolutionPolicy()
    opt = torch.optim.Adam(policy.parameters(), lr=cfg.lr)
    steps = len(traces[0].quality)
    for _ in range(cfg.iterations):
        picks = rng.integers(0, len(traces), cfg.batch)
        battery = rng.uniform(0.2, 1.0, cfg.batch)
        keys = np.full(cfg.batch, -1)
        key_scales = np.zeros(cfg.batch, int)
        logps, ents, rewards = [], [], []
        for t in range(steps):
            states = np.stack([state_of(traces[p], t, keys[b], key_scales[b], battery[b])
                               for b, p in enumerate(picks)])
            logits = policy(torch.from_numpy(states))
            mask = torch.tensor([not can_reuse(t, k) for k in keys])
            logits = logits.masked_fill(mask[:, None] & (torch.arange(len(ACTIONS)) == REUSE)[None], -1e9)
            dist = torch.distributions.Categorical(logits=logits)
            a = dist.sample()
            logps.append(dist.log_prob(a))
            ents.append(dist.entropy())
            r = np.zeros(cfg.batch, np.float32)
            for b, p in enumerate(picks):
                act = int(a[b])
                q, keys[b], key_scales[b] = step(traces[p], t, keys[b], key_scales[b], act)
                cost = 0.0 if act == REUSE else float(rel_cost[act])
                r[b] = q - cfg.lam * (2.0 - battery[b]) * cost
            rewards.append(r)
        rew = np.stack(rewards)  # (T, B)
        ret = np.zeros_like(rew)
        acc = np.zeros(cfg.batch, np.float32)
        for t in reversed(range(steps)):
            acc = rew[t] + cfg.gamma * acc
            ret[t] = acc
        adv = torch.from_numpy(ret - ret.mean(axis=1, keepdims=True))
        adv = adv / (adv.std() + 1e-6)
        loss = -(torch.stack(logps) * adv).mean() - cfg.entropy * torch.stack(ents).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return policy.eval()


def judge(policy: ResolutionPolicy, traces: list[Trace], rel_cost: np.ndarray, battery: float) -> dict[str, object]:
    """The policy and every fixed scale (segment every frame at it) on the same traces."""
    def mean(rs: list[Rollout]) -> dict[str, float]:
        return {"quality": float(np.mean([r.quality for r in rs])), "cost": float(np.mean([r.cost for r in rs]))}

    runs = [rollout(policy, tr, rel_cost, battery) for tr in traces]
    acts = np.concatenate([r.actions for r in runs])
    fixed = {ACTIONS[a]: mean([rollout(None, tr, rel_cost, battery, fixed=a) for tr in traces]) for a in range(4)}
    return {"battery": battery, "policy": mean(runs), "fixed": fixed,
            "actionShare": {ACTIONS[a]: float((acts == a).mean()) for a in range(len(ACTIONS))}}

"""Double DQN on trace-replayed episodes: ε-greedy acting, a replay buffer, a target network, Huber TD loss.

Reward per frame: the frame's mIoU (key frames: the key's quality) minus λ for a key. The discount keeps about
ten frames in view: a key now pays for itself over the frames that will propagate from it.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from glance_train.keyframe.env import run_episode, state_vector
from glance_train.keyframe.policy import KeyframePolicy
from glance_train.keyframe.traces import Trace


@dataclass(frozen=True)
class DqnConfig:
    key_cost: float = 0.05
    """λ: reward given up per key frame, in mIoU units (0.05 = five points of one frame)."""
    gamma: float = 0.9
    episodes: int = 400
    lr: float = 1e-3
    batch_size: int = 128
    buffer: int = 30000
    target_every: int = 200
    eps_start: float = 1.0
    eps_end: float = 0.03
    eps_episodes: int = 250
    warmup: int = 1000
    learn_every: int = 2
    """Environment steps per gradient step."""


def collect_states(traces: list[Trace], max_interval: int, rng: random.Random) -> torch.Tensor:
    """States visited under random key decisions: what the standardisation is fitted on."""
    states: list[np.ndarray] = []
    for tr in traces:
        rate = rng.uniform(0.1, 0.6)
        ep = run_episode(tr, max_interval, lambda _s, _t, _a, r=rate: rng.random() < r)
        last = 0
        for t in range(1, tr.frames):
            if t - last <= max_interval:
                states.append(state_vector(tr, t, t - last, max_interval, ep.keys[:t]))
            if ep.keys[t]:
                last = t
    return torch.from_numpy(np.stack(states))


def train_dqn(
    policy: KeyframePolicy, traces: list[Trace], max_interval: int, cfg: DqnConfig, seed: int, quiet: bool
) -> list[dict[str, float]]:
    rng = random.Random(seed)
    policy.set_standardisation(collect_states(traces, max_interval, rng))
    target = copy.deepcopy(policy).eval()
    opt = torch.optim.Adam(policy.parameters(), lr=cfg.lr)
    buf_s: list[np.ndarray] = []
    buf_a: list[int] = []
    buf_r: list[float] = []
    buf_s2: list[np.ndarray | None] = []
    steps = 0
    history: list[dict[str, float]] = []
    bar = tqdm(range(cfg.episodes), desc=f"dqn λ={cfg.key_cost}", disable=quiet)
    for episode in bar:
        eps = max(cfg.eps_end, cfg.eps_start - (cfg.eps_start - cfg.eps_end) * episode / cfg.eps_episodes)
        tr = traces[rng.randrange(len(traces))]
        keys = [True]
        last = 0
        ret = 0.0
        losses = []
        pending: tuple[np.ndarray, int, float] | None = None
        for t in range(1, tr.frames):
            age = t - last
            forced = age > max_interval
            s = None if forced else state_vector(tr, t, age, max_interval, keys)
            if pending is not None:
                _push(buf_s, buf_a, buf_r, buf_s2, cfg.buffer, pending, s)
                pending = None
            if forced:
                a = 1
            elif rng.random() < eps:
                a = int(rng.random() < 0.5)
            else:
                with torch.no_grad():
                    a = int(policy(torch.from_numpy(s)[None])[0][0].argmax())
            r = tr.key_quality(t) - cfg.key_cost if a == 1 else float(tr.miou[t, age - 1])
            ret += r
            keys.append(a == 1)
            if a == 1:
                last = t
            if s is not None:
                pending = (s, a, r)
            steps += 1
            if len(buf_s) >= cfg.warmup and steps % cfg.learn_every == 0:
                losses.append(_learn(policy, target, opt, buf_s, buf_a, buf_r, buf_s2, cfg, rng))
            if steps % cfg.target_every == 0:
                target.load_state_dict(policy.state_dict())
        if pending is not None:
            _push(buf_s, buf_a, buf_r, buf_s2, cfg.buffer, pending, None)
        row = {"episode": episode, "return": ret / (tr.frames - 1), "keyRate": float(np.mean(keys)), "eps": eps}
        row["tdLoss"] = float(np.mean(losses)) if losses else float("nan")
        history.append(row)
        bar.set_postfix(ret=f"{row['return']:.3f}", keys=f"{row['keyRate']:.2f}")
    return history


def _push(
    bs: list[np.ndarray],
    ba: list[int],
    br: list[float],
    bs2: list[np.ndarray | None],
    cap: int,
    item: tuple[np.ndarray, int, float],
    nxt: np.ndarray | None,
) -> None:
    """A transition whose next state is ``nxt`` (None: the next frame is a forced key or the sequence ended,
    both outside the policy's control, so the return is cut there)."""
    bs.append(item[0])
    ba.append(item[1])
    br.append(item[2])
    bs2.append(nxt)
    if len(bs) > cap:
        del bs[0], ba[0], br[0], bs2[0]


def _learn(
    policy: KeyframePolicy,
    target: KeyframePolicy,
    opt: torch.optim.Optimizer,
    bs: list[np.ndarray],
    ba: list[int],
    br: list[float],
    bs2: list[np.ndarray | None],
    cfg: DqnConfig,
    rng: random.Random,
) -> float:
    idx = [rng.randrange(len(bs)) for _ in range(cfg.batch_size)]
    s = torch.from_numpy(np.stack([bs[i] for i in idx]))
    a = torch.tensor([ba[i] for i in idx])
    r = torch.tensor([br[i] for i in idx], dtype=torch.float32)
    done = torch.tensor([bs2[i] is None for i in idx])
    s2 = torch.from_numpy(np.stack([bs2[i] if bs2[i] is not None else bs[i] for i in idx]))
    with torch.no_grad():
        best = policy(s2)[0].argmax(1, keepdim=True)  # double DQN: the online net picks, the target scores
        q2 = target(s2)[0].gather(1, best)[:, 0]
        y = r + cfg.gamma * q2 * (~done).float()
    q = policy(s)[0].gather(1, a[:, None])[:, 0]
    loss = F.smooth_l1_loss(q, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss)


def greedy(policy: KeyframePolicy):  # noqa: ANN201 - returns env.Decide for a trace
    def decide_for(_trace: Trace):  # noqa: ANN202
        def decide(state: np.ndarray, _t: int, _age: int) -> bool:
            with torch.no_grad():
                q = policy(torch.from_numpy(state)[None])[0][0]
            return bool(q[1] > q[0])

        return decide

    return decide_for

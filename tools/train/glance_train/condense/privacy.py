"""How private is a condensed set? Two measurements, both on the standardised features.

1. Distance to the closest record: for every condensed sample, the Euclidean distance to its nearest real
   training record, set against the real records' own nearest-neighbour distances (each record to its nearest
   other record). A condensed sample closer to a real record than real records usually are to each other would
   be a near-copy. The report gives the 5th percentile and median of both and whether every condensed sample
   lies beyond the real-to-real median.
2. Membership inference: the loss-threshold attack (Yeom et al.) on a model trained on the condensed set. The
   attacker scores each record by −loss; AUC over members (real training records, the ones condensed) against
   non-members (held-out records). 0.5 means the model reveals nothing about membership. The same attack on a
   model trained on the real training records is the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors
from torch import nn

from glance_train.condense.evaluate import EvalConfig, predict_proba, train_classifier


@dataclass(frozen=True)
class PrivacyConfig:
    attack_arch: str = "mlp"
    attack_records: int = 500
    """Members and non-members each (at most; fewer if the held-out split is smaller)."""
    seed: int = 0


def nearest_record_distances(syn: np.ndarray, real: np.ndarray) -> dict[str, float | bool]:
    s = syn.reshape(len(syn), -1)
    r = real.reshape(len(real), -1)
    nn_real = NearestNeighbors(n_neighbors=2).fit(r)
    dcr = nn_real.kneighbors(s, n_neighbors=1)[0][:, 0]
    rr = nn_real.kneighbors(r, n_neighbors=2)[0][:, 1]  # column 0 is the record itself
    rr_median = float(np.median(rr))
    return {
        "syn_to_real_min": float(dcr.min()),
        "syn_to_real_p5": float(np.percentile(dcr, 5)),
        "syn_to_real_median": float(np.median(dcr)),
        "real_to_real_p5": float(np.percentile(rr, 5)),
        "real_to_real_median": rr_median,
        "closest_over_real_median": float(dcr.min() / max(rr_median, 1e-12)),
        "all_beyond_real_median": bool(dcr.min() >= rr_median),
    }


def enforce_distance(syn: np.ndarray, real: np.ndarray, radius: float,
                     passes: int = 100) -> tuple[np.ndarray, int]:
    """Push every synthetic sample that lies within ``radius`` of a real record radially out to ``radius``.

    The guard Glance applies before a condensed set leaves the toolchain: no shared sample may sit closer to
    a real person's record than ``radius`` (the real records' median nearest-neighbour distance). A push can
    bring a sample nearer another record, so it repeats until no sample is inside (or ``passes`` run out).
    Returns the guarded samples and how many were moved.
    """
    flat = syn.reshape(len(syn), -1).astype(np.float64).copy()
    index = NearestNeighbors(n_neighbors=1).fit(real.reshape(len(real), -1))
    moved: set[int] = set()
    for _ in range(passes):
        dist, idx = index.kneighbors(flat)
        inside = np.flatnonzero(dist[:, 0] < radius)
        if len(inside) == 0:
            break
        anchor = index._fit_X[idx[inside, 0]]
        direction = flat[inside] - anchor
        norm = np.linalg.norm(direction, axis=1, keepdims=True)
        direction = np.where(norm > 0, direction / np.maximum(norm, 1e-12), 1.0 / np.sqrt(flat.shape[1]))
        flat[inside] = anchor + direction * radius * (1 + 1e-3)
        moved.update(inside.tolist())
    return flat.reshape(syn.shape).astype(np.float32), len(moved)


def loss_attack_auc(net: nn.Module, members: tuple[np.ndarray, np.ndarray],
                    non_members: tuple[np.ndarray, np.ndarray]) -> float:
    def losses(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        p = predict_proba(net, x)[np.arange(len(y)), y]
        return -np.log(np.clip(p, 1e-12, None))

    scores = np.concatenate([-losses(*members), -losses(*non_members)])
    truth = np.concatenate([np.ones(len(members[1])), np.zeros(len(non_members[1]))])
    return float(roc_auc_score(truth, scores))


def privacy_report(syn: tuple[np.ndarray, np.ndarray], train: tuple[np.ndarray, np.ndarray],
                   test: tuple[np.ndarray, np.ndarray], classes: int, eval_cfg: EvalConfig,
                   cfg: PrivacyConfig | None = None) -> dict[str, float | bool]:
    cfg = cfg or PrivacyConfig()
    report = nearest_record_distances(syn[0], train[0])
    rng = np.random.default_rng(cfg.seed)
    n = min(cfg.attack_records, len(train[1]), len(test[1]))
    mi = rng.choice(len(train[1]), n, replace=False)
    ni = rng.choice(len(test[1]), n, replace=False)
    members, non_members = (train[0][mi], train[1][mi]), (test[0][ni], test[1][ni])
    on_syn = train_classifier(cfg.attack_arch, syn[0], syn[1], classes, eval_cfg, cfg.seed)
    on_real = train_classifier(cfg.attack_arch, train[0], train[1], classes, eval_cfg, cfg.seed)
    report["mia_auc"] = loss_attack_auc(on_syn, members, non_members)
    report["mia_auc_real_training"] = loss_attack_auc(on_real, members, non_members)
    return report

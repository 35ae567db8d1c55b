"""Losses: the video-centralised contrastive loss (VC-TRSF, papers.md §6) and the metric head's loss with the
closed-form adversarial perturbation term of certified-robust metric learning (papers.md §7)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def same_video_mask(videos: torch.Tensor) -> torch.Tensor:
    return videos[:, None] == videos[None, :]


def vc_contrastive(z1: torch.Tensor, z2: torch.Tensor, videos: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE between two views of each track; the negatives are the other tracks *of the same video*.

    Tracks of one video share its lighting, background and camera, so the only thing left to tell them apart is
    the face: the video-centralised choice of negatives is what keeps the embedding off scene shortcuts.
    """
    logits = z1 @ z2.T / temperature
    logits = logits.masked_fill(~same_video_mask(videos), float("-inf"))
    target = torch.arange(len(z1), device=z1.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def frame_vc_contrastive(f: torch.Tensor, tracks: torch.Tensor, videos: torch.Tensor, temperature: float) -> torch.Tensor:
    """Frame level, same idea (supervised-contrastive form): frames of the same track are positives, frames of
    other tracks of the same video negatives, frames of other videos ignored."""
    n = len(f)
    logits = f @ f.T / temperature
    eye = torch.eye(n, dtype=torch.bool, device=f.device)
    valid = same_video_mask(videos) & ~eye
    logits = logits.masked_fill(~valid, float("-inf"))
    pos = (tracks[:, None] == tracks[None, :]) & ~eye
    log_p = logits.log_softmax(dim=1).masked_fill(~valid, 0.0)
    has = pos.sum(1) > 0
    per = -(log_p * pos).sum(1)[has] / pos.sum(1)[has]
    return per.mean()


def adversarial_distance_sq(
    h_i: torch.Tensor, h_j: torch.Tensor, h_l: torch.Tensor, metric: torch.Tensor
) -> torch.Tensor:
    """Squared Euclidean distance from anchor h_i to its nearest adversarial example under M = LᵀL (closed form).

    The perturbation that makes the impostor h_l as close as the target h_j moves h_i onto the bisecting
    hyperplane {x : d_M(x, h_j) = d_M(x, h_l)}, a distance (d²_M(i,l) − d²_M(i,j)) / (2‖M(h_l − h_j)‖) away.
    A violated triplet (impostor already closer) is its own adversarial example: distance 0.
    """
    zi, zj, zl = h_i @ metric.T, h_j @ metric.T, h_l @ metric.T
    d_ij = ((zi - zj) ** 2).sum(1)
    d_il = ((zi - zl) ** 2).sum(1)
    m_dir = (zl - zj) @ metric  # M(h_l − h_j) = Lᵀ L (h_l − h_j)
    d2 = (d_il - d_ij).clamp(min=0) ** 2 / (4 * (m_dir**2).sum(1).clamp(min=1e-8))
    return d2


def robust_metric_loss(
    h_i: torch.Tensor,
    h_j: torch.Tensor,
    h_l: torch.Tensor,
    metric: torch.Tensor,
    mu: float,
    margin: float,
    lam: float,
    tau: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """μ·pull + (1 − μ)·triplet hinge + λ·[τ² − d²_adv]₊ (papers.md §7); M = LᵀL is PSD by construction, so
    the projection onto the PSD cone that the Mahalanobis version needs after each step is not needed here."""
    zi, zj, zl = h_i @ metric.T, h_j @ metric.T, h_l @ metric.T
    d_ij = ((zi - zj) ** 2).sum(1)
    d_il = ((zi - zl) ** 2).sum(1)
    pull = d_ij.mean()
    hinge = F.relu(margin + d_ij - d_il).mean()
    d_adv = adversarial_distance_sq(h_i, h_j, h_l, metric)
    perturb = F.relu(tau**2 - d_adv).mean()
    total = mu * pull + (1 - mu) * hinge + lam * perturb
    return total, {"pull": float(pull), "hinge": float(hinge), "perturb": float(perturb)}


def hardest_impostors(h: torch.Tensor, videos: torch.Tensor) -> torch.Tensor:
    """For each track, the index of the most similar other track of the same video (-1 when it has none)."""
    sim = h @ h.T
    valid = same_video_mask(videos) & ~torch.eye(len(h), dtype=torch.bool, device=h.device)
    sim = sim.masked_fill(~valid, float("-inf"))
    best = sim.argmax(1)
    return torch.where(valid.any(1), best, torch.full_like(best, -1))

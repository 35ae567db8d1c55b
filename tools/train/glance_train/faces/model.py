"""The track-embedding transformer (VC-TRSF, papers.md §6), in the paper's order: frame encoder, transformer
blocks over the frames of a track, the track representation, then the metric head (papers.md §7).

    crops [B, T, S, S] (grey, 0..1) + mask [B, T] (1 = a frame, 0 = padding) → embedding [B, D], L2-normalised

The frame encoder alone, with its own small head, gives per-frame embeddings: their average over a track is the
baseline the paper compares against (average-pooled frame features).

Two track heads (``FaceTrackConfig.aggregator``):
- ``cls-mean`` (1.0.0): h = LN(CLS + mean of the frame tokens); the metric head maps the ``width``-d h to the
  embedding. Trained jointly with the frame encoder from scratch.
- ``attention-residual`` (1.1.0): on top of a frozen, pretrained frame encoder (the paper's order). The blocks score
  every frame; h = normalise(Σ softmax(score)·frame embedding + correction(CLS)). The score and correction layers
  start at zero and the metric head at the identity, so the untrained model *is* average pooling of the same
  frame embeddings, and training can only move it away from pooling where that helps the loss: down-weighting
  blurred, occluded or misaligned frames, which an average cannot do.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class FaceTrackConfig:
    input_size: int = 32
    seq_len: int = 16
    width: int = 64
    depth: int = 2
    heads: int = 4
    embed_dim: int = 64
    aggregator: str = "cls-mean"
    consensus: float = 0.0
    """attention-residual only: > 0 adds consensus weighting at this temperature (1.2.0): each frame's weight also
    grows with its cosine to the track's current weighted mean, iterated ``consensus_steps`` times — frames of
    another person (a tracker's identity switch, a minority of the track) are down-weighted before training."""
    consensus_steps: int = 3

    def to_dict(self) -> dict[str, int | float | str]:
        return asdict(self)


class FrameEncoder(nn.Module):
    """A small CNN: one grey crop → a ``width``-d feature."""

    def __init__(self, width: int) -> None:
        super().__init__()
        chans = [1, 16, 32, 64]
        layers: list[nn.Module] = []
        for a, b in zip(chans, chans[1:]):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.BatchNorm2d(b), nn.ReLU(inplace=True)]
        layers += [nn.Conv2d(64, width, 3, padding=1), nn.ReLU(inplace=True)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).mean(dim=(2, 3))


class Block(nn.Module):
    """Pre-norm self-attention + MLP; padded frames are masked out of every attention row."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        shape = (b, t, self.heads, c // self.heads)
        q, k, v = (z.reshape(shape).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / (c // self.heads) ** 0.5) + bias
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.mlp(self.ln2(x))


class FaceTrackNet(nn.Module):
    def __init__(self, cfg: FaceTrackConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.frames = FrameEncoder(w)
        self.frame_head = nn.Linear(w, cfg.embed_dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, w))
        self.pos = nn.Parameter(torch.randn(1, cfg.seq_len + 1, w) * 0.02)
        self.blocks = nn.ModuleList([Block(w, cfg.heads) for _ in range(cfg.depth)])
        self.ln = nn.LayerNorm(w)
        if cfg.aggregator == "attention-residual":
            self.score = nn.Linear(w, 1)
            self.correction = nn.Linear(w, cfg.embed_dim)
            for layer in (self.score, self.correction):
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)
            self.metric = nn.Linear(cfg.embed_dim, cfg.embed_dim, bias=False)
            nn.init.eye_(self.metric.weight)
        elif cfg.aggregator == "cls-mean":
            self.metric = nn.Linear(w, cfg.embed_dim, bias=False)
        else:
            raise ValueError(f"unknown aggregator {cfg.aggregator!r} (cls-mean or attention-residual)")
        """L of the learnt metric M = LᵀL (PSD by construction) on the track representation h."""

    def frozen_frame_parameters(self) -> list[nn.Parameter]:
        """The frame encoder and its head: pretrained first, then frozen under the attention-residual head."""
        return [*self.frames.parameters(), *self.frame_head.parameters()]

    def frame_features(self, crops: torch.Tensor) -> torch.Tensor:
        b, t, s, _ = crops.shape
        return self.frames(crops.reshape(b * t, 1, s, s)).reshape(b, t, -1)

    def frame_embeddings(self, crops: torch.Tensor) -> torch.Tensor:
        """Per-frame embeddings [B, T, D], L2-normalised: the average-pooling baseline's input."""
        return F.normalize(self.frame_head(self.frame_features(crops)), dim=-1)

    def representation(self, crops: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """h: the track representation after the blocks, L2-normalised, before the metric head."""
        return self.representation_from(self.frame_features(crops), mask)

    def representation_from(self, feats: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b = feats.shape[0]
        x = torch.cat([self.cls.expand(b, -1, -1), feats], dim=1) + self.pos
        keep = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)
        bias = ((1.0 - keep) * -1e4)[:, None, None, :]
        for block in self.blocks:
            x = block(x, bias)
        if self.cfg.aggregator == "attention-residual":
            return self._attention_residual(x, feats, mask)
        # the CLS token plus the masked mean of the frame tokens: attention refines an average, it need not rebuild it
        mean = (x[:, 1:] * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        return F.normalize(self.ln(x[:, 0] + mean), dim=-1)

    def _attention_residual(self, x: torch.Tensor, feats: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        y = self.ln(x)
        frames = F.normalize(self.frame_head(feats), dim=-1)
        weights = self._weights(y, frames, mask)
        pooled = (weights[..., None] * frames).sum(1)
        return F.normalize(pooled + self.correction(y[:, 0]), dim=-1)

    def _weights(self, y: torch.Tensor, frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        score = self.score(y[:, 1:]).squeeze(-1).masked_fill(mask <= 0, -1e4)
        weights = score.softmax(dim=1)
        if self.cfg.consensus > 0:  # re-weight towards the frames that agree with the weighted mean
            for _ in range(self.cfg.consensus_steps):
                mean = F.normalize((weights[..., None] * frames).sum(1), dim=-1)
                agree = (frames * mean[:, None]).sum(-1) / self.cfg.consensus
                weights = (score + agree).masked_fill(mask <= 0, -1e4).softmax(dim=1)
        return weights

    def frame_weights(self, crops: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The attention-residual head's weight on each frame [B, T] (uniform over real frames before training,
        unless ``consensus`` is on)."""
        feats = self.frame_features(crops)
        b = feats.shape[0]
        x = torch.cat([self.cls.expand(b, -1, -1), feats], dim=1) + self.pos
        bias = ((1.0 - torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)) * -1e4)[:, None, None, :]
        for block in self.blocks:
            x = block(x, bias)
        return self._weights(self.ln(x), F.normalize(self.frame_head(feats), dim=-1), mask)

    def forward(self, crops: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.metric(self.representation(crops, mask)), dim=-1)


def pooled_frame_embedding(model: FaceTrackNet, crops: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The baseline: the mean of a track's frame embeddings over its real frames, L2-normalised."""
    f = model.frame_embeddings(crops) * mask[..., None]
    return F.normalize(f.sum(1) / mask.sum(1, keepdim=True).clamp(min=1), dim=-1)

"""EMOShip's two emotion networks: eye-only (expression) and emotionship-aware (expression + attended scene).

Both read a window of ``steps`` frames sampled at 4 Hz. A small CNN encodes each eye crop; the pupil
diameter and the tracker confidence join it; a temporal convolution over the window and mean+max pooling give
the ``embedding`` (the personalisation head on the device trains on it) and the 7 emotion logits. The aware
network
adds a CNN over the scene crop at the gaze (or the attended region) per frame, fused with the eye features
before the temporal layers, and a per-frame ``cause_logits`` head naming what the gaze rests on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

EYE_INPUTS = ("eye", "pupil")
SHIP_INPUTS = ("eye", "pupil", "scene")
EYE_OUTPUTS = ("logits", "embedding")
SHIP_OUTPUTS = ("logits", "embedding", "cause_logits")


@dataclass(frozen=True)
class EmotionNetConfig:
    input_size: int = 32
    """Eye and scene crops are input_size x input_size."""
    steps: int = 16
    eye_channels: tuple[int, ...] = (8, 16, 32)
    scene_channels: tuple[int, ...] = (8, 16, 16)
    hidden: int = 48
    embedding: int = 48
    classes: int = 7
    cause_classes: int = 6
    dropout: float = 0.2
    scene_embedding: int = 16
    """Width of the pooled scene semantics in the aware network's embedding."""
    eye_init: str = ""
    """Aware network: an eye-only run's best.pt (relative to the repository) whose expression path it starts
    from; read by the trainer (emotion/run.py), not by the network."""


def _encoder(in_ch: int, channels: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for out in channels:
        # BatchNorm: GroupNorm costs several times more on a CPU; train these with one worker (world_size 1).
        layers += [nn.Conv2d(in_ch, out, 3, stride=2, padding=1), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
        in_ch = out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers)


class _Temporal(nn.Module):
    """Two temporal convolutions over per-frame features, then mean and max over the window."""

    def __init__(self, width: int, cfg: EmotionNetConfig) -> None:
        super().__init__()
        self.proj = nn.Linear(width, cfg.hidden)
        self.conv = nn.Sequential(
            nn.Conv1d(cfg.hidden, cfg.hidden, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv1d(cfg.hidden, cfg.hidden, 3, padding=2, dilation=2),
            nn.ReLU(inplace=True),
        )
        self.embed = nn.Sequential(nn.Linear(2 * cfg.hidden, cfg.embedding), nn.ReLU(inplace=True))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.proj(feats)).transpose(1, 2)  # (B, hidden, T)
        h = self.conv(h)
        return self.embed(torch.cat([h.mean(dim=2), h.amax(dim=2)], dim=1))


class EyeEmotionNet(nn.Module):
    """(eye (B,T,S,S), pupil (B,T,2)) → (logits (B,7), embedding (B,E))."""

    input_names = EYE_INPUTS
    output_names = EYE_OUTPUTS

    def __init__(self, cfg: EmotionNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.eye = _encoder(2, cfg.eye_channels)
        self.temporal = _Temporal(cfg.eye_channels[-1] + 3, cfg)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.embedding, cfg.classes)

    def eye_features(self, eye: torch.Tensor, pupil: torch.Tensor) -> torch.Tensor:
        # Each frame is seen with its difference from the window's mean frame, and the pupil with its change
        # from the window's mean: an expression is a change of this wearer's eye, and people's eyes differ more
        # than their expressions do.
        b, t, h, w = eye.shape
        change = eye - eye.mean(dim=1, keepdim=True)
        frames = torch.stack([eye, 2.0 * change], dim=2).reshape(b * t, 2, h, w)
        f = self.eye(frames).reshape(b, t, -1)
        rel = pupil[:, :, :1] - pupil[:, :, :1].mean(dim=1, keepdim=True)
        return torch.cat([f, pupil, rel], dim=2)

    def forward(
        self, eye: torch.Tensor, pupil: torch.Tensor, scene: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, ...]:
        emb = self.temporal(self.eye_features(eye, pupil))
        return self.head(self.drop(emb)), emb


class ShipEmotionNet(EyeEmotionNet):
    """(eye, pupil, scene (B,T,3,S,S)) → (logits, embedding, cause_logits (B,T,cause_classes)).

    The expression path is the eye-only network's (and starts from its trained weights: ``eye_init``); the scene
    path encodes the crop at the gaze per step, names what is there (``cause_logits``) and pools those semantics
    over the window into a scene embedding that joins the expression embedding before the emotion head. Late
    fusion keeps the expression features intact: the scene adds evidence rather than competing for them.
    """

    input_names = SHIP_INPUTS
    output_names = SHIP_OUTPUTS

    def __init__(self, cfg: EmotionNetConfig) -> None:
        super().__init__(cfg)
        self.scene = _encoder(3, cfg.scene_channels)
        self.cause = nn.Linear(cfg.scene_channels[-1], cfg.cause_classes)
        pooled = 2 * cfg.cause_classes + cfg.scene_channels[-1]
        self.scene_embed = nn.Sequential(nn.Linear(pooled, cfg.scene_embedding), nn.ReLU(inplace=True))
        self.head = nn.Linear(cfg.embedding + cfg.scene_embedding, cfg.classes)

    def forward(
        self, eye: torch.Tensor, pupil: torch.Tensor, scene: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, ...]:
        if scene is None:
            raise ValueError("the emotionship-aware network needs the scene crops")
        b, t = scene.shape[0], scene.shape[1]
        s = self.scene(scene.reshape(b * t, 3, scene.shape[3], scene.shape[4])).reshape(b, t, -1)
        cause = self.cause(s)
        p = torch.softmax(cause, dim=2)
        semantics = torch.cat([p.mean(dim=1), p.amax(dim=1), s.mean(dim=1)], dim=1)
        emb = torch.cat([self.temporal(self.eye_features(eye, pupil)), self.scene_embed(semantics)], dim=1)
        return self.head(self.drop(emb)), emb, cause

"""PupilNet: a small CNN that finds the pupil ellipse and tells open from closed eyes on a grey eye crop.

Input: one grey eye image downscaled from the 192x192 eye camera to ``input_size`` (pixels / 255, no other
normalisation). Outputs, each per image:

- ``centre``      (N, 2)  pupil centre (x, y) as a fraction of the image size, x right, y down;
- ``axes``        (N, 2)  full major and minor axis lengths as a fraction of the image size;
- ``angle``       (N, 2)  (sin 2θ, cos 2θ) of the major axis direction θ (an ellipse is symmetric under 180°);
- ``open_logit``  (N, 1)  > 0 means the eye is open (the pupil outputs are meaningless when it is closed).

The centre comes from a soft-argmax over a stride-4 heat map (translation-equivariant, sub-pixel, and cheap to
learn from few thousand images); the ellipse shape is read from features pooled under that heat map, and the
open/closed logit from globally pooled deep features. Written as blocks, then the model, then its config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Norm = Literal["batch", "group"]

OUTPUT_NAMES = ("centre", "axes", "angle", "open_logit")


# --- blocks ------------------------------------------------------------------------------------------


def _norm(kind: Norm, channels: int) -> nn.Module:
    # GroupNorm keeps one process and N DDP processes numerically equivalent on CPU (SyncBatchNorm needs
    # CUDA); BatchNorm folds into the convolutions at export and is a little faster on the device.
    return nn.BatchNorm2d(channels) if kind == "batch" else nn.GroupNorm(min(8, channels // 4), channels)


class ConvNormAct(nn.Sequential):
    def __init__(self, cin: int, cout: int, stride: int = 1, norm: Norm = "group") -> None:
        conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        super().__init__(conv, _norm(norm, cout), nn.ReLU(inplace=True))


class Stage(nn.Sequential):
    """Downsample by two, then refine at that resolution."""

    def __init__(self, cin: int, cout: int, depth: int, norm: Norm) -> None:
        refine = [ConvNormAct(cout, cout, 1, norm) for _ in range(depth - 1)]
        super().__init__(ConvNormAct(cin, cout, 2, norm), *refine)


def _mlp(cin: int, hidden: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(cin, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, cout))


class SoftArgmax2d(nn.Module):
    """Expected (x, y) position under a softmax over a heat map, as a fraction of the map's extent.

    Cell centres sit at (i + 0.5) / W, so a fraction of the map is also a fraction of the input image.
    """

    def __init__(self, height: int, width: int) -> None:
        super().__init__()
        xs = (torch.arange(width, dtype=torch.float32) + 0.5) / width
        ys = (torch.arange(height, dtype=torch.float32) + 0.5) / height
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(height * width, 2)
        self.register_buffer("grid", grid, persistent=False)

    def forward(self, heat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        weights = torch.softmax(heat.flatten(1), dim=1)  # (N, H*W)
        return weights @ self.grid, weights


# --- model -------------------------------------------------------------------------------------------


class PupilNet(nn.Module):
    def __init__(self, config: PupilNetConfig) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        n = config.norm
        self.stem = ConvNormAct(1, c[0], 2, n)  # stride 2
        self.stage4 = Stage(c[0], c[1], config.depth, n)  # stride 4: where the heat map lives
        self.stage8 = Stage(c[1], c[2], config.depth, n)
        self.stage16 = Stage(c[2], c[3], config.depth, n)
        self.lateral = nn.Conv2d(c[3], c[1], 1)
        self.fuse = ConvNormAct(c[1], c[1], 1, n)
        self.heat = nn.Conv2d(c[1], 1, 1, bias=False)  # softmax ignores a constant: a bias would only drift
        side = config.input_size // 4
        self.argmax = SoftArgmax2d(side, side)
        self.shape_head = _mlp(c[1], config.hidden, 4)
        self.open_head = _mlp(c[3], config.hidden, 1)

    def forward(self, eye: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        f4 = self.stage4(self.stem(eye))
        f16 = self.stage16(self.stage8(f4))
        # Deep context (which dark blob is the pupil, not a lash or a shadow) added back at stride 4.
        fused = self.fuse(f4 + F.interpolate(self.lateral(f16), scale_factor=4.0, mode="nearest"))
        centre, weights = self.argmax(self.heat(fused))
        # Features averaged under the heat map: (N, C) describing the pupil wherever it is.
        pooled = torch.bmm(weights.unsqueeze(1), fused.flatten(2).transpose(1, 2)).squeeze(1)
        shape = self.shape_head(pooled)
        axes = F.softplus(shape[:, :2])
        angle = F.normalize(shape[:, 2:], dim=1, eps=1e-6)
        open_logit = self.open_head(f16.mean(dim=(2, 3)))
        return centre, axes, angle, open_logit


# --- config ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PupilNetConfig:
    input_size: int = 96
    """Side of the square input in pixels; a multiple of 16."""
    channels: tuple[int, int, int, int] = field(default=(16, 32, 48, 64))
    depth: int = 2
    """Convolutions per stage (the first one downsamples)."""
    hidden: int = 64
    norm: Norm = "group"

    def __post_init__(self) -> None:
        if self.input_size % 16 != 0:
            raise ValueError(f"input_size must be a multiple of 16, got {self.input_size}")
        if len(self.channels) != 4:
            raise ValueError("channels needs four entries (stem, stride 4, 8, 16)")

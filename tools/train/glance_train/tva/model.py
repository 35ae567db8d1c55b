"""TvaNet: the attended region and an attention score from a scene frame pair and the recent gaze.

Temporal in two ways: the scene input stacks the current frame with the one 4 frames earlier (motion), and a
1-D convolution reads the last 16 gaze samples (fixation, pursuit, saccade, blink gaps). Gaze also enters the
image path as maps (a narrow and a wide Gaussian at the latest valid sample, and the history's spread), so
the convolutions can look for the object *near* where the tracker says the wearer looks and correct its
offset. The attended centre is a soft-argmax over a 24x32 heat map; size and score come from features pooled
under that heat map together with the gaze code. Everything is plain ONNX (opset 17), no custom ops.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from glance_train.tva.data import HEIGHT, WIDTH
from glance_train.tva.gaze_noise import HISTORY

OUTPUT_NAMES = ("box", "score")
INPUT_NAMES = ("scene", "gaze")


@dataclass(frozen=True)
class TvaNetConfig:
    input_size: int = WIDTH
    """Scene input width (height is 3/4 of it); recorded so export and the manifest agree."""
    channels: tuple[int, int, int] = (16, 24, 40)
    fuse: int = 32
    gaze_hidden: int = 32
    sigmas_px: tuple[float, float, float] = (4.0, 10.0, 5.0)
    """Gaussian widths (input pixels) of the latest-gaze maps (narrow, wide) and of the history map."""


def _conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def _grid(h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-centre coordinates as fractions of the frame, shape (1, 1, h, w)."""
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w
    gx = xs.view(1, 1, 1, w).expand(1, 1, h, w).contiguous()
    return gx, ys.view(1, 1, h, 1).expand(1, 1, h, w).contiguous()


class TvaNet(nn.Module):
    def __init__(self, cfg: TvaNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c1, c2, c3 = cfg.channels
        hx, hy = _grid(HEIGHT // 4, WIDTH // 4)
        self.register_buffer("hx", hx, persistent=False)
        self.register_buffer("hy", hy, persistent=False)
        self.register_buffer("steps", torch.arange(HISTORY, dtype=torch.float32), persistent=False)
        self.stem = nn.Sequential(_conv(6, c1, 2), _conv(c1, c2, 2))  # 96x128 -> 24x32
        self.mix = _conv(c2 + 3 + 2, c2)  # + gaze maps and coordinates
        self.down = nn.Sequential(_conv(c2, c3, 2), _conv(c3, c3))  # 12x16: context around the gaze
        self.lateral = nn.Conv2d(c3, c2, 1)
        self.fuse = _conv(c2, cfg.fuse)
        self.heat = nn.Conv2d(cfg.fuse, 1, 1)
        g = cfg.gaze_hidden
        self.gaze_net = nn.Sequential(
            nn.Conv1d(5, g, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv1d(g, g, 3, padding=1),
            nn.ReLU(inplace=True),
        )
        self.gaze_out = nn.Linear(2 * g, g)
        self.size_head = nn.Sequential(nn.Linear(cfg.fuse + g, 32), nn.ReLU(inplace=True), nn.Linear(32, 2))
        self.score_head = nn.Sequential(
            nn.Linear(cfg.fuse + g + c3 + 1, 32), nn.ReLU(inplace=True), nn.Linear(32, 1)
        )

    def _latest(self, gaze: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latest valid gaze (B, 2) and whether there is any (B, 1): a softmax picks the newest valid step."""
        valid = gaze[:, :, 2]
        w = torch.softmax(self.steps * 4.0 + (valid - 1.0) * 1e4, dim=1)
        xy = (w.unsqueeze(2) * gaze[:, :, 0:2]).sum(1)
        return xy, valid.max(dim=1, keepdim=True)[0]

    def _blobs(self, xy: torch.Tensor, weight: torch.Tensor, sigma_px: float) -> torch.Tensor:
        """Sum of Gaussians (B, 1, 24, 32) at points xy (B, K, 2) weighted (B, K); sigma in input pixels."""
        dx = (self.hx.view(1, 1, -1) - xy[:, :, 0:1]) * WIDTH
        dy = (self.hy.view(1, 1, -1) - xy[:, :, 1:2]) * HEIGHT
        m = (torch.exp((dx * dx + dy * dy) * (-0.5 / (sigma_px * sigma_px))) * weight.unsqueeze(2)).sum(1)
        return m.view(-1, 1, HEIGHT // 4, WIDTH // 4)

    def parts(self, scene: torch.Tensor, gaze: torch.Tensor) -> dict[str, torch.Tensor]:
        """Everything the loss needs: box (B, 4), score logit (B, 1), heat logits (B, h*w)."""
        b = scene.shape[0]
        last, any_valid = self._latest(gaze)
        valid = gaze[:, :, 2]
        s_narrow, s_wide, s_hist = self.cfg.sigmas_px
        lxy = last.unsqueeze(1)
        maps = [
            self._blobs(lxy, any_valid, s_narrow),
            self._blobs(lxy, any_valid, s_wide),
            self._blobs(gaze[:, :, 0:2], valid, s_hist) * (1.0 / HISTORY),
        ]
        coords = torch.cat([self.hx, self.hy], 1).expand(b, 2, HEIGHT // 4, WIDTH // 4)
        f1 = self.mix(torch.cat([self.stem(scene), *maps, coords], 1))
        f2 = self.down(f1)
        up = F.interpolate(self.lateral(f2), scale_factor=2.0, mode="nearest")
        feat = self.fuse(f1 + up)  # (B, C, 24, 32)
        logits = self.heat(feat).flatten(1)  # (B, 768)
        p = torch.softmax(logits, dim=1).unsqueeze(1)  # (B, 1, 768)
        cx = (p * self.hx.view(1, 1, -1)).sum(2)
        cy = (p * self.hy.view(1, 1, -1)).sum(2)
        pooled = (p * feat.flatten(2)).sum(2)  # (B, C)
        # Gaze history relative to its latest valid sample, so the code is about movement, not position.
        rel = (gaze[:, :, 0:2] - lxy) * valid.unsqueeze(2) * 10.0
        h = self.gaze_net(torch.cat([gaze, rel], 2).transpose(1, 2))  # (B, g, 16)
        g = F.relu(self.gaze_out(torch.cat([h.mean(2), h[:, :, -1]], 1)))
        wh = torch.sigmoid(self.size_head(torch.cat([pooled, g], 1)))
        peak = logits.max(dim=1, keepdim=True)[0] - logits.mean(dim=1, keepdim=True)
        score = self.score_head(torch.cat([pooled, g, f2.mean((2, 3)), peak * 0.1], 1))
        box = torch.cat([cx, cy, wh], 1)
        return {"box": box, "score_logit": score, "heat": logits}

    def forward(self, scene: torch.Tensor, gaze: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.parts(scene, gaze)
        return out["box"], torch.sigmoid(out["score_logit"])

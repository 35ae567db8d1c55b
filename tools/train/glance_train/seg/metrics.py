"""Segmentation quality: mean IoU over classes and the boundary F-score (BF) at a pixel tolerance.

Both are accumulated over a whole split (counts summed over images, then divided), so a class seen in few
images is weighed by its pixels, not by how many images happened to contain it.

Boundary F (Csurka et al., BMVC 2013, per class): a class's boundary pixels are its pixels with a
4-neighbour outside it; a predicted boundary pixel is a hit when a true boundary pixel of the same class lies
within ``tol`` pixels (Chebyshev distance, i.e. a (2·tol+1)² square), and vice versa for recall. BF is the
mean over the object classes of 2PR / (P + R); background is left out (its boundary is the objects').
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F


def boundary(mask: torch.Tensor) -> torch.Tensor:
    """(N, H, W) bool → pixels of the mask with a 4-neighbour outside it (the image edge is not a boundary)."""
    m = mask.float().unsqueeze(1)
    outside = 1.0 - m
    # A 4-neighbourhood max of "outside": a plus-shaped structuring element.
    pad = F.pad(outside, (1, 1, 1, 1), value=0.0)
    near = torch.maximum(torch.maximum(pad[..., 1:-1, :-2], pad[..., 1:-1, 2:]),
                         torch.maximum(pad[..., :-2, 1:-1], pad[..., 2:, 1:-1]))
    return (m * near).squeeze(1) > 0.5


def dilate(mask: torch.Tensor, tol: int) -> torch.Tensor:
    if tol <= 0:
        return mask
    return F.max_pool2d(mask.float().unsqueeze(1), 2 * tol + 1, 1, tol).squeeze(1) > 0.5


@dataclass
class SegMeter:
    classes: int
    tolerances: tuple[int, ...] = (1, 2)
    confusion: torch.Tensor = field(init=False)
    bf: dict[int, torch.Tensor] = field(init=False)
    """Per tolerance, per class: [predicted boundary px, of them matched, true boundary px, of them matched]."""

    def __post_init__(self) -> None:
        self.confusion = torch.zeros(self.classes, self.classes, dtype=torch.int64)
        self.bf = {t: torch.zeros(self.classes, 4, dtype=torch.int64) for t in self.tolerances}

    def update(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        """``pred`` and ``target``: (N, H, W) class indices."""
        k = self.classes
        idx = target.reshape(-1) * k + pred.reshape(-1)
        self.confusion += torch.bincount(idx, minlength=k * k).reshape(k, k)
        for c in range(1, k):
            pb, tb = boundary(pred == c), boundary(target == c)
            for t in self.tolerances:
                row = self.bf[t][c]
                row[0] += int(pb.sum())
                row[1] += int((pb & dilate(tb, t)).sum())
                row[2] += int(tb.sum())
                row[3] += int((tb & dilate(pb, t)).sum())

    def iou(self) -> torch.Tensor:
        cm = self.confusion.double()
        inter = cm.diag()
        union = cm.sum(0) + cm.sum(1) - inter
        return torch.where(union > 0, inter / union.clamp(min=1), torch.full_like(inter, float("nan")))

    def boundary_f(self, tol: int) -> torch.Tensor:
        row = self.bf[tol].double()
        p = row[:, 1] / row[:, 0].clamp(min=1)
        r = row[:, 3] / row[:, 2].clamp(min=1)
        f = torch.where(p + r > 0, 2 * p * r / (p + r).clamp(min=1e-12), torch.zeros_like(p))
        return torch.where(row[:, 2] > 0, f, torch.full_like(f, float("nan")))[1:]

    def summary(self, prefix: str, labels: tuple[str, ...]) -> dict[str, float]:
        iou = self.iou()
        out = {
            f"{prefix}_miou": float(iou.nanmean()),
            f"{prefix}_pixel_accuracy": float(self.confusion.diag().sum() / self.confusion.sum().clamp(min=1)),
        }
        for t in self.tolerances:
            out[f"{prefix}_boundary_f{t}"] = float(self.boundary_f(t).nanmean())
        for name, v in zip(labels, iou.tolist(), strict=True):
            out[f"{prefix}_iou_{name}"] = v
        return out

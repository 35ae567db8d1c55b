"""The lateral-inhibition (LI) layer of LI-Convs (arXiv 2006.03708), as in the authors' public code.

Per channel c, a k×k depthwise filter whose centre is 1 and whose neighbours are −W_c · g(d), with
g(d) = exp(−d² / 2σ²) and d the distance to the centre (σ = 1, zone k = 3):

    y = ReLU(x − W_c · Σ_n g(d_n) · x_n)

W_c is learnt, kept in [0, 1] (clipped in the forward pass and projected back after every optimiser step, as
the TF code's variable constraint does) and initialised uniformly in [0, 0.15]; W_c = 0 is the identity on the
non-negative activations the layer sits after (a ReLU in both places the network uses it). Because the kernel
is a function of W_c only, the layer *is* a depthwise convolution: ``kernel()`` builds it, and ONNX export
folds it into a constant, so the device runs a plain grouped Conv + Relu.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

CLIP = (0.0, 1.0)


def decay_matrix(zone: int, sigma: float) -> torch.Tensor:
    """g(d) on the zone's grid with the centre set to 0: the pattern the neighbours are weighted by."""
    if zone < 3 or zone % 2 == 0:
        raise ValueError(f"the LI zone must be an odd integer ≥ 3, got {zone}")
    r = zone // 2
    ys, xs = torch.meshgrid(torch.arange(-r, r + 1.0), torch.arange(-r, r + 1.0), indexing="ij")
    g = torch.exp(-(xs**2 + ys**2) / (2.0 * sigma**2))
    g[r, r] = 0.0
    return g


class LateralInhibition(nn.Module):
    def __init__(self, channels: int, zone: int = 3, sigma: float = 1.0, init_max: float = 0.15) -> None:
        super().__init__()
        self.channels, self.zone, self.sigma = channels, zone, sigma
        self.weight = nn.Parameter(torch.empty(channels).uniform_(0.0, init_max) if init_max > 0 else
                                   torch.zeros(channels))
        self.register_buffer("decay", decay_matrix(zone, sigma), persistent=False)
        centre = torch.zeros(zone, zone)
        centre[zone // 2, zone // 2] = 1.0
        self.register_buffer("centre", centre, persistent=False)

    def clipped_weight(self) -> torch.Tensor:
        return self.weight.clamp(*CLIP)

    def kernel(self) -> torch.Tensor:
        """The depthwise kernel (C, 1, k, k): centre 1, neighbours −W_c · g(d)."""
        w = self.clipped_weight().view(-1, 1, 1, 1)
        return self.centre - w * self.decay

    @torch.no_grad()
    def project_(self) -> None:
        """Clip W_c back into [0, 1] (called by the trainer after each optimiser step)."""
        self.weight.clamp_(*CLIP)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Zero padding ("SAME"), as the TF layer: at the border the missing neighbours inhibit nothing.
        return F.relu(F.conv2d(x, self.kernel(), padding=self.zone // 2, groups=self.channels))

    def extra_repr(self) -> str:
        return f"channels={self.channels}, zone={self.zone}, sigma={self.sigma}"


def lateral_inhibition_reference(x: torch.Tensor, weight: torch.Tensor, zone: int = 3,
                                 sigma: float = 1.0) -> torch.Tensor:
    """The formula written out with shifted copies of ``x`` (no convolution): what the tests compare with."""
    w = weight.clamp(*CLIP).view(1, -1, 1, 1)
    r = zone // 2
    padded = F.pad(x, (r, r, r, r))
    h, wd = x.shape[-2:]
    inhibition = torch.zeros_like(x)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dx == 0 and dy == 0:
                continue
            g = math.exp(-(dx * dx + dy * dy) / (2.0 * sigma * sigma))
            inhibition = inhibition + g * padded[..., r + dy : r + dy + h, r + dx : r + dx + wd]
    return F.relu(x - w * inhibition)


def project_constraints(model: nn.Module) -> None:
    """Apply every module's parameter constraint (``project_``) after an optimiser step."""
    for m in model.modules():
        if isinstance(m, LateralInhibition):
            m.project_()


def frozen(layer: LateralInhibition) -> nn.Sequential:
    """The layer as the device runs it: a depthwise Conv whose weight is the kernel built from W_c, and a ReLU."""
    conv = nn.Conv2d(layer.channels, layer.channels, layer.zone, padding=layer.zone // 2,
                     groups=layer.channels, bias=False)
    with torch.no_grad():
        conv.weight.copy_(layer.kernel())
    return nn.Sequential(conv, nn.ReLU())


def freeze_lateral_inhibition(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every LI layer replaced by ``frozen(layer)``: the same function, exported as
    plain Conv + Relu nodes with the kernel as a constant initializer."""
    out = copy.deepcopy(model)
    for parent in out.modules():
        for name, child in parent.named_children():
            if isinstance(child, LateralInhibition):
                setattr(parent, name, frozen(child))
    return out

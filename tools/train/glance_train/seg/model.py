"""SegNet: a compact DeepLabv3+ on a MobileNet-V2-like backbone, with or without lateral inhibitions.

Written in the paper's order: blocks (inverted residual, atrous separable branch, ASPP), then the model,
then its config. ``li`` picks the LI-Convs variant: ``"none"`` (the baseline), ``"aspp"`` (LI-ASPP: an LI
layer at the head of each atrous branch), ``"mnv2"`` (LI-MNV2: an LI layer after the expansion of the last
inverted residual of the stride-4, -8 and dilated stages) or ``"both"``; every other weight is the same.

Any input size works (the spatial size is symbolic in the ONNX export), so the device can run the model at
several scales of its base input; the logits come back at the input's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from glance_train.seg.lateral_inhibition import LateralInhibition, freeze_lateral_inhibition

LiVariant = Literal["none", "aspp", "mnv2", "both"]
OUTPUT_NAMES = ("logits",)


# --- blocks ------------------------------------------------------------------------------------------


class ConvBNReLU(nn.Sequential):
    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1,
                 dilation: int = 1) -> None:
        pad = dilation * (k - 1) // 2
        super().__init__(
            nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU6(inplace=True),
        )


class InvertedResidual(nn.Module):
    """MobileNet-V2 block: 1×1 expansion → [LI] → 3×3 depthwise → 1×1 linear projection (+ skip)."""

    def __init__(self, cin: int, cout: int, expand: int, stride: int = 1, dilation: int = 1,
                 li: bool = False, li_init: float = 0.15) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = [ConvBNReLU(cin, hidden, 1)] if expand != 1 else []
        if li:
            layers.append(LateralInhibition(hidden, init_max=li_init))
        layers += [
            ConvBNReLU(hidden, hidden, 3, stride, groups=hidden, dilation=dilation),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.body = nn.Sequential(*layers)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.skip else y


def _stage(cin: int, cout: int, expand: int, n: int, stride: int, dilation: int, li: bool,
           li_init: float) -> nn.Sequential:
    """``n`` blocks, the first one changing width and stride; LI-MNV2 puts LI in the last one only."""
    blocks = [
        InvertedResidual(cin if i == 0 else cout, cout, expand, stride if i == 0 else 1, dilation,
                         li=li and i == n - 1, li_init=li_init)
        for i in range(n)
    ]
    return nn.Sequential(*blocks)


class AtrousSeparable(nn.Sequential):
    """An ASPP branch: [LI →] dilated depthwise 3×3 → BN → pointwise 1×1 → BN → ReLU (LI-ASPP's order)."""

    def __init__(self, cin: int, cout: int, rate: int, li: bool, li_init: float) -> None:
        layers: list[nn.Module] = [LateralInhibition(cin, init_max=li_init)] if li else []
        layers += [
            nn.Conv2d(cin, cin, 3, padding=rate, dilation=rate, groups=cin, bias=False),
            nn.BatchNorm2d(cin),
            nn.Conv2d(cin, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        ]
        super().__init__(*layers)


class ASPP(nn.Module):
    def __init__(self, cin: int, cout: int, rates: tuple[int, ...], li: bool, li_init: float) -> None:
        super().__init__()
        self.point = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))
        self.atrous = nn.ModuleList(AtrousSeparable(cin, cout, r, li, li_init) for r in rates)
        self.pool = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))
        self.project = nn.Sequential(
            nn.Conv2d(cout * (len(rates) + 2), cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True),
            nn.Dropout2d(0.1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.pool(x.mean(dim=(2, 3), keepdim=True)).expand(-1, -1, x.shape[2], x.shape[3])
        branches = [self.point(x), *(b(x) for b in self.atrous), pooled]
        return self.project(torch.cat(branches, dim=1))


def _separable(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(ConvBNReLU(cin, cin, 3, groups=cin), ConvBNReLU(cin, cout, 1))


# --- model -------------------------------------------------------------------------------------------


class SegNet(nn.Module):
    def __init__(self, config: SegNetConfig) -> None:
        super().__init__()
        self.config = config
        c, e, li = config.channels, config.expand, config.li
        mnv2, aspp = li in ("mnv2", "both"), li in ("aspp", "both")
        self.stem = nn.Sequential(ConvBNReLU(3, c[0], 3, 2), InvertedResidual(c[0], c[0], 1))  # /2
        self.stage4 = _stage(c[0], c[1], e, 2, 2, 1, mnv2, config.li_init)  # /4: the decoder's detail
        self.stage8 = _stage(c[1], c[2], e, 2, 2, 1, mnv2, config.li_init)  # /8
        self.stage8d = _stage(c[2], c[3], e, 2, 1, 2, mnv2, config.li_init)  # /8, dilated (output stride 8)
        # MobileNet-V2's last 1×1 conv (BN, ReLU6): ASPP sees non-negative features, where LI at W_c = 0 is
        # exactly the identity, and the baseline sees the same features without it.
        self.neck = ConvBNReLU(c[3], config.neck, 1)
        self.aspp = ASPP(config.neck, config.aspp, config.rates, aspp, config.li_init)
        self.low = nn.Sequential(nn.Conv2d(c[1], config.low, 1, bias=False), nn.BatchNorm2d(config.low),
                                 nn.ReLU(True))
        self.decode = nn.Sequential(_separable(config.aspp + config.low, config.decoder),
                                    _separable(config.decoder, config.decoder))
        self.classify = nn.Conv2d(config.decoder, config.classes, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        f4 = self.stage4(self.stem(image))
        f8 = self.stage8d(self.stage8(f4))
        context = self.aspp(self.neck(f8))
        up = F.interpolate(context, size=f4.shape[-2:], mode="bilinear", align_corners=False)
        logits = self.classify(self.decode(torch.cat([up, self.low(f4)], dim=1)))
        return F.interpolate(logits, size=image.shape[-2:], mode="bilinear", align_corners=False)

    def li_layers(self) -> list[LateralInhibition]:
        return [m for m in self.modules() if isinstance(m, LateralInhibition)]

    def for_export(self) -> nn.Module:
        """The same function with each LI layer as a depthwise Conv + Relu (its kernel a constant)."""
        return freeze_lateral_inhibition(self).eval()


# --- config ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegNetConfig:
    width: int = 160
    """Base input width (px); the scene camera's 640×480 downscaled 4×. Any size runs; this is the one trained."""
    height: int = 120
    classes: int = 6
    li: LiVariant = "both"
    li_init: float = 0.15
    """W_c starts uniform in [0, li_init] (0: exactly the identity)."""
    channels: tuple[int, int, int, int] = field(default=(16, 24, 40, 64))
    """Widths of the stem and the stride-4, stride-8 and dilated stages."""
    expand: int = 4
    neck: int = 128
    aspp: int = 48
    rates: tuple[int, ...] = (2, 4, 6)
    low: int = 24
    decoder: int = 48

    def __post_init__(self) -> None:
        if self.li not in ("none", "aspp", "mnv2", "both"):
            raise ValueError(f"li must be none, aspp, mnv2 or both, got {self.li!r}")
        if self.width % 8 or self.height % 8:
            raise ValueError(f"the base input must be a multiple of 8, got {self.width}x{self.height}")

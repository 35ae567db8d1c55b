"""A small convolutional net whose MAT modules are its blocks (conv → batch norm → ReLU [→ pool]).

Freezing a block skips its weight gradient; freezing every block below the lowest trainable one also skips the
input gradients down there, because nothing below needs them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

ModuleGroups = dict[str, list[nn.Parameter]]


class ConvBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, pool: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(c_out)
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(torch.relu(self.norm(self.conv(x))))


class SmallConvNet(nn.Module):
    def __init__(self, cfg: ConvNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        widths = (cfg.channels, *cfg.widths)
        self.blocks = nn.ModuleList(
            ConvBlock(widths[i], widths[i + 1], pool=i in cfg.pool_after) for i in range(len(cfg.widths))
        )
        self.classifier = nn.Linear(cfg.widths[-1], cfg.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.classifier(x.mean(dim=(2, 3)))

    def mat_modules(self) -> ModuleGroups:
        """One module per block; the classifier always trains."""
        return {f"block{i}": list(block.parameters()) for i, block in enumerate(self.blocks)}


@dataclass(frozen=True)
class ConvNetConfig:
    channels: int = 1
    widths: tuple[int, ...] = (16, 32, 32, 64)
    pool_after: tuple[int, ...] = (1, 2)
    classes: int = 10

"""A tiny vision transformer whose attention heads are separate modules, for MAT.

In the usual ViT one ``qkv`` matrix holds every head. Freezing one head then is impossible without computing
the full weight gradient and discarding a slice of it, which saves nothing. Here each head owns its q/k/v
projection and its slice of the output projection (with its own bias; the heads' biases add up, a harmless
over-parameterisation), and the heads run in a loop. ``requires_grad_(False)`` on a head's parameters then
removes its weight-gradient products from the autograd graph. We chose parameter splitting over a masking hook
because a hook runs after the gradient has been computed, which is exactly the cost MAT wants to skip.

The layer norms carry no affine parameters: each norm feeds a linear layer that absorbs a per-channel scale
and shift (W(γ⊙x̂+β)+b = (W diag γ) x̂ + (Wβ+b)). An always-trainable γ in a block would otherwise force every
backward pass to reach that block, frozen modules above it or not.

Order as the paper's: head, attention, MLP, block, the model, its config.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from glance_train.mat.flops import MatMul

ModuleGroups = dict[str, list[nn.Parameter]]


class Head(nn.Module):
    def __init__(self, dim: int, head_dim: int) -> None:
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * head_dim)
        self.out = nn.Linear(head_dim, dim)
        self.scores = MatMul()
        self.mix = MatMul()
        self.scale = head_dim**-0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        attn = torch.softmax(self.scores(q * self.scale, k.transpose(-2, -1)), dim=-1)
        return self.out(self.mix(attn, v))


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} does not split into {heads} heads")
        self.heads = nn.ModuleList(Head(dim, dim // heads) for _ in range(heads))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.heads[0](x)
        for head in self.heads[1:]:
            out = out + head(x)
        return out


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(nn.functional.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_hidden: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False)
        self.mlp = Mlp(dim, mlp_hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, cfg: VitConfig) -> None:
        super().__init__()
        self.proj = nn.Conv2d(cfg.channels, cfg.dim, cfg.patch, stride=cfg.patch)
        tokens = (cfg.image_size // cfg.patch) ** 2 + 1
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.dim))
        self.pos = nn.Parameter(torch.randn(1, tokens, cfg.dim) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        patches = self.proj(x).flatten(2).transpose(1, 2)
        return torch.cat([self.cls.expand(len(x), -1, -1), patches], dim=1) + self.pos


class HeadSplitViT(nn.Module):
    def __init__(self, cfg: VitConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = PatchEmbed(cfg)
        hidden = cfg.dim * cfg.mlp_ratio
        self.blocks = nn.ModuleList(Block(cfg.dim, cfg.heads, hidden) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.dim, elementwise_affine=False)
        self.classifier = nn.Linear(cfg.dim, cfg.classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for block in self.blocks:
            h = block(h)
        return self.classifier(self.norm(h[:, 0]))

    def mat_modules(self) -> ModuleGroups:
        """MAT's modules: every attention head (as in the paper), each block's MLP and the patch embedding.

        The MLPs and the embedding are modules too because in a ViT this small they hold most of the FLOPs;
        the classifier is left out and always trains (it is tiny and every module's learning goes through it).
        """
        groups: ModuleGroups = {"embed": list(self.embed.parameters())}
        for b, block in enumerate(self.blocks):
            for h, head in enumerate(block.attn.heads):
                groups[f"block{b}.head{h}"] = list(head.parameters())
            groups[f"block{b}.mlp"] = list(block.mlp.parameters())
        return groups


@dataclass(frozen=True)
class VitConfig:
    image_size: int = 8
    patch: int = 2
    channels: int = 1
    dim: int = 32
    depth: int = 2
    heads: int = 4
    mlp_ratio: int = 2
    classes: int = 10

"""Counting the FLOPs a training step really spends, forward and backward, with forward hooks.

Counted layers: ``nn.Linear``, ``nn.Conv2d`` and :class:`MatMul` (activation × activation products such as
attention scores); they hold all but a few percent of the arithmetic in the models here. Element-wise work
(activations, softmax, norms, the optimiser update) is left out for every method alike.

The backward pass of a layer does up to two products, each costing what the forward product cost:
- the input gradient (dX), only if the layer's input requires grad (something upstream trains);
- the weight gradient (dW), only if the layer's weight requires grad (the layer trains).
PyTorch's autograd honours exactly these conditions (``output_mask`` in the linear and convolution backward),
so recording ``requires_grad`` at forward time gives the FLOPs the following ``backward()`` will spend; a
module frozen by MAT costs nothing in dW, and nothing in dX when no trainable parameter lies below it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle


class MatMul(nn.Module):
    """``a @ b`` as a module so that :class:`FlopCounter` sees it (attention scores and mixing)."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a @ b


@dataclass
class Tally:
    forward: float = 0.0
    backward: float = 0.0
    """What one ``backward()`` through the graph of the forward passes since the last ``take`` will cost."""

    def __iadd__(self, other: Tally) -> Tally:
        self.forward += other.forward
        self.backward += other.backward
        return self


class FlopCounter:
    """Forward hooks on every counted layer, tallied per section ("train" unless a ``section`` is open).

    ``take(section)`` returns and resets that section's tally; MAT's probe counts in its own section, so a
    trainer's counter and the probe never mix their FLOPs.
    """

    def __init__(self, model: nn.Module) -> None:
        self._tallies: dict[str, Tally] = {}
        self._section = "train"
        self._paused = False
        self._handles: list[RemovableHandle] = []
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d, MatMul)):
                self._handles.append(module.register_forward_hook(self._hook))

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        previous, self._section = self._section, name
        try:
            yield
        finally:
            self._section = previous

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Count nothing (forward passes whose cost the caller charges itself, e.g. under ``vmap``)."""
        previous, self._paused = self._paused, True
        try:
            yield
        finally:
            self._paused = previous

    def take(self, section: str = "train") -> Tally:
        return self._tallies.pop(section, Tally())

    def close(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def _hook(self, module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        if self._paused:
            return
        tally = self._tallies.setdefault(self._section, Tally())
        fwd = _forward_flops(module, inputs, output)
        tally.forward += fwd
        if not torch.is_grad_enabled():
            return  # evaluation: no backward will follow
        if isinstance(module, MatMul):
            tally.backward += fwd * (int(inputs[0].requires_grad) + int(inputs[1].requires_grad))
        else:
            tally.backward += fwd * (int(inputs[0].requires_grad) + int(module.weight.requires_grad))


def _forward_flops(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> float:
    """Multiply-adds × 2 of the layer's main product (bias additions are negligible and left out)."""
    if isinstance(module, nn.Linear):
        return 2.0 * output.numel() * module.in_features
    if isinstance(module, nn.Conv2d):
        k = module.kernel_size[0] * module.kernel_size[1]
        return 2.0 * output.numel() * (module.in_channels // module.groups) * k
    if isinstance(module, MatMul):
        return 2.0 * output.numel() * inputs[0].shape[-1]
    raise TypeError(type(module).__name__)


def full_backward_flops(model: nn.Module, sample: torch.Tensor) -> Tally:
    """FLOPs of one forward and of full back-propagation (every parameter trains) on ``sample``.

    MAT's saving is reported against this: steps × batch × per-sample full backward − what was spent.
    """
    saved = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in saved:
        p.requires_grad_(True)
    counter = FlopCounter(model)
    try:
        was_training = model.training
        model.eval()  # no batch-norm statistics update for a counting pass
        with torch.enable_grad():
            model(sample)
        model.train(was_training)
        return counter.take()
    finally:
        counter.close()
        for p, flag in saved:
            p.requires_grad_(flag)

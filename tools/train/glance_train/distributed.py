"""DistributedDataParallel on one machine: worker processes, a rendezvous, and the rank-0 helpers.

Elsewhere (several GPUs or machines) start the train script with ``torchrun --nproc_per_node N``: a
worker then finds ``RANK``/``WORLD_SIZE``/``MASTER_ADDR`` in its environment and joins through ``env://``.
Debian's torch 1.13 on Python 3.11 ships a ``torchrun`` whose elastic agent fails before any worker starts,
so ``launch`` starts the workers itself with ``torch.multiprocessing`` and a ``tcp://127.0.0.1:PORT``
rendezvous; DDP itself (gloo, CPU) works there. With GPUs each worker takes one (nccl); without, gloo.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


@dataclass(frozen=True)
class WorkerContext:
    rank: int
    world_size: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def device(self) -> torch.device:
        """This worker's GPU where there are GPUs (one per local rank), else the CPU."""
        if not torch.cuda.is_available():
            return torch.device("cpu")
        local = int(os.environ.get("LOCAL_RANK", self.rank))
        return torch.device("cuda", local % torch.cuda.device_count())


def backend() -> str:
    return "nccl" if torch.cuda.is_available() else "gloo"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(
    rank: int, world_size: int, init_method: str, fn: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    dist.init_process_group(backend(), init_method=init_method, rank=rank, world_size=world_size)
    try:
        fn(WorkerContext(rank, world_size), *args)
    finally:
        dist.destroy_process_group()


def launch(fn: Callable[..., Any], world_size: int, args: tuple[Any, ...] = ()) -> None:
    """Run ``fn(ctx, *args)`` in ``world_size`` processes joined into one gloo process group.

    One worker runs in this process without a process group. Under ``torchrun`` (``WORLD_SIZE`` set) this
    process is already one of the workers and joins through ``env://``. Arguments must pickle: spawned
    workers start fresh interpreters (forking a process that has run OpenMP threads can hang).
    """
    if "WORLD_SIZE" in os.environ and "RANK" in os.environ:
        _worker(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), "env://", fn, args)
        return
    if world_size <= 1:
        fn(WorkerContext(0, 1), *args)
        return
    init = f"tcp://127.0.0.1:{free_port()}"
    mp.spawn(_worker, args=(world_size, init, fn, args), nprocs=world_size, join=True)


def is_secondary_rank() -> bool:
    """True in a torchrun worker other than rank 0: it trains, but leaves testing and export to rank 0."""
    return os.environ.get("RANK", "0") != "0"


def broadcast_flag(ctx: WorkerContext, value: bool) -> bool:
    """Rank 0's decision (e.g. early stopping) made known to every worker."""
    if not ctx.distributed:
        return value
    t = torch.tensor([1 if value else 0], dtype=torch.int64, device=ctx.device)
    dist.broadcast(t, src=0)
    return bool(t.item())


def threads_per_worker(requested: int, world_size: int) -> int:
    return requested if requested > 0 else max(1, (os.cpu_count() or 1) // world_size)

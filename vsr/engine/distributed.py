"""Multi-process training launched by ``torchrun``: gloo on CPU, nccl on CUDA.

Gradients are synchronised by ``DistributedDataParallel``, one wrapper per trainable network
(each network's ``forward`` computes a whole training clip, see ``vsr.models.base``), so the
bucketed all-reduce overlaps the backward pass. The helpers here cover what DDP does not: the
mean of logged scalars, decisions every rank must take alike, and the end-of-run check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device_type: str) -> DistInfo:
    """Join the process group when started by torchrun (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    info = DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    if device_type == "cuda":
        torch.cuda.set_device(info.local_rank)
    return info


def _active() -> bool:
    return dist.is_initialized() and dist.get_world_size() > 1


def wrap_ddp(module: nn.Module, device: torch.device,
             find_unused_parameters: bool = False) -> nn.Module:
    """``module`` in DistributedDataParallel when running on several ranks, else as it is.
    Buffers (BatchNorm statistics) are broadcast from rank 0 at every forward, as DDP does."""
    if not _active():
        return module
    device_ids = [device.index] if device.type == "cuda" else None
    # gradients as views of DDP's buckets: no copy into and out of the all-reduce buffers
    return DistributedDataParallel(module, device_ids=device_ids,
                                   find_unused_parameters=find_unused_parameters,
                                   gradient_as_bucket_view=True)


def mean_over_ranks(values: torch.Tensor) -> torch.Tensor:
    """``values`` averaged over ranks (a copy; unchanged on one process)."""
    out = values.detach().clone()
    if _active():
        dist.all_reduce(out)
        out /= dist.get_world_size()
    return out


def all_ranks(flag: bool) -> bool:
    """Whether ``flag`` holds on every rank; every rank gets the same answer."""
    if not _active():
        return bool(flag)
    value = torch.tensor([1.0 if flag else 0.0], dtype=torch.float64)
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value.item() == 1.0)


def broadcast_state(module: nn.Module, buffers_only: bool = False) -> None:
    """Every rank takes rank 0's weights and buffers (or only its buffers)."""
    if not _active():
        return
    tensors = (module.buffers() if buffers_only else module.state_dict().values())
    for tensor in tensors:
        dist.broadcast(tensor, src=0)


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def cleanup() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def max_rank_difference(tensors: list[torch.Tensor]) -> float:
    """Largest |difference| of any element between ranks (0.0 when every rank holds the same)."""
    floats = [t.detach().reshape(-1).double().cpu() for t in tensors if t.is_floating_point()]
    if not _active() or not floats:
        return 0.0
    flat = torch.cat(floats)
    high, low = flat.clone(), flat.clone()
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    return (high - low).abs().max().item()

"""BatchNorm with statistics over the global batch of all ranks, on any backend.

torch's ``SyncBatchNorm`` runs on GPUs only; this one reduces per-channel sums with the
differentiable all-reduce of ``torch.distributed.nn``, so gloo (CPU) and nccl both work and a
2-rank run computes what one process computes on the concatenated batch. State-dict keys are
BatchNorm's, so checkpoints and released weights load either way.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.distributed.nn.functional import all_reduce
from torch.nn.modules.batchnorm import _BatchNorm


class GlobalBatchNorm(_BatchNorm):
    """Drop-in for BatchNorm1d/2d/3d whose training statistics span every rank."""

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input, got {input.dim()}D")

    def forward(self, x: Tensor) -> Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        dims = [0, *range(2, x.dim())]
        count = torch.tensor([x.numel() / x.shape[1]], dtype=torch.float64, device=x.device)
        sums = all_reduce(torch.cat([x.sum(dims, dtype=torch.float64),
                                     (x * x).sum(dims, dtype=torch.float64), count]))
        channels = x.shape[1]
        total = sums[-1]
        mean = sums[:channels] / total
        var = sums[channels:2 * channels] / total - mean * mean
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = (1.0 / self.num_batches_tracked.item() if self.momentum is None
                            else self.momentum)
                unbiased = var * total / max(total.item() - 1, 1)
                self.running_mean.lerp_(mean.to(self.running_mean.dtype), momentum)
                self.running_var.lerp_(unbiased.to(self.running_var.dtype), momentum)
        shape = [1, channels] + [1] * (x.dim() - 2)
        scale = torch.rsqrt(var + self.eps).to(x.dtype)
        y = (x - mean.to(x.dtype).view(shape)) * scale.view(shape)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y


def convert_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm inside ``module`` (in place) by a ``GlobalBatchNorm`` holding the
    same parameters and buffers; returns ``module`` (or the replacement if it is one)."""
    if isinstance(module, _BatchNorm) and not isinstance(module, GlobalBatchNorm):
        new = GlobalBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                              module.track_running_stats)
        new.load_state_dict(module.state_dict())
        return new.train(module.training)
    for name, child in module.named_children():
        replaced = convert_batchnorm(child)
        if replaced is not child:
            setattr(module, name, replaced)
    return module

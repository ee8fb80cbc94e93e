"""Optimizers and per-iteration LR schedules built from config, with per-parameter-group LR
multipliers and freezes selected by a regex on parameter names."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import torch
from torch import nn

from vsr.config.experiment import OptimizerCfg, SchedulerCfg

_OPTIMIZERS = {"Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW}


def group_parameters(
    named: list[tuple[str, nn.Parameter]], cfg: OptimizerCfg
) -> list[dict]:
    """Split parameters into groups: the first matching ``param_groups`` pattern wins, the rest
    form the default group. Each group carries its ``lr_mult`` and ``frozen_iters``."""
    patterns = [re.compile(g.pattern) for g in cfg.param_groups]
    buckets: list[list[nn.Parameter]] = [[] for _ in cfg.param_groups]
    default: list[nn.Parameter] = []
    for name, param in named:
        for i, pattern in enumerate(patterns):
            if pattern.search(name):
                buckets[i].append(param)
                break
        else:
            default.append(param)
    groups = [{"params": default, "lr": cfg.lr, "lr_mult": 1.0, "frozen_iters": 0}]
    for group_cfg, params in zip(cfg.param_groups, buckets):
        if not params:
            raise ValueError(f"param_groups pattern {group_cfg.pattern!r} matches no parameter")
        groups.append({"params": params, "lr": cfg.lr * group_cfg.lr_mult,
                       "lr_mult": group_cfg.lr_mult, "frozen_iters": group_cfg.frozen_iters})
    return [g for g in groups if g["params"]]


def build_optimizer(named: list[tuple[str, nn.Parameter]], cfg: OptimizerCfg):
    if not named:
        raise ValueError("optimizer has no trainable parameters")
    groups = group_parameters(named, cfg)
    return _OPTIMIZERS[cfg.type](groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps,
                                 weight_decay=cfg.weight_decay)


def lr_factor(cfg: SchedulerCfg, total_iters: int, peak_ratio: float = 1.0
              ) -> Callable[[int], float]:
    """Factor of the base LR at (0-based) iteration ``it``; ``peak_ratio`` is a cyclic
    schedule's ``max_lr`` over the base LR."""
    period = cfg.period or total_iters

    def factor(it: int) -> float:
        if cfg.warmup_iters and it < cfg.warmup_iters:
            return (it + 1) / cfg.warmup_iters
        pos = it - cfg.warmup_iters
        if cfg.type == "multistep":
            return cfg.gamma ** sum(it >= m for m in cfg.milestones)
        if cfg.type == "cosine":
            pos = pos % period if cfg.restarts else min(pos, period)
            cos = 0.5 * (1 + math.cos(math.pi * pos / period))
            return cfg.eta_min_ratio + (1 - cfg.eta_min_ratio) * cos
        if cfg.type == "cyclic":
            triangle = 1 - abs(2 * (pos % period) / period - 1)
            return 1 + (peak_ratio - 1) * triangle
        return 1.0

    return factor


def build_scheduler(optimizer, cfg: SchedulerCfg | None, total_iters: int,
                    key: str = "train.schedulers"):
    """One LambdaLR over the optimizer's groups (each frozen for its ``frozen_iters``)."""
    cfg = cfg or SchedulerCfg()
    if cfg.type == "cyclic" and (cfg.max_lr is None or not cfg.period or cfg.period < 2):
        raise ValueError(f"{key}: a cyclic schedule needs max_lr and a period of at least 2 "
                         f"iterations, got max_lr={cfg.max_lr}, period={cfg.period}")
    first = optimizer.param_groups[0]
    base_lr = first["lr"] / first["lr_mult"]  # the optimizer's configured lr
    base = lr_factor(cfg, total_iters, (cfg.max_lr or base_lr) / base_lr)

    def for_group(group: dict) -> Callable[[int], float]:
        frozen = group["frozen_iters"]
        return lambda it: 0.0 if it < frozen else base(it)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, [for_group(g) for g in
                                                         optimizer.param_groups])

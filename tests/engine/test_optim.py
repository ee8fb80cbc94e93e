"""LR schedules, parameter groups by name pattern, and EMA."""

import math

import pytest
import torch
from torch import nn

from vsr.config.experiment import OptimizerCfg, ParamGroupCfg, SchedulerCfg
from vsr.engine.ema import EMA
from vsr.engine.optim import build_optimizer, build_scheduler, lr_factor


def test_warmup_then_multistep():
    f = lr_factor(SchedulerCfg(type="multistep", warmup_iters=4, milestones=[10, 20],
                               gamma=0.5), 30)
    assert [f(i) for i in (0, 3)] == [0.25, 1.0]
    assert [f(i) for i in (9, 10, 19, 20, 29)] == [1.0, 0.5, 0.5, 0.25, 0.25]


def test_cosine_with_floor_and_restarts():
    f = lr_factor(SchedulerCfg(type="cosine", eta_min_ratio=0.1), 100)
    assert f(0) == pytest.approx(1.0)
    assert f(50) == pytest.approx(0.1 + 0.9 * 0.5)
    assert f(100) == pytest.approx(0.1)
    g = lr_factor(SchedulerCfg(type="cosine", period=10, restarts=True), 100)
    assert g(10) == pytest.approx(1.0) and g(5) == pytest.approx(0.5)
    assert g(15) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))


def test_param_groups_by_pattern_with_multiplier_and_freeze():
    net = nn.ModuleDict({"spynet": nn.Linear(2, 2), "body": nn.Linear(2, 2)})
    cfg = OptimizerCfg(lr=1e-3, param_groups=[ParamGroupCfg("^spynet", lr_mult=0.25,
                                                            frozen_iters=2)])
    opt = build_optimizer(list(net.named_parameters()), cfg)
    sched = build_scheduler(opt, SchedulerCfg(), 10)
    assert [len(g["params"]) for g in opt.param_groups] == [2, 2]
    lrs = []
    for _ in range(3):
        lrs.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    assert lrs == [[1e-3, 0.0], [1e-3, 0.0], [1e-3, 0.25e-3]]


def test_pattern_matching_nothing_is_an_error():
    net = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="matches no parameter"):
        build_optimizer(list(net.named_parameters()),
                        OptimizerCfg(lr=1e-3, param_groups=[ParamGroupCfg("nope")]))


def test_ema_update():
    net = nn.Linear(1, 1, bias=False)
    nn.init.constant_(net.weight, 1.0)
    ema = EMA(net, decay=0.9, start_iter=2)
    nn.init.constant_(net.weight, 3.0)
    ema.update(net, 1)  # before start_iter: copy
    assert ema.net.weight.item() == pytest.approx(3.0)
    nn.init.constant_(net.weight, 13.0)
    ema.update(net, 2)
    assert ema.net.weight.item() == pytest.approx(0.9 * 3 + 0.1 * 13)
    assert not ema.net.weight.requires_grad
    assert torch.equal(net.weight, torch.full((1, 1), 13.0))


def test_cyclic_is_triangular_between_lr_and_max_lr():
    """VSRNet's recipe: up from lr to max_lr over half a period, back down over the other."""
    net = nn.Linear(2, 2)
    opt = build_optimizer(list(net.named_parameters()), OptimizerCfg(lr=1e-4))
    sched = build_scheduler(opt, SchedulerCfg(type="cyclic", max_lr=1e-3, period=8), 100)
    lrs = []
    for _ in range(17):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    expected = [1e-4 + 9e-4 * (1 - abs(i % 8 / 4 - 1)) for i in range(17)]
    assert lrs == pytest.approx(expected, rel=1e-12)
    assert lrs[4] == pytest.approx(1e-3) and lrs[8] == pytest.approx(1e-4)


def test_cyclic_without_max_lr_names_the_key():
    opt = build_optimizer(list(nn.Linear(1, 1).named_parameters()), OptimizerCfg(lr=1e-4))
    with pytest.raises(ValueError, match="train.schedulers.g: a cyclic schedule needs max_lr"):
        build_scheduler(opt, SchedulerCfg(type="cyclic", period=8), 10, "train.schedulers.g")


def test_ema_shares_frozen_parts_and_saves_only_what_it_averages():
    from vsr.archs.pretrained import freeze

    net = nn.Sequential(nn.Linear(2, 2), freeze(nn.Linear(2, 2)))
    ema = EMA(net, decay=0.5)
    assert ema.net[1] is net[1]  # not copied
    assert ema.net[0] is not net[0]
    assert sorted(ema.state_dict()) == ["0.bias", "0.weight"]
    net.train()
    assert not net[1].training and not any(p.requires_grad for p in net[1].parameters())

"""Frozen pretrained parts of an arch (FlowNet2-SD in VSRNet, SpyNet in RVRT, VGG19 in TecoGAN's
loss): loaded from a local file the config names, never downloaded, never trained.

A frozen module keeps ``requires_grad`` off and stays in eval mode when its parent trains, so the
engine leaves it out of every optimizer and of the EMA average, and a checkpoint holds it once.
"""

from __future__ import annotations

import os
import types

from torch import nn

from vsr.io.weights import foreign_state_dict, load_state_strict, read_weights_file

_FROZEN = "_vsr_frozen"


def _stay_in_eval(self: nn.Module, mode: bool = True) -> nn.Module:
    return nn.Module.train(self, False)


def freeze(module: nn.Module) -> nn.Module:
    """Mark ``module`` frozen: no gradients, eval mode for good (BatchNorm and dropout too)."""
    module.requires_grad_(False)
    module.train = types.MethodType(_stay_in_eval, module)
    setattr(module, _FROZEN, True)
    return module.train()


def load_frozen(module: nn.Module, path: str | os.PathLike | None) -> nn.Module:
    """``module`` with the weights of ``path`` (a release's layout, unwrapped as
    ``foreign_state_dict`` does), frozen; without a path only frozen (tests, shapes)."""
    if path is not None:
        load_state_strict(module, foreign_state_dict(read_weights_file(path)), path)
    return freeze(module)


def is_frozen(module: nn.Module) -> bool:
    return getattr(module, _FROZEN, False)


def frozen_prefixes(net: nn.Module) -> list[str]:
    """State-dict prefixes (``"flownet."``) of the frozen modules inside ``net``."""
    return [f"{name}." if name else "" for name, m in net.named_modules() if is_frozen(m)]


def is_frozen_key(key: str, prefixes: list[str]) -> bool:
    return any(key.startswith(p) for p in prefixes)

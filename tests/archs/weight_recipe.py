"""The seeded weight recipe of the parity fixtures (fixtures/parity/README.md §0), for any model.

Every model fixture lists ``[key, shape, dtype, rule]`` in the original ``state_dict()`` order;
rebuilding the weights from that list alone keeps the fixtures free of weight blobs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor


def _random_entry(index: int, shape: Sequence[int], base: str) -> Tensor:
    """The seeded random tensor of entry ``index`` shaped by the rule's ``base``."""
    generator = torch.Generator().manual_seed(1000 + index)
    w = torch.randn(list(shape), generator=generator)
    if base == "fan_in":
        return w / math.sqrt(float(math.prod(shape[1:])))
    if base == "bias":
        return 0.01 * w
    if base == "norm_weight":
        return 1 + 0.1 * w
    if base == "running_mean":
        return 0.1 * w
    if base == "running_var":
        return 1 + 0.1 * w.abs()
    if base == "prelu":
        return 0.25 + 0.01 * w
    raise ValueError(f"unknown weight rule '{base}'")


def recipe_state_dict(
    state_dict_keys: Sequence[Sequence],
    *,
    own: Mapping[str, Tensor] | None = None,
    const_buffers: Mapping[str, Tensor] | None = None,
    real_weights: Mapping[str, Tensor] | None = None,
    prefix: str = "",
) -> dict[str, Tensor]:
    """Weights under the original key names (with ``prefix`` prepended).

    ``own`` is the module's own state dict (source of ``keep_int`` buffers), ``const_buffers`` the
    fixture's ``const_buffers`` (``keep_const``) and ``real_weights`` the checkpoint values
    (``real_weights``).
    """
    sources = {"keep_int": own, "keep_const": const_buffers, "real_weights": real_weights}
    weights = {}
    for index, (key, shape, dtype, rule) in enumerate(state_dict_keys):
        base, *factors = rule.split("*")
        if base in sources:
            source = sources[base]
            if source is None or key not in source:
                raise KeyError(f"recipe entry '{key}' ({base}) needs a value that was not given")
            weights[prefix + key] = source[key].clone()
            continue
        w = _random_entry(index, shape, base)
        for factor in factors:
            w = w * float(factor)
        weights[prefix + key] = w.to(getattr(torch, dtype))
    return weights

"""The RVRT fixtures' recipe weights (fixtures/parity/README.md §0, §7): one 504-entry state dict
serves rvrt_full, rvrt_blocks, rvrt_gda_inputs and (its ``spynet.*`` part) spynet."""

from __future__ import annotations

from functools import lru_cache

from torch import Tensor

from tests.archs.weight_recipe import recipe_state_dict
from tests.conftest import load_fixture


@lru_cache(maxsize=1)
def _full_fixture() -> dict:
    return load_fixture("rvrt_full.pt")


def rvrt_recipe_weights() -> dict[str, Tensor]:
    """The whole RVRT state dict under the release's key names; ``relative_position_index``
    buffers (``keep_int``) are the fixture's stored ones, one per window size."""
    fixture = _full_fixture()
    stored = {n: fixture[f"relative_position_index_{n}"] for n in (64, 128)}
    own = {key: stored[shape[0]] for key, shape, _, rule in fixture["state_dict_keys"]
           if rule == "keep_int"}
    return recipe_state_dict(fixture["state_dict_keys"], own=own,
                             const_buffers=fixture["const_buffers"])


def sub_state(weights: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """The entries under ``prefix`` with the prefix removed."""
    return {k.removeprefix(prefix): v for k, v in weights.items() if k.startswith(prefix)}

"""Turn a ``{type: Name, **params}`` degradation spec into a callable ``hr -> lr``.

``Registry.build`` would call the registered function and so apply it; datasets need the
function with its parameters bound instead, to apply to every clip they read.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

from torch import Tensor

from vsr.config.loader import Provenance
from vsr.config.schema import check_spec
from vsr.registry import DEGRADATIONS

Degradation = Callable[[Tensor], Tensor]
# A ``{type: Name, **params}`` spec (or a bare name); configs check it against the function.
DegradationSpec = Annotated[dict, DEGRADATIONS] | str


def make_degradation(spec: dict[str, Any] | str, **defaults: Any) -> Degradation:
    """Bind a spec's parameters to its registered degradation function.

    ``defaults`` (e.g. the dataset's ``scale``) fill parameters the spec leaves out, but only
    those the function accepts; a spec value that contradicts a default is an error, since a
    dataset whose LR scale differs from its declared scale would train silently wrong. The spec
    is checked like a config's (a dataset built in code gets the same errors: ``sigma: 0``).
    """
    spec = check_spec(spec, DEGRADATIONS, "degradation", Provenance({"": "degradation spec"}))
    fn = DEGRADATIONS.get(spec["type"])
    params = {k: v for k, v in spec.items() if k != "type"}
    accepted = inspect.signature(fn).parameters
    for name, value in defaults.items():
        if name in params and params[name] != value:
            raise ValueError(
                f"degradation {spec['type']} has {name}={params[name]} but the dataset uses "
                f"{name}={value}"
            )
        if name in accepted:
            params[name] = value
    return functools.partial(fn, **params)

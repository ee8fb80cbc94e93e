"""Typed validation of configs: dataclass schemas for the fixed sections, constructor signatures
for everything built from the registries.

``{type: Name, ...}`` specs are checked against the registered class or function: unknown keyword,
missing required argument, and (for annotated parameters) the value's type. A parameter annotated
``Annotated[dict, SOME_REGISTRY]`` is itself a spec and is checked recursively, so
``model.arch.num_blocks`` is validated like any top-level key. A parameter annotated
``Annotated[int, Positive]`` (or another ``Check``) must also pass that check, so a nonsense value
(``checkpoint.every: 0``, a blur ``sigma: -1``) is rejected at load time with its key.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from vsr.config.data_root import DataPath, data_root, resolve_data_path
from vsr.config.loader import ConfigError, Provenance
from vsr.registry import Registry, RegistryError


@dataclass(frozen=True)
class LocalFile:
    """Marks a parameter that names a local file which must exist when the config is loaded, e.g.
    ``Annotated[str | None, LocalFile("pretrained FlowNet2-SD weights")]``: vsr downloads
    nothing, so a missing file is reported at once with the config key that names it (unless
    the config is loaded with ``check_paths=False``, as dataset paths are)."""

    what: str


@dataclass(frozen=True)
class Check:
    """A condition on a checked value, used as ``Annotated[int, Positive]``."""

    expected: str
    holds: Callable[[Any], bool]


Positive = Check("a value > 0", lambda v: v > 0)
NonNegative = Check("a value >= 0", lambda v: v >= 0)
PlainName = Check("a plain name (no '/', '\\' or '..')",
                  lambda v: bool(v) and not {"/", "\\"} & set(v) and ".." not in v)
PositiveInt = Annotated[int, Positive]
NonNegativeInt = Annotated[int, NonNegative]
PositiveFloat = Annotated[float, Positive]
NonNegativeFloat = Annotated[float, NonNegative]

# YAML 1.1 (PyYAML) reads ``1e-3`` as a string: a float needs a dot there. Where the schema wants
# a float, a string spelled as a decimal number is that number.
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class MissingDataPath(ConfigError):
    """A dataset path that does not exist: never swallowed by a union's other arms."""


def _fail(prov: Provenance, dotted: str, message: str) -> ConfigError:
    return ConfigError(f"{prov.source_of(dotted)}: '{dotted}': {message}")


def _checks_paths(prov: Provenance) -> bool:
    """Whether paths named by the config must exist now (``check_paths`` of the loader)."""
    return getattr(prov, "check_paths", True)


def _data_path(value: Any, dotted: str, prov: Provenance) -> Any:
    """A dataset path resolved under the data root; with ``prov.check_paths`` it must exist."""
    if not isinstance(value, (str, os.PathLike)):
        return value
    root, source = getattr(prov, "data_root", None) or data_root()
    path = resolve_data_path(value, root)
    if _checks_paths(prov) and not path.exists():
        raise MissingDataPath(
            f"{prov.source_of(dotted)}: '{dotted}': no such file or folder: {path} (a relative "
            f"path is read under the data root {root}, from {source}; set VSR_DATA or data_root:, "
            f"or start the path with ./ to read it from the current directory)")
    return str(path)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _takes_mapping(tp: Any) -> bool:
    if get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    return tp is dict or get_origin(tp) is dict or dataclasses.is_dataclass(tp)


def check_value(value: Any, tp: Any, dotted: str, prov: Provenance) -> Any:
    """Check ``value`` against type ``tp``; returns the value (dataclasses built, ints widened)."""
    if tp is Any or tp is inspect.Parameter.empty:
        return value
    origin = get_origin(tp)
    if origin is typing.Annotated:
        base, *extras = get_args(tp)
        registry = next((e for e in extras if isinstance(e, Registry)), None)
        if registry is not None:
            return check_spec(value, registry, dotted, prov)
        if any(isinstance(e, DataPath) for e in extras):
            value = _data_path(value, dotted, prov)
        local = next((e for e in extras if isinstance(e, LocalFile)), None)
        if (local is not None and value is not None and _checks_paths(prov)
                and not Path(str(value)).is_file()):
            raise _fail(prov, dotted, f"{local.what} not found: {value} (nothing is downloaded: "
                                      f"place the file there or point this key to it)")
        value = check_value(value, base, dotted, prov)
        for check in (e for e in extras if isinstance(e, Check)):
            if not check.holds(value):
                raise _fail(prov, dotted, f"expected {check.expected}, got {value!r}")
        return value
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if value is None and type(None) in options:
            return None
        concrete = [o for o in options if o is not type(None)]
        if isinstance(value, dict):  # a mapping can only be meant for a mapping-shaped arm
            concrete = [o for o in concrete if _takes_mapping(o)] or concrete
        if len(concrete) == 1:  # then that arm's own, precise error
            return check_value(value, concrete[0], dotted, prov)
        for option in concrete:
            try:
                return check_value(value, option, dotted, prov)
            except MissingDataPath:
                raise
            except ConfigError:
                continue
        names = " or ".join(_type_name(a) for a in get_args(tp))
        raise _fail(prov, dotted, f"expected {names}, got {value!r}")
    if tp is type(None):
        if value is None:
            return None
        raise _fail(prov, dotted, f"expected null, got {value!r}")
    if origin is Literal:
        if value in get_args(tp):
            return value
        choices = ", ".join(repr(a) for a in get_args(tp))
        raise _fail(prov, dotted, f"expected one of {choices}, got {value!r}")
    if dataclasses.is_dataclass(tp):
        return build_dataclass(tp, value, dotted, prov)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise _fail(prov, dotted, f"expected a list, got {value!r}")
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise _fail(prov, dotted, f"expected {len(args)} items, got {len(value)}")
            return tuple(check_value(v, a, f"{dotted}.{i}", prov) for i, (v, a) in
                         enumerate(zip(value, args)))
        item = args[0] if args else Any
        checked = [check_value(v, item, f"{dotted}.{i}", prov) for i, v in enumerate(value)]
        return tuple(checked) if origin is tuple else checked
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail(prov, dotted, f"expected a mapping, got {value!r}")
        _, item = get_args(tp) or (str, Any)
        return {k: check_value(v, item, f"{dotted}.{k}", prov) for k, v in value.items()}
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
            return float(value)
        raise _fail(prov, dotted, f"expected a number, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _fail(prov, dotted, f"expected an integer, got {value!r}")
    if tp in (str, bool, dict, list):
        if isinstance(value, tp):
            return value
        raise _fail(prov, dotted, f"expected {_type_name(tp)}, got {value!r}")
    return value


def check_spec(spec: Any, registry: Registry, dotted: str, prov: Provenance) -> dict:
    """Validate ``{type: Name, **kwargs}`` against the registered constructor's signature."""
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict) or "type" not in spec:
        raise _fail(prov, dotted, f"expected a {{type: ...}} {registry.kind} spec, got {spec!r}")
    try:
        target = registry.get(spec["type"])
    except RegistryError as exc:
        raise _fail(prov, f"{dotted}.type", str(exc)) from None
    is_class = inspect.isclass(target)
    func = target.__init__ if is_class else target
    signature = inspect.signature(func)
    try:
        hints = get_type_hints(func, include_extras=True)
    except Exception:  # unresolvable annotations: fall back to names only
        hints = {}
    params = [p for p in signature.parameters.values() if p.name != "self"]
    if not is_class:  # a registered function (a degradation): its first argument is the data
        params = params[1:]
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in params)
    named = {p.name: p for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    # a class taking **kwargs may name the dataclass that describes them (e.g. a metric Protocol)
    kwargs_schema = getattr(target, "kwargs_schema", None)
    extra: dict = {}
    out = {"type": spec["type"]}
    for key, value in spec.items():
        if key == "type":
            continue
        if key not in named and kwargs_schema is not None:
            extra[key] = value
            continue
        if key not in named:
            if accepts_any:
                out[key] = value
                continue
            close = ", ".join(sorted(named)) or "none"
            raise _fail(prov, f"{dotted}.{key}",
                        f"unknown key for {registry.kind} '{spec['type']}' (accepted: {close})")
        out[key] = check_value(value, hints.get(key, Any), f"{dotted}.{key}", prov)
    if extra:
        checked = build_dataclass(kwargs_schema, extra, dotted, prov)
        out.update({k: getattr(checked, k) for k in extra})
    for name, param in named.items():
        # functions get some arguments from their caller (a dataset passes ``scale``)
        if is_class and param.default is inspect.Parameter.empty and name not in out:
            raise _fail(prov, f"{dotted}.{name}",
                        f"missing required value for {registry.kind} '{spec['type']}'")
    return out


def build_dataclass(cls: type, data: Any, dotted: str, prov: Provenance) -> Any:
    """Build dataclass ``cls`` from a mapping, rejecting unknown keys and missing required ones."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _fail(prov, dotted or "<root>", f"expected a mapping, got {data!r}")
    hints = get_type_hints(cls, include_extras=True)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        sub = f"{dotted}.{key}" if dotted else str(key)
        if key not in fields:
            raise _fail(prov, sub, f"unknown key (accepted: {', '.join(sorted(fields))})")
        kwargs[key] = check_value(value, hints[key], sub, prov)
    for name, field in fields.items():
        if name in kwargs:
            continue
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            sub = f"{dotted}.{name}" if dotted else name
            raise _fail(prov, sub, "missing required value")
    return cls(**kwargs)


def to_dict(obj: Any) -> Any:
    """A validated config back to plain YAML-able data."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    return obj

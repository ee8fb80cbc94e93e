"""YAML configs: ``_base_`` inheritance (deep merge), dotted command-line overrides, provenance.

Every leaf remembers which file (or the command line) set it, so a validation error can name the
file and the dotted key. Values are parsed with ``yaml.safe_load`` only; nothing is evaluated.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from vsr.errors import VSRError


class ConfigError(VSRError, ValueError):
    """A config that cannot be loaded or does not match its schema."""


class Provenance(dict):
    """Maps dotted keys to the source (file path or 'command line') that last set them."""

    def source_of(self, dotted: str) -> str:
        key = dotted
        while key:
            if key in self:
                return self[key]
            key = key.rpartition(".")[0]
        return self.get("", "<config>")


def _record(prov: Provenance, data: Any, prefix: str, source: str) -> None:
    """``data`` replaces whatever was at ``prefix``: its keys, and only its keys, come from
    ``source`` (a base's keys under a replaced mapping must not keep the base's name)."""
    if prefix:
        for key in [k for k in prov if k.startswith(f"{prefix}.")]:
            del prov[key]
    _record_tree(prov, data, prefix, source)


def _record_tree(prov: Provenance, data: Any, prefix: str, source: str) -> None:
    prov[prefix] = source
    if isinstance(data, dict):
        for key, value in data.items():
            _record_tree(prov, value, f"{prefix}.{key}" if prefix else str(key), source)


def _merge(base: dict, update: dict, prov: Provenance, source: str, prefix: str = "") -> dict:
    """Deep-merge ``update`` into a copy of ``base``; ``_delete_: true`` replaces a dict whole."""
    out = dict(base)
    for key, value in update.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value.get("_delete_"):
            value = {k: v for k, v in value.items() if k != "_delete_"}
            out[key] = copy.deepcopy(value)
            _record(prov, value, dotted, source)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, prov, source, dotted)
            prov[dotted] = prov.get(dotted, source)
        else:
            out[key] = copy.deepcopy(value)
            _record(prov, value, dotted, source)
    return out


def one_line(exc: Exception) -> str:
    """PyYAML's multi-line message (problem, then where) as one line."""
    return " ".join(str(exc).split())


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {one_line(exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def _load_file(path: Path, prov: Provenance, chain: tuple[Path, ...]) -> dict:
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(map(str, chain + (path,)))
        raise ConfigError(f"{path}: circular _base_ chain: {cycle}")
    data = _read_yaml(path)
    bases = data.pop("_base_", [])
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise ConfigError(f"{path}: _base_ must be a file name or a list of file names")
    merged: dict = {}
    for base in bases:
        base_data = _load_file(path.parent / base, prov, chain + (path,))
        merged = _merge(merged, base_data, Provenance(), str(path))
    # provenance of base files was recorded by their own loads; now the file's own keys win
    return _merge(merged, data, prov, str(path))


def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b.c=value`` → (['a','b','c'], yaml-parsed value)."""
    key, sep, raw = text.partition("=")
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"override {text!r} must look like a.b.c=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"override {text!r}: value is not valid YAML: {one_line(exc)}") from None
    return key.split("."), value


def apply_overrides(cfg: dict, overrides: list[str], prov: Provenance) -> dict:
    cfg = copy.deepcopy(cfg)
    for text in overrides:
        keys, value = parse_override(text)
        node = cfg
        for i, key in enumerate(keys[:-1]):
            child = node.get(key)
            if child is None:
                child = node[key] = {}
                prov[".".join(keys[: i + 1])] = "command line"  # a typo'd key is ours to blame
            if not isinstance(child, dict):
                dotted = ".".join(keys[: i + 1])
                raise ConfigError(f"override {text!r}: '{dotted}' is not a mapping")
            node = child
        node[keys[-1]] = value
        _record(prov, value, ".".join(keys), "command line")
    return cfg


def load_config(path: str | Path, overrides: list[str] | None = None) -> tuple[dict, Provenance]:
    """Load a YAML config with its bases and overrides; returns the raw dict and provenance."""
    prov = Provenance()
    prov[""] = str(Path(path).resolve())
    raw = _load_file(Path(path), prov, ())
    return apply_overrides(raw, overrides or [], prov), prov


def load_config_text(text: str, source: str = "<string>") -> tuple[dict, Provenance]:
    """Load a config given as YAML text (used for embedded defaults)."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {one_line(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: top level must be a mapping")
    return config_from_data(data, source)


def config_from_data(data: dict, source: str) -> tuple[dict, Provenance]:
    """A config built in code (e.g. around a command-line ``--arch``); every key from ``source``."""
    prov = Provenance()
    prov[""] = source
    _record_tree(prov, data, "", source)
    return data, prov


def dump_config(cfg: dict) -> str:
    return yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None)

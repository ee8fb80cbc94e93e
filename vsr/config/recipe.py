"""The schema of a multi-stage recipe: experiment configs trained in order, each stage starting
from the previous stage's weights (ELSR: x2 L1, then x4 L1, then x4 MSE; FRVSR then TecoGAN).

A recipe file is a YAML mapping with a ``stages:`` list; ``vsr train -c`` tells it from an
experiment config by that key. ``vsr.engine.stages`` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from vsr.config.loader import ConfigError, load_config
from vsr.config.schema import build_dataclass


@dataclass
class StageCfg:
    """One stage: an experiment config (relative to the recipe file) with overrides, started
    from the previous stage's ``best.pth`` or last periodic checkpoint (``init``; default
    ``best``, and ``none`` for the first stage, which has no previous one). ``strict: false``
    loads the keys that fit and re-initialises the rest (a head that changes shape)."""

    config: str
    overrides: list[str] = field(default_factory=list)  # a.b.c=value, as on the command line
    init: Literal["best", "last", "none"] | None = None
    strict: bool = True


@dataclass
class RecipeCfg:
    stages: list[StageCfg]
    notes: str | None = None


def is_recipe(path: str | Path) -> bool:
    """Whether the YAML file (with its ``_base_`` files) is a recipe rather than an experiment."""
    raw, _ = load_config(path)
    return "stages" in raw


def load_recipe(path: str | Path) -> tuple[RecipeCfg, list[Path]]:
    """The recipe and each stage's config file, resolved against the recipe's folder; errors
    name the recipe file and the stage."""
    raw, prov = load_config(path)
    recipe = build_dataclass(RecipeCfg, raw, "", prov)
    if not recipe.stages:
        raise ConfigError(f"{path}: 'stages' lists no stage")
    if recipe.stages[0].init not in (None, "none"):
        raise ConfigError(f"{path}: stages.0.init is {recipe.stages[0].init!r}, but the first "
                          f"stage has no previous stage to start from (set its initial "
                          f"weights with weights: in its config)")
    folder = Path(path).resolve().parent
    configs = []
    for i, stage in enumerate(recipe.stages):
        config = folder / stage.config
        if not config.is_file():
            raise ConfigError(f"{path}: stages.{i}.config: {config} not found")
        configs.append(config)
    return recipe, configs


def stage_init(recipe: RecipeCfg, index: int) -> str:
    """What stage ``index`` starts from: 'none', 'best' or 'last'."""
    init = recipe.stages[index].init
    return init or ("none" if index == 0 else "best")


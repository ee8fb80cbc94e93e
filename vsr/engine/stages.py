"""Running a multi-stage recipe (``vsr.config.recipe``): each stage is its own experiment folder
and starts from the previous stage's checkpoint. Rerunning the recipe skips finished stages and
resumes an interrupted one, so a recipe is resumable as a whole."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vsr.config.experiment import ExperimentCfg, load_experiment
from vsr.config.loader import ConfigError
from vsr.config.recipe import RecipeCfg, stage_init
from vsr.engine import checkpoint as ckpt
from vsr.engine.logging import read_scalars
from vsr.engine.trainer import Trainer
from vsr.errors import CheckpointError


@dataclass
class StageResult:
    """What one stage did: ``trained``, ``resumed`` or ``skipped`` (already finished), from which
    weights, and its validation scores at its last iteration and its best ``best_metric``."""

    index: int
    name: str
    experiment_dir: Path
    status: str
    weights: str | None
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    best: float | None = None


def stage_configs(recipe: RecipeCfg, configs: list[Path], overrides: list[str],
                  check_paths: bool = True) -> list[ExperimentCfg]:
    """Each stage's experiment: its file, then the recipe's overrides for it, then the command
    line's (which apply to every stage). Two stages may not share an experiment folder."""
    cfgs = [load_experiment(path, [*stage.overrides, *overrides], check_paths)
            for stage, path in zip(recipe.stages, configs)]
    seen: dict[Path, int] = {}
    for i, cfg in enumerate(cfgs):
        if cfg.train is None:
            raise ConfigError(f"stage {i + 1} ({configs[i]}) has no 'train' section")
        folder = cfg.experiment_dir.resolve()
        if folder in seen:
            raise ConfigError(f"stages {seen[folder] + 1} and {i + 1} would both train in "
                              f"{cfg.experiment_dir}: give each stage its own name")
        seen[folder] = i
    return cfgs


def finished_iteration(cfg: ExperimentCfg) -> int:
    """The iteration of the stage's newest periodic checkpoint (0 when there is none)."""
    paths = ckpt.checkpoint_paths(cfg.experiment_dir / "checkpoints")
    return paths[-1][0] if paths else 0


def start_weights(previous: ExperimentCfg, init: str, index: int) -> Path:
    """The checkpoint of the previous stage that stage ``index`` (1-based) starts from."""
    folder = previous.experiment_dir / "checkpoints"
    if init == "best":
        path = folder / "best.pth"
        if not path.is_file():
            raise CheckpointError(
                f"stage {index} starts from the best checkpoint of stage {index - 1}, but "
                f"{path} does not exist (stage {index - 1} needs train.val_every and "
                f"train.checkpoint.best_metric; or set init: last for stage {index})")
        return path
    path = ckpt.latest_checkpoint(folder)
    if path is None:
        raise CheckpointError(f"stage {index} starts from the last checkpoint of stage "
                              f"{index - 1}, but {folder} holds none")
    return path


def logged_scores(cfg: ExperimentCfg) -> tuple[dict[str, dict[str, float]], float | None]:
    """The stage's validation scores at its last validation and the best value of its
    ``best_metric``, from its metrics.jsonl (so a skipped stage reports them too)."""
    path = cfg.experiment_dir / "metrics.jsonl"
    if not path.is_file():
        return {}, None
    vals = {it: {k[len("val/"):]: v for k, v in rec.items() if k.startswith("val/")}
            for it, rec in read_scalars(path).items()}
    vals = {it: v for it, v in vals.items() if v}
    if not vals:
        return {}, None
    scores: dict[str, dict[str, float]] = {}
    for key, value in vals[max(vals)].items():
        ds, _, metric = key.rpartition("/")
        scores.setdefault(ds, {})[metric] = value
    checkpoint = cfg.train.checkpoint
    history = [v[checkpoint.best_metric] for v in vals.values()
               if checkpoint.best_metric in v and not math.isnan(v[checkpoint.best_metric])]
    pick = max if checkpoint.best_mode == "max" else min
    return scores, (pick(history) if history else None)


def run_stages(recipe: RecipeCfg, cfgs: list[ExperimentCfg],
               log: Callable[[str], None] = print) -> list[StageResult]:
    """Train the stages in order, each from the previous one's weights (``stage_init``)."""
    results = []
    for i, cfg in enumerate(cfgs):
        index = i + 1
        total = cfg.train.total_iters
        done = finished_iteration(cfg)
        init = stage_init(recipe, i)
        if init != "none":
            cfg.weights = str(start_weights(cfgs[i - 1], init, index))
            cfg.weights_strict = recipe.stages[i].strict
        if done >= total:
            status = "skipped"
            log(f"stage {index}/{len(cfgs)} {cfg.name}: finished (iteration {done} of {total} "
                f"in {cfg.experiment_dir}), skipped")
        else:
            held = (cfg.experiment_dir / "config.yaml").exists()
            status = "resumed" if held else "trained"
            log(f"stage {index}/{len(cfgs)} {cfg.name}: "
                + (f"resuming at iteration {done} of {total}" if held else
                   f"training {total} iterations")
                + (f" from {cfg.weights}" if cfg.weights else ""))
            Trainer(cfg, resume="auto" if held else None).train()
        scores, best = logged_scores(cfg)
        results.append(StageResult(index, cfg.name, cfg.experiment_dir, status, cfg.weights,
                                   scores, best))
    return results

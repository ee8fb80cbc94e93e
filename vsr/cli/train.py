"""``vsr train``: train a model from a YAML config, or every stage of a recipe (a YAML file with
a ``stages:`` list, ``vsr.config.recipe``) in order."""

from __future__ import annotations

import argparse

import yaml


def register(sub) -> None:
    parser = sub.add_parser("train", help="train a model from a YAML config or a stages recipe")
    parser.add_argument("-c", "--config", required=True,
                        help="an experiment config, or a recipe whose 'stages' list configs")
    parser.add_argument("--resume", help="'auto' (latest checkpoint of the experiment) or a path; "
                                         "a recipe always resumes its unfinished stage")
    parser.add_argument("--overwrite", action="store_true",
                        help="start anew in a used experiment folder, archiving the old run to "
                             "<name>_archived_<time>")
    parser.add_argument("overrides", nargs="*",
                        help="a.b.c=value (YAML values); for a recipe, applied to every stage")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train, then leave the process group (under torchrun): gloo's worker threads that are still
    alive when the interpreter shuts down abort the process (SIGABRT after a finished run)."""
    from vsr.config.recipe import is_recipe
    from vsr.engine.distributed import cleanup

    try:
        return run_recipe(args) if is_recipe(args.config) else run_experiment(args)
    finally:
        cleanup()


def run_experiment(args: argparse.Namespace) -> int:
    from vsr.config.experiment import load_experiment
    from vsr.engine.trainer import Trainer

    cfg = load_experiment(args.config, args.overrides)
    trainer = Trainer(cfg, resume=args.resume, overwrite=args.overwrite)
    scores = trainer.train()
    if scores and trainer.dist.is_main:
        print(yaml.safe_dump({"validation": scores}, sort_keys=False))
    return 0


def run_recipe(args: argparse.Namespace) -> int:
    """Every stage in order; finished stages are skipped, an interrupted one resumed."""
    from vsr.config.loader import ConfigError
    from vsr.config.recipe import load_recipe
    from vsr.engine.stages import run_stages, stage_configs

    if args.resume or args.overwrite:
        raise ConfigError(f"{args.config} is a recipe: it resumes its unfinished stage by "
                          f"itself; --resume and --overwrite apply to single experiments")
    recipe, configs = load_recipe(args.config)
    results = run_stages(recipe, stage_configs(recipe, configs, args.overrides))
    summary = [{"stage": r.index, "name": r.name, "status": r.status,
                "experiment_dir": str(r.experiment_dir), "weights": r.weights,
                "validation": r.scores, "best": r.best} for r in results]
    print(yaml.safe_dump({"stages": summary}, sort_keys=False))
    return 0

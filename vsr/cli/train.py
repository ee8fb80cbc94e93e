"""``vsr train``: train a model from a YAML config."""

from __future__ import annotations

import argparse

import yaml


def register(sub) -> None:
    parser = sub.add_parser("train", help="train a model from a YAML config")
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("--resume", help="'auto' (latest checkpoint of the experiment) or a path")
    parser.add_argument("--overwrite", action="store_true",
                        help="start anew in a used experiment folder, archiving the old run to "
                             "<name>_archived_<time>")
    parser.add_argument("overrides", nargs="*", help="a.b.c=value (YAML values)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vsr.config.experiment import load_experiment
    from vsr.engine.trainer import Trainer

    cfg = load_experiment(args.config, args.overrides)
    trainer = Trainer(cfg, resume=args.resume, overwrite=args.overwrite)
    scores = trainer.train()
    if scores and trainer.dist.is_main:
        print(yaml.safe_dump({"validation": scores}, sort_keys=False))
    return 0

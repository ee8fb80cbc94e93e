"""``vsr test``: evaluate a model on the test datasets of its config."""

from __future__ import annotations

import argparse

import yaml

from vsr.config.loader import ConfigError, dump_config


def register(sub) -> None:
    parser = sub.add_parser("test", help="evaluate a model on the config's test datasets")
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("--weights", help="weights file (ours, or an original release layout)")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the scores of clips an interrupted or failed run finished")
    parser.add_argument("overrides", nargs="*")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vsr.cli.common import build_net
    from vsr.config.experiment import load_experiment, resolved_dict
    from vsr.engine.builders import build_evaluator
    from vsr.engine.device import resolve_device
    from vsr.io.image import atomic_write_bytes

    cfg = load_experiment(args.config, args.overrides)
    if cfg.test is None:
        raise ConfigError(f"{args.config}: no 'test' section")
    device = resolve_device(cfg.device)
    net = build_net(cfg, args.weights, device)
    out_dir = cfg.experiment_dir
    atomic_write_bytes(out_dir / "config.yaml", dump_config(resolved_dict(cfg)).encode())
    evaluator = build_evaluator(cfg.test, out_dir, device, resume=args.resume)
    scores = evaluator.evaluate(net)
    print(yaml.safe_dump({"results": scores, "written_to": str(out_dir / "results")},
                         sort_keys=False))
    return 0

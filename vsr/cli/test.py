"""``vsr test``: evaluate a model on the test datasets of its config."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from vsr.config.loader import ConfigError, dump_config
from vsr.config.schema import PlainName


def register(sub) -> None:
    parser = sub.add_parser("test", help="evaluate a model on the config's test datasets")
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("--weights", help="weights file (ours, or an original release layout)")
    parser.add_argument("--name", help="experiment folder name (default: the config's name, plus "
                        "the weights file's stem and hash when --weights is given)")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the scores of clips an interrupted or failed run finished")
    parser.add_argument("overrides", nargs="*")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vsr.cli.common import build_net
    from vsr.config.experiment import load_experiment, resolved_dict
    from vsr.engine.builders import build_evaluator
    from vsr.engine.device import resolve_device
    from vsr.engine.provenance import run_record
    from vsr.io.image import atomic_write_bytes

    cfg = load_experiment(args.config, args.overrides)
    if args.name is not None and not PlainName.holds(args.name):
        raise ConfigError(f"--name {args.name!r}: expected {PlainName.expected}")
    if cfg.test is None:
        raise ConfigError(f"{args.config}: no 'test' section")
    device = resolve_device(cfg.device)
    net = build_net(cfg, args.weights, device)
    cfg.weights = args.weights or cfg.weights
    record = run_record(cfg.weights, device, precision=cfg.test.precision,
                        channels_last=cfg.test.channels_last)
    cfg.name = args.name or run_name(cfg.name, args.weights and record["weights"])
    out_dir = cfg.experiment_dir
    atomic_write_bytes(out_dir / "config.yaml", dump_config(resolved_dict(cfg)).encode())
    atomic_write_bytes(out_dir / "run.json", json.dumps(record, indent=1).encode())
    evaluator = build_evaluator(cfg.test, out_dir, device, resume=args.resume, run_info=record)
    scores = evaluator.evaluate(net)
    print(yaml.safe_dump({"results": scores, "written_to": str(out_dir / "results")},
                         sort_keys=False))
    return 0


def run_name(config_name: str, weights: dict | None) -> str:
    """A test run's folder name: with ``--weights``, the file's stem and the start of its hash
    join the config's name, so two sets of weights never share (overwrite) a results folder."""
    if not weights:
        return config_name
    return f"{config_name}-{Path(weights['path']).stem}-{weights['sha256'][:8]}"

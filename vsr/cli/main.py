"""``vsr train|test|infer|allocate`` (also ``python train.py`` / ``test.py`` / ``infer.py``)."""

from __future__ import annotations

import argparse
import os
import sys

from vsr.cli import allocate, infer, test, train
from vsr.config.loader import ConfigError

COMMANDS = (train, test, infer, allocate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vsr", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, FileNotFoundError, ValueError, OSError, KeyError) as exc:
        if os.environ.get("VSR_DEBUG") == "1":
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

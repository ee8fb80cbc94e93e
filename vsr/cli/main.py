"""``vsr train|test|evaluate|infer|allocate|weights`` (also ``python train.py`` / ``test.py`` /
``infer.py``)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from pathlib import Path

import vsr
from vsr.cli import allocate, evaluate, infer, test, train, weights
from vsr.engine.memory import keep_freed_blocks
from vsr.errors import Interrupted, VSRError, VSRWarning

COMMANDS = (train, test, evaluate, infer, allocate, weights)
_PACKAGE = Path(vsr.__file__).resolve().parent


class Parser(argparse.ArgumentParser):
    """No abbreviated flags: ``--resum`` is an error, not a silent ``--resume``."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def habit_hint(argv: list[str]) -> str | None:
    """What to write instead, for the spellings of BasicSR (``-opt X.yml``) and mmagic (the
    config as a positional argument)."""
    if not argv:
        return None
    command = argv[0]
    config = next((a for a in argv[1:] if a.endswith((".yaml", ".yml")) and "=" not in a), None)
    if "-opt" in argv or "--opt" in argv:
        return (f"the config is given with -c/--config here (BasicSR's -opt): "
                f"vsr {command} -c {config or 'CONFIG.yaml'}")
    takes_config = command in ("train", "test")
    if takes_config and config and not {"-c", "--config"} & set(argv):
        return (f"the config is given with -c/--config (not as a positional argument, as in "
                f"mmagic): vsr {command} -c {config}")
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="vsr", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Overrides may come anywhere (``train -c x.yaml --resume auto lr=1``): argparse ends a
    ``nargs='*'`` positional at the first flag, so what it leaves over that is not a flag joins
    the overrides; an unknown ``--flag`` is still an error."""
    hint = habit_hint(sys.argv[1:] if argv is None else argv)
    if hint:
        parser.error(hint)
    args, extra = parser.parse_known_args(argv)
    flags = [e for e in extra if e.startswith("-")]
    if flags or (extra and not hasattr(args, "overrides")):
        parser.error(f"unrecognized arguments: {' '.join(flags or extra)}")
    if extra:
        args.overrides = [*args.overrides, *extra]
    return args


def is_input_error(exc: BaseException) -> bool:
    """Ours to report as one line: a ``VSRError``; an ``OSError`` (a missing file, a full disk);
    a ``ValueError`` raised by vsr's own checks. Anything else — a ``RuntimeError`` from inside
    torch, a ``ValueError`` from numpy — is a bug to show with its traceback."""
    if isinstance(exc, (VSRError, OSError)):
        return True
    if isinstance(exc, ValueError):
        frames = traceback.extract_tb(exc.__traceback__)
        return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(_PACKAGE)
    return False


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if issubclass(category, VSRWarning):
        print(f"warning: {message}", file=file or sys.stderr)
    else:
        _default_show_warning(message, category, filename, lineno, file, line)


_default_show_warning = warnings.showwarning


def main(argv: list[str] | None = None) -> int:
    args = parse_args(build_parser(), argv)
    keep_freed_blocks()
    debug = os.environ.get("VSR_DEBUG") == "1"
    try:
        with warnings.catch_warnings():
            if not debug:
                warnings.showwarning = _show_warning
            return args.func(args)
    except (Interrupted, KeyboardInterrupt) as exc:
        if debug:
            raise
        print(f"interrupted: {exc}" if str(exc) else "interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug or not is_input_error(exc):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

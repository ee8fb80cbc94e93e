"""One size convention on every command line: ``HxW``, height first, as ``[H, W]`` in configs."""

from __future__ import annotations

import argparse

SIZES = "sizes are HEIGHTxWIDTH in pixels on the command line, e.g. 64x96, and [H, W] in configs"


def parse_size(text: str) -> tuple[int, int]:
    """A command-line size ``HxW`` as (H, W)."""
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH in pixels, e.g. 64x96, got "
                                         f"{text!r}") from None
    if height <= 0 or width <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive HEIGHTxWIDTH, got {text!r}")
    return height, width

"""``python scripts/quality_allocation.py --latency T …``: the same entry as ``vsr allocate``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vsr.cli.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["allocate", *sys.argv[1:]]))

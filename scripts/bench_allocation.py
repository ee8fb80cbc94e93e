"""Fast vs original latency design on this machine: how well each line predicts all 108 models.

Profiles both designs at one resolution (cached like ``vsr allocate``), then scores the fast
design's fit on all 108 original models (its 8 factorial models are among them, so 100 are
out-of-sample for it) against the original fit in-sample and 4-fold cross-validated.

    python scripts/bench_allocation.py --resolution 270x480 --cache-dir /tmp/vsr-latency
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vsr.foveation.allocation import parse_resolution  # noqa: E402
from vsr.foveation.latency import fit_errors, profile_latency  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolution", default="270x480")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--cache-dir")
    args = parser.parse_args()
    resolution = parse_resolution(args.resolution)
    runs = {d: profile_latency(resolution, d, args.device, repeats=args.repeats,
                               cache_dir=args.cache_dir) for d in ("fast", "original")}
    full = runs["original"].samples
    work, ms = [s["workload"] for s in full], [s["ms"] for s in full]
    report = {}
    for design, profile in runs.items():
        timed = len(profile.samples) + (3 if design == "fast" else 0)
        report[design] = {
            "models_timed": timed,
            "timings": timed * profile.key["repeats"],
            "profile_seconds": round(profile.profile_seconds, 1),
            "A_ms_per_unit": profile.fit.A,
            "B_ms": profile.fit.B,
            "r2": profile.fit.r2,
            "heldout": {k: v for k, v in profile.heldout.items() if k != "samples"},
            "error_on_all_108": fit_errors(profile.fit, work, ms),
        }
    print(json.dumps({"resolution": list(resolution), "device": runs["fast"].key["device"],
                      "threads": runs["fast"].key["threads"], "designs": report}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Samples/s of TecoGANTrain (10-frame BD sequences, GT 128 / LR 32) on the Vimeo-90K frames in
../shared, from PNG folders and from a TecoGAN-layout LMDB written to a temporary folder, with
and without the moving first frame; the baseline in the same process is decoding the frames a
sequence reads (the PNG part of a sample), so the ratio says what the dataset adds.

    OMP_NUM_THREADS=1 python scripts/bench_tecogan_data.py [--root ../shared/data/Vimeo90K]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from create_tecogan_lmdb import create_tecogan_lmdb  # noqa: E402

from vsr.data.tecogan import TecoGANTrain  # noqa: E402


def rate(fn, n: int, repeats: int) -> float:
    """Median calls/s over ``repeats`` runs of ``n`` calls (the first call warms caches)."""
    fn(0)
    runs = []
    for r in range(repeats):
        start = time.perf_counter()
        for i in range(n):
            fn(r * n + i)
        runs.append(n / (time.perf_counter() - start))
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("../shared/data/Vimeo90K"))
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    clips = args.root / "sep_trainlist.txt"
    with tempfile.TemporaryDirectory() as tmp:
        lmdb_path = Path(tmp) / "GT.lmdb"
        create_tecogan_lmdb(args.root / "sequences", lmdb_path)
        folders = TecoGANTrain(args.root / "sequences", clips=clips, moving_prob=0.0)
        refs = [folders.sequence(i)[1] for i in range(len(folders))]
        base = rate(lambda i: [g.read() for g, _ in dict.fromkeys(refs[i % len(refs)])],
                    args.samples, args.repeats)
        print(f"baseline: PNG decode of one sequence's frames  {base:7.1f} /s")
        for name, root in (("folders", args.root / "sequences"), ("TecoGAN LMDB", lmdb_path)):
            for prob in (0.0, 0.3, 1.0):
                ds = TecoGANTrain(root, clips=clips, moving_prob=prob)
                r = rate(lambda i, ds=ds: ds[(i % len(ds), i)], args.samples, args.repeats)
                print(f"{name:12s} moving_prob {prob:.1f}  {r:7.1f} samples/s  "
                      f"({r / base:.2f}x the baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make demo`: the main job end to end on an embedded default, no downloads.

1. Builds short motion clips from the photographs inside scikit-image (train and held-out test).
2. Trains a small RRN x4 from configs/demo/rrn_small_x4_demo.yaml for a few minutes on CPU.
3. Evaluates it and Bicubic on the held-out clips (Y-PSNR/SSIM, MATLAB Y, no crop).
4. Super-resolves an mp4 made from a held-out clip.
Leaves results/demo/{results.md, comparison.png, input_lr.mp4, sr.mp4}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vsr.cli.main import main as vsr_main  # noqa: E402
from vsr.config.experiment import load_experiment  # noqa: E402
from vsr.data.synthetic import make_motion_clips  # noqa: E402
from vsr.io.frames import frame_to_tensor, tensor_to_frame  # noqa: E402
from vsr.io.image import atomic_write_bytes, list_frames, read_image, write_image  # noqa: E402
from vsr.io.video import VideoWriter  # noqa: E402
from vsr.registry import DEGRADATIONS  # noqa: E402

OUT = Path("results/demo")
CONFIG = ROOT / "configs" / "demo" / "rrn_small_x4_demo.yaml"
BICUBIC_CONFIG = ROOT / "configs" / "demo" / "bicubic_x4_demo.yaml"
SHOWN_FRAME = 10


def _run(args: list[str]) -> None:
    code = vsr_main(args)
    if code:
        raise SystemExit(f"vsr {' '.join(args)} failed with exit code {code}")


def _make_data(train_clips: int, test_clips: int) -> None:
    if not (OUT / "data" / "train").is_dir():
        make_motion_clips(OUT / "data" / "train", train_clips, 12, (144, 176), seed=0,
                          split="train")
    if not (OUT / "data" / "test").is_dir():
        make_motion_clips(OUT / "data" / "test", test_clips, 20, (144, 176), seed=1,
                          split="test")


def _lr(frame_path: Path) -> torch.Tensor:
    """The BI x4 LR of a GT frame, as the test set makes it."""
    return DEGRADATIONS.get("BI")(frame_to_tensor(read_image(frame_path))[None], scale=4)[0]


def _comparison(test_clip: Path, runs: dict[str, Path]) -> None:
    """One held-out frame: LR (nearest) | Bicubic | model | GT, from the SR frames the test runs
    saved."""
    gt_path = list_frames(test_clip)[SHOWN_FRAME]
    lr = _lr(gt_path)
    panels = [lr.repeat_interleave(4, 1).repeat_interleave(4, 2)]
    for run in runs.values():
        sr_path = run / "visual" / "demo_test" / test_clip.name / f"{SHOWN_FRAME:08d}.png"
        panels.append(frame_to_tensor(read_image(sr_path)))
    panels.append(frame_to_tensor(read_image(gt_path)))
    gap = torch.ones(3, panels[0].shape[1], 4)
    row = torch.cat([p for panel in panels for p in (panel, gap)][:-1], dim=2)
    write_image(OUT / "comparison.png", tensor_to_frame(row))


def _lr_video(test_clip: Path) -> Path:
    """An LR mp4 (BI x4 of a held-out clip) for the inference step."""
    path = OUT / "input_lr.mp4"
    with VideoWriter(path, fps=10) as writer:
        for frame in list_frames(test_clip):
            writer.write(tensor_to_frame(_lr(frame)))
    return path


def _table(runs: dict[str, Path]) -> str:
    rows = ["| model | Y-PSNR (dB) | Y-SSIM |", "|---|---|---|"]
    for label, run in runs.items():
        average = json.loads((run / "results" / "demo_test.json").read_text())["average"]
        rows.append(f"| {label} | {average['PSNR']:.2f} | {average['SSIM']:.4f} |")
    return "\n".join(rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iters", type=int, default=None, help="override training iterations")
    parser.add_argument("--train-clips", type=int, default=20)
    parser.add_argument("--test-clips", type=int, default=2)
    args = parser.parse_args()
    start = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    _make_data(args.train_clips, args.test_clips)
    overrides = [f"train.total_iters={args.iters}"] if args.iters else []
    cfg = load_experiment(CONFIG, overrides)
    _run(["train", "-c", str(CONFIG), "--overwrite", *overrides])
    weights = cfg.experiment_dir / "checkpoints" / "best.pth"
    bicubic_run = [str(BICUBIC_CONFIG), "name=bicubic_x4_test", "test.save_images=true"]
    rrn_run = [str(CONFIG), "name=rrn_test", "test.save_images=true"]
    runs = {"Bicubic": load_experiment(bicubic_run[0], bicubic_run[1:]).experiment_dir,
            f"RRN small x4 ({cfg.train.total_iters} iterations, CPU)":
                load_experiment(rrn_run[0], rrn_run[1:]).experiment_dir}
    _run(["test", "-c", *bicubic_run])
    # --name keeps the folder the config names (with --weights it would gain the file's hash)
    _run(["test", "-c", rrn_run[0], "--weights", str(weights), "--name", "rrn_test",
          *rrn_run[1:]])
    test_clip = sorted(p for p in (OUT / "data" / "test").iterdir() if p.is_dir())[0]
    _comparison(test_clip, runs)
    _run(["infer", "-c", str(CONFIG), "--weights", str(weights), "-i", str(_lr_video(test_clip)),
          "-o", str(OUT / "sr.mp4")])
    minutes = (time.perf_counter() - start) / 60
    text = (f"# vsr demo\n\nHeld-out clips ({args.test_clips} clips of 20 frames, BI x4, "
            f"Y channel MATLAB formula, no crop, all frames; mean per clip then over clips):\n\n"
            f"{_table(runs)}\nTotal time {minutes:.1f} min. Files: comparison.png (LR | Bicubic |"
            f" RRN | GT), input_lr.mp4 -> sr.mp4, experiments/ (configs, logs, checkpoints).\n")
    atomic_write_bytes(OUT / "results.md", text.encode())
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

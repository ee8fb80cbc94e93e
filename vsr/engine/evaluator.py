"""The one evaluation loop: clip by clip, frame by frame, metrics streamed, nothing of a test set
held in memory (at most the previous SR/GT frame pair, for temporal metrics). Drives every metric
through the sequence protocol of ``vsr.metrics.sequence``, pools the values as the ``Averaging``
says, and writes a results table per dataset that states both."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from vsr.archs.precision import Precision
from vsr.archs.sequence import ChunkSpec, FrameTimer, SequenceStart, frame_conditions
from vsr.archs.tiles import TileSpec, stream_tiled
from vsr.engine.provenance import describe_run
from vsr.errors import ClipError, VSRError
from vsr.io.frames import open_frame_sink, tensor_to_frame
from vsr.io.image import atomic_write_bytes, write_image
from vsr.metrics.protocol import Averaging
from vsr.metrics.sequence import SequenceMetric, as_sequence_metric


@dataclass
class ClipResult:
    name: str
    num_frames: int
    per_frame: dict[str, list[float | None]] = field(default_factory=dict)
    # a metric's end_clip value; None: the clip's value is pooled from its frame values
    clip_values: dict[str, float | None] = field(default_factory=dict)
    frames_given: dict[str, int] = field(default_factory=dict)  # frames each metric was given
    seconds: float = 0.0  # wall time of the clip, IO included
    model_seconds: list[float] = field(default_factory=list)  # the model's time per frame

    @property
    def scored(self) -> bool:
        """Whether any metric was given a frame (a clip without GT has no scores)."""
        return any(self.frames_given.values())

    def value(self, metric: str, averaging: Averaging) -> float:
        """The clip's value of ``metric`` under ``averaging``."""
        clip_value = self.clip_values.get(metric)
        return clip_value if clip_value is not None else averaging.clip_value(
            self.per_frame[metric])

    def weight(self, metric: str) -> int:
        """How many frames the clip's value stands for when averaging over all frames."""
        if self.clip_values.get(metric) is not None:
            return self.frames_given.get(metric, 0)
        return sum(v is not None for v in self.per_frame[metric])


def _scores_frame(metric: SequenceMetric, index: int, num_frames: int) -> bool:
    """Whether frame ``index`` is scored under the metric's protocol (frames skipped at ends)."""
    protocol = getattr(metric, "protocol", None)
    return protocol is None or protocol.scores_frame(index, num_frames)


class Evaluator:
    def __init__(
        self,
        datasets: dict[str, object],
        metrics: dict[str, Callable],
        out_dir: Path,
        device: torch.device | str = "cpu",
        save_images: bool = False,
        batch_frames: int = 8,
        chunk: int | ChunkSpec = 16,
        log: Callable[[str], None] = print,
        save_video: bool = False,
        draw_overlay: bool = False,
        averaging: Averaging | None = None,
        tile: TileSpec | None = None,
        per_dataset: dict[str, dict] | None = None,
        precision: Precision | None = None,
        start: SequenceStart | None = None,
        resume: bool = False,
        run_info: dict | None = None,
    ) -> None:
        """``per_dataset``: {dataset: {"tile": TileSpec | None, "chunk": ChunkSpec}}, each key
        present replacing the test-wide ``tile`` / ``chunk`` for that dataset. ``resume``: clips
        whose scores an earlier run of the same folder saved are read back, not run again."""
        self.datasets = datasets
        self.metrics = {name: as_sequence_metric(m) for name, m in metrics.items()}
        self.averaging = averaging if averaging is not None else Averaging()
        self.out_dir = Path(out_dir)
        self.device = device
        self.save_images = save_images
        self.batch_frames = batch_frames
        self.chunk = chunk if isinstance(chunk, ChunkSpec) else ChunkSpec(chunk)
        self.tile = tile
        self.per_dataset = per_dataset or {}
        self.precision = precision if precision is not None else Precision()
        self.start = start  # None: each arch's own sequence start
        self.resume = resume
        self.log = log
        self.save_video = save_video
        self.draw_overlay = draw_overlay
        self.run_info = run_info  # what the run used (vsr.engine.provenance.run_record)

    def evaluate(self, net: nn.Module, on_first_frame: Callable | None = None) -> dict[str, dict]:
        """Scores of every dataset: {dataset: {metric: mean over clips}}. ``on_first_frame``
        receives (dataset, clip, sr, gt) of each clip's first frame (sample images)."""
        was_training = net.training
        net.eval()
        try:
            return self._evaluate_datasets(
                lambda ds_name, clip: self._run_clip(net, ds_name, clip, on_first_frame),
                self._inference)
        finally:
            net.train(was_training)

    def score_outputs(self) -> dict[str, dict]:
        """Scores of outputs saved earlier, as ``evaluate`` gives them for a model: each
        dataset's clips stream (SR, GT) frame pairs (``streams()`` yields the SR frames where a
        test clip yields LR ones), scored by the same loop, metrics, protocols, averaging and
        results files; no model runs."""
        return self._evaluate_datasets(self._score_saved_clip, lambda ds_name: None)

    def _evaluate_datasets(self, run_clip: Callable, inference: Callable) -> dict[str, dict]:
        summary = {}
        for ds_name, dataset in self.datasets.items():
            clips = [self._finished_or_run(ds_name, clip, run_clip) for clip in dataset.clips()]
            summary[ds_name] = self._write_results(ds_name, clips, inference(ds_name))
        return summary

    def _clip_record(self, ds_name: str, clip_name: str) -> Path:
        return self.out_dir / "results" / ds_name / ".clips" / f"{clip_name}.json"

    def _finished_or_run(self, ds_name: str, clip, run_clip: Callable) -> ClipResult:
        """A clip's result, saved as soon as it is scored so that a failure later on loses
        nothing; with ``resume``, read back when an earlier run saved it for the same metrics."""
        record = self._clip_record(ds_name, clip.name)
        if self.resume and record.is_file():
            saved = ClipResult(**json.loads(record.read_text()))
            if set(saved.per_frame) == set(self.metrics) and saved.num_frames == clip.num_frames:
                self.log(f"{ds_name}/{clip.name}: scores of the earlier run reused (--resume)")
                return saved
        try:
            result = run_clip(ds_name, clip)
        except (VSRError, OSError, ValueError) as exc:
            where = getattr(exc, "vsr_where", "before its first frame")
            raise ClipError(f"{ds_name}/{clip.name}, {where}: {exc} (the clips scored before it "
                            f"are saved: rerun with --resume to skip them)") from exc
        atomic_write_bytes(record, json.dumps(dataclasses.asdict(result),
                                              allow_nan=True).encode())
        return result

    def _run_clip(self, net, ds_name: str, clip, on_first_frame) -> ClipResult:
        lr_iter, gt_iter = clip.streams()
        conditions = getattr(clip, "conditions", {})  # name -> one value per frame
        timer = FrameTimer()
        tile, chunk = self._tiling(ds_name)
        srs = stream_tiled(net, lr_iter, tile, self.device, self.batch_frames, chunk,
                           conditions=frame_conditions(net, conditions), timer=timer,
                           precision=self.precision,
                           start=self.per_dataset.get(ds_name, {}).get("start", self.start))
        overlay = getattr(net, "overlay", None) if self.draw_overlay else None
        draw = None
        if overlay is not None:
            def draw(frame, conds: dict):
                return overlay(frame, **{k: conds[k] for k in net.conditions if k in conds})
        return self._score_stream(ds_name, clip, srs, gt_iter, timer, draw, on_first_frame,
                                  "producing output frame")

    def _score_saved_clip(self, ds_name: str, clip) -> ClipResult:
        sr_iter, gt_iter = clip.streams()
        return self._score_stream(ds_name, clip, sr_iter, gt_iter, FrameTimer(), None, None,
                                  "reading frame")

    def _score_stream(self, ds_name: str, clip, srs, gt_iter, timer: FrameTimer,
                      draw: Callable | None, on_first_frame: Callable | None,
                      producing: str) -> ClipResult:
        """The loop: SR frames ``srs`` (a model's output, or frames saved earlier) scored against
        ``gt_iter`` in step, saved and encoded as configured. ``draw(frame, conditions)``, if
        given, draws on the saved frames; ``producing`` says what a failure while the next SR
        frame was awaited interrupted (errors name it with the frame number)."""
        result = ClipResult(clip.name, clip.num_frames, {m: [] for m in self.metrics})
        save = self.save_images or gt_iter is None
        folder = self.out_dir / "visual" / ds_name / clip.name
        conditions = getattr(clip, "conditions", {})  # name -> one value per frame
        for name, metric in self.metrics.items():
            missing = [c for c in getattr(metric, "conditions", ()) if c not in conditions]
            if missing:
                raise ValueError(f"metric {name} needs per-frame {missing} that "
                                 f"{ds_name}/{clip.name} does not supply")
        video_path = self.out_dir / "visual" / ds_name / f"{clip.name}.mp4"
        start = time.perf_counter()
        index = -1
        if gt_iter is not None:
            for metric in self.metrics.values():
                metric.begin_clip()
        prev_sr = prev_gt = None  # the only frames held: what temporal metrics compare against
        bar = tqdm(total=clip.num_frames, desc=f"{ds_name}/{clip.name}", unit="frame",
                   disable=None, leave=False, dynamic_ncols=True, file=sys.stderr)
        working, scoring = 0, False  # where a failure happened, for its message
        # A clip that fails part-way leaves no video behind.
        try:
            with open_frame_sink(video_path, clip.fps or 25) if self.save_video \
                    else nullcontext() as video:
                for index, sr in enumerate(srs):
                    working, scoring = index, True
                    frame_conds = {k: v[index] for k, v in conditions.items()}
                    gt = next(gt_iter, None) if gt_iter is not None else None
                    if gt_iter is not None and gt is None:
                        raise ValueError("the ground truth has ended, but the LR clip goes on")
                    if gt is not None:
                        self._score_frame(result, ds_name, clip, index,
                                          (sr, gt, prev_sr, prev_gt), frame_conds)
                        prev_sr, prev_gt = sr, gt
                    if save or video is not None:
                        frame = tensor_to_frame(sr)
                        if draw is not None:
                            frame = draw(frame, frame_conds)
                        if save:
                            write_image(folder / f"{index:08d}.png", frame)
                        if video is not None:
                            video.write(frame)
                    if index == 0 and on_first_frame is not None:
                        on_first_frame(ds_name, clip.name, sr, gt)
                    bar.update(1)
                    working, scoring = index + 1, False
        except Exception as exc:
            # reading and the model run ahead of the output (batches, windows, chunks)
            exc.vsr_where = f"frame {working}" if scoring else f"{producing} {working}"
            raise
        finally:
            bar.close()
        result.num_frames = index + 1
        result.seconds = time.perf_counter() - start
        result.model_seconds = timer.seconds
        if gt_iter is not None:
            self._end_clip(result, ds_name)
        if self.metrics and gt_iter is not None:
            means = ", ".join(f"{m} {result.value(m, self.averaging):.4f}" for m in self.metrics)
            self.log(f"{ds_name}/{clip.name}: {result.num_frames} frames, {means}")
        return result

    def _tiling(self, ds_name: str) -> tuple[TileSpec | None, ChunkSpec]:
        own = self.per_dataset.get(ds_name, {})
        return own.get("tile", self.tile), own.get("chunk", self.chunk)

    def _inference(self, ds_name: str) -> dict:
        """How the SR frames of a dataset were computed, for its results record."""
        tile, chunk = self._tiling(ds_name)
        start = self.per_dataset.get(ds_name, {}).get("start", self.start)
        return {**self.precision.describe(), "tile": tile.describe() if tile else None,
                "chunk": chunk.describe(),
                "sequence_start": None if start is None else dataclasses.asdict(start)}

    def _score_frame(self, result: ClipResult, ds_name: str, clip, index: int, frames: tuple,
                     conditions: dict) -> None:
        """Give (sr, gt, prev_sr, prev_gt) to every metric that scores frame ``index``."""
        sr, gt = frames[:2]
        if gt.shape != sr.shape:
            raise ValueError(f"{ds_name}/{clip.name} frame {index}: SR {tuple(sr.shape)} "
                             f"and GT {tuple(gt.shape)} differ in size")
        for name, metric in self.metrics.items():
            if not _scores_frame(metric, index, clip.num_frames):
                result.per_frame[name].append(None)
            else:
                wanted = {c: conditions[c] for c in metric.conditions}
                result.per_frame[name].append(metric.frame(*frames, **wanted))
                result.frames_given[name] = result.frames_given.get(name, 0) + 1

    def _end_clip(self, result: ClipResult, ds_name: str) -> None:
        for name, metric in self.metrics.items():
            value = metric.end_clip()
            if value is not None and self.averaging.mode == "segment":
                raise ValueError(f"metric {name} gives one value per clip ({ds_name}/"
                                 f"{result.name}); segment averaging needs per-frame values")
            result.clip_values[name] = value

    def _write_results(self, ds_name: str, clips: list[ClipResult],
                       inference: dict | None) -> dict[str, float]:
        """``inference``: how the SR frames were computed; None for outputs scored as saved."""
        scored = [c for c in clips if c.scored]
        averaging = self.averaging
        metrics = list(self.metrics)
        average = _set_average(scored, metrics, averaging)
        other = _OTHER_AVERAGING.get(averaging.mode)
        protocols = {m: (metric.protocol.describe() if hasattr(metric, "protocol") else "")
                     for m, metric in self.metrics.items()}
        frames = sum(c.num_frames for c in clips)
        seconds = sum(c.seconds for c in clips)
        record = {
            "dataset": ds_name,
            "averaging": averaging.describe(),
            "protocols": protocols,
            "average": average,
            "other_average": None if other is None else {
                "averaging": other.describe(), "label": _AVERAGE_LABEL[other.mode],
                "average": _set_average(scored, metrics, other)},
            "frames": frames,
            "seconds": seconds,
            "inference": inference,
            "run": self.run_info,
            "clips": [{"name": c.name, "frames": c.num_frames, "seconds": c.seconds,
                       "model_ms_median": (1000 * statistics.median(c.model_seconds)
                                           if c.model_seconds else math.nan),
                       "mean": {m: c.value(m, averaging) for m in self.metrics},
                       "per_frame": c.per_frame,
                       **_segments(c, averaging)} for c in clips],
        }
        folder = self.out_dir / "results"
        for clip in clips:  # one row per frame: what a plot of latency and quality needs
            atomic_write_bytes(folder / ds_name / f"{clip.name}.csv", _frame_csv(clip).encode())
        atomic_write_bytes(folder / f"{ds_name}.json",
                           json.dumps(record, indent=1, allow_nan=True).encode())
        atomic_write_bytes(folder / f"{ds_name}.md", _markdown(record, list(self.metrics)).encode())
        return average


_OTHER_AVERAGING = {"clip": Averaging("frame"), "frame": Averaging("clip")}
"""Beside a clip (or frame) mean, the results also give the other one: published tables use
either, and some report both (per-folder and total averages)."""
_AVERAGE_LABEL = {"clip": "mean of clips", "frame": "all frames"}


def _set_average(scored: list[ClipResult], metrics: list[str],
                 averaging: Averaging) -> dict[str, float]:
    return {m: averaging.over_clips([(c.value(m, averaging), c.weight(m)) for c in scored])
            for m in metrics}


def _segments(clip: ClipResult, averaging: Averaging) -> dict:
    """Under segment averaging, each clip's segment means (what its value averages)."""
    if averaging.mode != "segment":
        return {}
    return {"per_segment": {m: averaging.segment_means(v) for m, v in clip.per_frame.items()}}


def _frame_csv(clip: ClipResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["frame", "model_ms", *clip.per_frame])
    timed = clip.model_seconds  # empty for outputs scored as saved (no model ran)
    for i in range(max(len(timed), *(len(v) for v in clip.per_frame.values()), 0)):
        values = ["" if i >= len(v) or v[i] is None else f"{v[i]:.6f}"
                  for v in clip.per_frame.values()]
        writer.writerow([i, f"{1000 * timed[i]:.3f}" if i < len(timed) else "", *values])
    return out.getvalue()


def _markdown(record: dict, metrics: list[str]) -> str:
    lines = [f"# {record['dataset']}", ""]
    lines += [f"- {m}: {p}" for m, p in record["protocols"].items()]
    lines += [f"- {record['averaging']}",
              f"- {record['frames']} frames in {record['seconds']:.1f} s",
              f"- inference: {_describe_inference(record['inference'])}"
              if record["inference"] else "- outputs scored as saved (no model run here)"]
    if record.get("run"):
        lines.append(f"- run: {describe_run(record['run'])}")
    lines.append("")
    lines.append("| clip | frames | model ms/frame (median) | " + " | ".join(metrics) + " |")
    lines.append("|---|---|---|" + "---|" * len(metrics))
    for clip in record["clips"]:
        cells = " | ".join(f"{clip['mean'][m]:.4f}" for m in metrics)
        ms = clip["model_ms_median"]
        ms = "–" if math.isnan(ms) else f"{ms:.1f}"
        lines.append(f"| {clip['name']} | {clip['frames']} | {ms} | {cells} |")
    cells = " | ".join(f"{record['average'][m]:.4f}" for m in metrics)
    lines.append(f"| **average** | {record['frames']} | | {cells} |")
    other = record.get("other_average")
    if other:
        cells = " | ".join(f"{other['average'][m]:.4f}" for m in metrics)
        lines.append(f"| {other['label']} | {record['frames']} | | {cells} |")
    return "\n".join(lines) + "\n"


def _describe_inference(inference: dict) -> str:
    tile = inference["tile"]
    tiles = (f"{tile['size'][0]}x{tile['size'][1]} LR tiles, overlap {tile['overlap']} px"
             if tile else "whole frames")
    chunk = inference["chunk"]
    layout = "channels-last" if inference["channels_last"] else "contiguous NCHW"
    start = inference.get("sequence_start")
    begins = ("the arch's own sequence start" if start is None else
              "each clip mirrored" if start["mirror"] else
              f"{start['reflect_pad']} reflected frames prepended and dropped")
    return (f"{inference['precision']}, {layout}, {tiles}, clip chunks of {chunk['frames']} "
            f"frames overlapping {chunk['overlap']} ({chunk['policy']}), {begins}")

"""Quality allocation: the FOCAS configuration with the best foveated quality within a budget.

For every choice of cumulative depths 1 ≤ b1 < … < bn ≤ depth, a small convex problem
(MODELS.md §2.4, ``solve_region``) sizes the nested inner squares: with a_i the LR area of inner
region i (outer to inner), minimise Σ_i Δq_i·exp(−a_i/(2σ²)) subject to
Σ_i (b_{i+1} − b_i)·a_i + b1·H·W ≤ (T − B)/A, 0 ≤ a_inner ≤ … ≤ a_outer ≤ min(H, W)²,
where Δq_i is the quality gained by region i's extra blocks. Each solution is scored with the
foveated quality (``compute_quality``) and the best one wins.

Differences from the original, on purpose:

* The original's ``__main__`` reads ``opt.time`` while the option is ``--latency``, so it stops with
  an AttributeError; here ``--latency`` is the budget.
* The problem is solved in the scaled variable x = a/(2σ²) (same optimum, better conditioned),
  as one parametrised cvxpy problem re-solved per block tuple.
* With the original table, a deeper region's gain per block exceeds a shallower one's, so the
  optimum often makes consecutive regions equal; those are merged (identical computation) and
  ties between tuples go to the lower predicted latency, then the first tuple, instead of
  depending on solver noise.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np

from vsr.errors import VSRError
from vsr.foveation.latency import (
    SCALE,
    LatencyFit,
    LatencyProfile,
    SampledModel,
    lr_frame,
    sides_workload,
    workload,
)
from vsr.foveation.quality import ORIGINAL_QUALITY, check_table, foveated_quality, quality_after

ACCEPTED_STATUS = ("optimal", "optimal_inaccurate")


class InfeasibleBudget(VSRError, ValueError):
    """The budget is below the cheapest FOCAS model (one block on the full frame)."""

    def __init__(self, budget_ms: float, minimum_ms: float) -> None:
        self.budget_ms = budget_ms
        self.minimum_ms = minimum_ms
        super().__init__(
            f"latency budget {budget_ms:g} ms is infeasible on this machine: the cheapest FOCAS "
            f"model (1 block on the full frame, no inner regions) is predicted to take "
            f"{minimum_ms:.2f} ms per frame; use --latency {math.ceil(minimum_ms * 100) / 100:g}"
            " or more"
        )


@dataclass
class Solution:
    """One block tuple's optimum: continuous areas, and the FOCAS model they round to."""

    blocks: tuple[int, ...]
    areas: list[float]
    objective: float
    status: str
    latency_ms: float
    sides: list[int]
    quality: float
    model_blocks: list[int]
    model_sides: list[int]
    model_latency_ms: float

    def model_regions(self, resolution: tuple[int, int]) -> list:
        """FOCAS ``regions`` of the rounded model: the full frame, then the inner squares."""
        return SampledModel(tuple(self.model_blocks), tuple(self.model_sides)).regions(resolution)


@dataclass
class Allocation:
    budget_ms: float
    best: Solution
    candidates: list[Solution] = field(default_factory=list)


def hr_side(area: float, scale: int = SCALE) -> int:
    """HR side of a region of LR ``area``: int(d)//2·2·scale, as the original rounds."""
    d = math.sqrt(max(area, 0.0))
    return int(d) // 2 * 2 * scale


def objective(
    blocks: Sequence[int], areas: Sequence[float], table: Sequence[float], sigma: float
) -> float:
    """Σ_i Δq_i·exp(−a_i/(2σ²)): the quality still missing outside each region (a proxy)."""
    gains = quality_gains(blocks, table)
    return float(sum(g * math.exp(-a / (2 * sigma**2)) for g, a in zip(gains, areas)))


def quality_gains(blocks: Sequence[int], table: Sequence[float]) -> list[float]:
    return [
        quality_after(table, blocks[i + 1]) - quality_after(table, blocks[i])
        for i in range(len(blocks) - 1)
    ]


def effective_model(
    blocks: Sequence[int], sides: Sequence[int], resolution: tuple[int, int]
) -> tuple[list[int], list[int]]:
    """The FOCAS config that runs: empty regions (and all inside them) dropped, equal ones merged.

    Two nested squares of the same size run their blocks back to back on the same crop, which is
    one region with both depths; a square at least the frame's size is the frame itself.
    """
    out_blocks, out_sides = [blocks[0]], []
    for i, side in enumerate(sides):
        if side <= 0:
            break
        if side >= max(resolution) or (out_sides and side == out_sides[-1]):
            out_blocks[-1] = blocks[i + 1]
        else:
            out_blocks.append(blocks[i + 1])
            out_sides.append(side)
    return out_blocks, out_sides


@functools.lru_cache(maxsize=8)
def region_solver(n: int, solver: str | None = None) -> RegionSolver:
    """A compiled problem per size, shared by every allocation in the process."""
    return RegionSolver(n, solver)


class RegionSolver:
    """The per-tuple convex problem for ``n`` inner regions, compiled once and re-solved.

    In x = a/(2σ²) it reads: minimise gains·exp(−x) s.t. cost·x ≤ budget, x ≥ 0 for the innermost
    region, x_{i+1} ≤ x_i, x_0 ≤ cap — an exponential-cone program (Clarabel by default).
    """

    def __init__(self, n: int, solver: str | None = None) -> None:
        import cvxpy as cp

        self.n = n
        self.solver = solver
        self.x = cp.Variable(n)
        self.gains = cp.Parameter(n, nonneg=True)
        self.cost = cp.Parameter(n, nonneg=True)
        self.budget = cp.Parameter()
        self.cap = cp.Parameter(nonneg=True)
        constraints = [self.cost @ self.x <= self.budget, self.x[-1] >= 0, self.x[0] <= self.cap]
        constraints += [self.x[i + 1] <= self.x[i] for i in range(n - 1)]
        objective_expr = cp.sum(cp.multiply(self.gains, cp.exp(-self.x)))
        self.problem = cp.Problem(cp.Minimize(objective_expr), constraints)

    def solve(
        self, gains: Sequence[float], cost: Sequence[float], budget: float, cap: float
    ) -> tuple[str, np.ndarray | None]:
        """Status and the optimal x (None unless the status is accepted)."""
        import cvxpy as cp

        if budget < 0:
            return "infeasible", None
        self.gains.value = np.asarray(gains, dtype=np.float64)
        self.cost.value = np.asarray(cost, dtype=np.float64)
        self.budget.value = float(budget)
        self.cap.value = float(cap)
        try:
            self.problem.solve(solver=self.solver)
        except cp.error.SolverError:
            return "solver_error", None
        status = self.problem.status
        if status not in ACCEPTED_STATUS or self.x.value is None:
            return status, None
        # Clip the solver's tiny violations so areas are valid and nested.
        x = np.clip(self.x.value, 0.0, cap)
        return status, np.minimum.accumulate(x)


def solve_blocks(
    blocks: Sequence[int],
    budget_ms: float,
    fit: LatencyFit,
    resolution: tuple[int, int],
    table: Sequence[float] = ORIGINAL_QUALITY,
    sigma: float = 64.0,
    solver: RegionSolver | None = None,
) -> Solution | None:
    """Region sizes for one block tuple (None when infeasible), with score and rounded model."""
    if fit.A <= 0:
        raise ValueError(f"latency fit has slope A = {fit.A:g} <= 0: latency does not grow with "
                         "workload on this profile; re-profile (--reprofile) at a larger size")
    frame_lr = lr_frame(resolution)
    blocks = tuple(int(b) for b in blocks)
    n = len(blocks) - 1
    solver = solver or region_solver(n)
    scale2 = 2 * sigma**2
    spare = (budget_ms - fit.B) / fit.A - blocks[0] * frame_lr[0] * frame_lr[1]
    cost = [blocks[i + 1] - blocks[i] for i in range(n)]
    cap = min(frame_lr) ** 2 / scale2
    status, x = solver.solve(quality_gains(blocks, table), cost, spare / scale2, cap)
    if x is None:
        return None
    areas = (x * scale2).tolist()
    sides = [hr_side(a) for a in areas]
    model_blocks, model_sides = effective_model(blocks, sides, resolution)
    return Solution(
        blocks=blocks,
        areas=areas,
        objective=objective(blocks, areas, table, sigma),
        status=status,
        latency_ms=float(fit.predict(workload(blocks, areas, frame_lr))),
        sides=sides,
        quality=float(foveated_quality(blocks, sides, resolution, table, sigma)),
        model_blocks=model_blocks,
        model_sides=model_sides,
        model_latency_ms=float(fit.predict(sides_workload(model_blocks, model_sides, resolution))),
    )


def min_latency(fit: LatencyFit, resolution: tuple[int, int]) -> float:
    """Predicted latency of the cheapest model: one block on the full frame."""
    frame_lr = lr_frame(resolution)
    return float(fit.predict(frame_lr[0] * frame_lr[1]))


def rank_key(solution: Solution) -> tuple:
    """Best quality first; exact ties (e.g. merged regions) go to the cheaper model."""
    return (-round(solution.quality, 12), round(solution.model_latency_ms, 9), solution.blocks)


def allocate(
    budget_ms: float,
    fit: LatencyFit,
    resolution: tuple[int, int] = (1080, 1920),
    depth: int = 10,
    regions: int = 3,
    table: Sequence[float] = ORIGINAL_QUALITY,
    sigma: float = 64.0,
    solver_name: str | None = None,
) -> Allocation:
    """Solve every block tuple (C(depth, regions) of them) and keep the best foveated quality."""
    if regions < 2:
        raise ValueError(f"--regions must be at least 2 (full frame + one inner region), got "
                         f"{regions}")
    if regions > depth:
        raise ValueError(f"{regions} regions need at least {regions} blocks; depth is {depth}")
    table = check_table(table, depth)
    minimum = min_latency(fit, resolution)
    if budget_ms < minimum:
        raise InfeasibleBudget(budget_ms, minimum)
    solver = region_solver(regions - 1, solver_name)
    candidates = []
    for blocks in combinations(range(1, depth + 1), regions):
        solution = solve_blocks(blocks, budget_ms, fit, resolution, table, sigma, solver)
        if solution is not None:
            candidates.append(solution)
    if not candidates:
        raise InfeasibleBudget(budget_ms, minimum)
    best = min(candidates, key=rank_key)
    return Allocation(budget_ms, best, candidates)


def brute_force_blocks(
    blocks: Sequence[int],
    budget_ms: float,
    fit: LatencyFit,
    resolution: tuple[int, int],
    table: Sequence[float] = ORIGINAL_QUALITY,
    sigma: float = 64.0,
    step: float = 1.0,
) -> tuple[float, list[float]] | None:
    """Grid search over LR sides (every ``step`` px, nested) for the same problem as
    :func:`solve_blocks`: the reference it is tested against. Returns (objective, areas)."""
    frame_lr = lr_frame(resolution)
    n = len(blocks) - 1
    spare = (budget_ms - fit.B) / fit.A - blocks[0] * frame_lr[0] * frame_lr[1]
    if spare < 0:
        return None
    grid = np.arange(0.0, min(frame_lr) + 1e-9, step) ** 2
    gains = np.asarray(quality_gains(blocks, table))
    cost = np.diff(np.asarray(blocks, dtype=np.float64))
    mesh = np.stack(np.meshgrid(*([grid] * n), indexing="ij"), axis=-1).reshape(-1, n)
    nested = np.all(np.diff(mesh, axis=1) <= 0, axis=1) if n > 1 else np.ones(len(mesh), bool)
    feasible = nested & (mesh @ cost <= spare)
    mesh = mesh[feasible]
    values = np.exp(-mesh / (2 * sigma**2)) @ gains
    best = int(np.argmin(values))
    return float(values[best]), mesh[best].tolist()


def frontier(
    fit: LatencyFit,
    resolution: tuple[int, int],
    depth: int,
    regions: int,
    table: Sequence[float],
    sigma: float,
    points: int = 12,
) -> list[tuple[float, float]]:
    """(budget, best quality) from the cheapest model to the full-depth model."""
    frame_lr = lr_frame(resolution)
    low = min_latency(fit, resolution)
    high = float(fit.predict(depth * frame_lr[0] * frame_lr[1]))
    out = []
    for budget in np.linspace(low, high, points):
        best = allocate(float(budget), fit, resolution, depth, regions, table, sigma).best
        out.append((float(budget), best.quality))
    return out


def plot(profile: LatencyProfile, curve: list[tuple[float, float]], chosen: Solution,
         budget_ms: float, folder: Path) -> list[Path]:
    """The latency fit (samples, held-out models, line) and the quality–latency frontier."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    fit = profile.fit
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.array([s["workload"] for s in profile.samples])
    ax.scatter(x, [s["ms"] for s in profile.samples], label=f"design ({len(x)} models)")
    held = profile.heldout.get("samples", [])
    if held:
        ax.scatter([s["workload"] for s in held], [s["ms"] for s in held], marker="x",
                   label="held-out models")
    line = np.linspace(0, x.max() * 1.05, 50)
    ax.plot(line, fit.predict(line), "k--",
            label=f"{fit.B:.2f} ms + {fit.A:.3g}·W  (R²={fit.r2:.4f})")
    ax.set_xlabel("workload W (blocks × LR pixels)")
    ax.set_ylabel("latency per frame (ms)")
    ax.legend()
    fig.tight_layout()
    paths = [folder / "latency_fit.png"]
    fig.savefig(paths[0], dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([c[0] for c in curve], [c[1] for c in curve], "o-", label="best foveated quality")
    ax.scatter([budget_ms], [chosen.quality], color="red", zorder=3,
               label=f"chosen {chosen.model_blocks} {chosen.model_sides}")
    ax.set_xlabel("latency budget (ms)")
    ax.set_ylabel("estimated foveated quality")
    ax.legend()
    fig.tight_layout()
    paths.append(folder / "quality_frontier.png")
    fig.savefig(paths[1], dpi=120)
    plt.close(fig)
    return paths


def experiment_config(
    solution: Solution,
    resolution: tuple[int, int],
    depth: int,
    num_channels: int,
    name: str,
    notes: str,
    weights: str | None = None,
    base: str | None = None,
) -> dict:
    """An experiment config whose model is the chosen FOCAS (optionally over a ``_base_``)."""
    arch = {
        "type": "FOCAS",
        "scale": SCALE,
        "num_channels": num_channels,
        "num_blocks": depth,
        "blocks": list(solution.model_blocks),
        "regions": solution.model_regions(resolution),
    }
    model = {"type": "SupervisedVSR", "arch": arch}
    cfg: dict = {}
    if base:
        cfg["_base_"] = base
        model = {"_delete_": True, **model}
    cfg.update({"name": name, "model": model})
    if weights:
        cfg["weights"] = weights
    cfg["notes"] = notes
    return cfg


def parse_resolution(text: str) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--resolution must look like 1080x1920 (HxW), got {text!r}") from None
    if height < 8 * SCALE or width < 8 * SCALE:
        raise ValueError(f"--resolution {text} is too small for FOCAS regions")
    return height, width


def describe_fit(profile: LatencyProfile) -> str:
    fit, held, key = profile.fit, profile.heldout, profile.key
    origin = "cached profile" if profile.cached else f"profiled in {profile.profile_seconds:.1f} s"
    return (
        f"latency model on {key['device']} ({key['device_type']}, {key['threads']} threads, "
        f"{key['dtype']}), {key['design']} design, {fit.samples} models, {origin}:\n"
        f"  latency = {fit.B:.3f} ms + {fit.A:.4g} ms × workload   R² = {fit.r2:.4f}\n"
        f"  held-out ({held.get('method', '')}, {held.get('count', 0)} models): "
        f"MAE {held.get('mae_ms', float('nan')):.2f} ms, max {held.get('max_ms', float('nan')):.2f}"
        f" ms, MAPE {held.get('mape_pct', float('nan')):.2f} %"
    )


def describe_solution(solution: Solution, resolution: tuple[int, int]) -> str:
    regions = [tuple(resolution)] + [(s, s) for s in solution.sides]
    model_regions = [tuple(resolution)] + [(s, s) for s in solution.model_sides]
    lines = [
        f"  blocks {list(solution.blocks)}  regions {regions}",
        f"  estimated latency {solution.latency_ms:.3f} ms   estimated quality "
        f"{solution.quality:.5f}   (solver status {solution.status})",
    ]
    if (solution.model_blocks, solution.model_sides) != (list(solution.blocks), solution.sides):
        lines.append(f"  as run (empty regions dropped, equal ones merged): blocks "
                     f"{solution.model_blocks}  regions {model_regions}")
    lines.append(f"  predicted latency of the rounded model {solution.model_latency_ms:.3f} ms")
    return "\n".join(lines)

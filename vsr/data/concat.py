"""Several training sets as one, e.g. Vimeo-90K septuplets plus frames of a video."""

from __future__ import annotations

import bisect
from typing import Annotated, Any

from torch.utils.data import Dataset

from vsr.registry import DATASETS


@DATASETS.register("ConcatDataset")
class ConcatDataset(Dataset):
    """Items of every listed dataset in order; indexed by ``(index, seed)`` like its parts, so
    the per-sample seeding (exact resume) carries through."""

    def __init__(self, datasets: list[Annotated[dict, DATASETS]]) -> None:
        if not datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        self.parts = [DATASETS.build(spec) for spec in datasets]
        self._ends: list[int] = []
        total = 0
        for part in self.parts:
            total += len(part)
            self._ends.append(total)

    def __len__(self) -> int:
        return self._ends[-1]

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        index, seed = key
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        part = bisect.bisect_right(self._ends, index)
        start = self._ends[part - 1] if part else 0
        return self.parts[part][(index - start, seed)]

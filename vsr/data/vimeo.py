"""Vimeo-90K septuplets (MODELS.md §7.4), from frame folders or LMDBs.

Layout ``sequences/<group>/<clip>/im1.png … im7.png`` with the clips listed in
``sep_trainlist.txt`` / ``sep_testlist.txt`` (one ``00001/0266`` per line). LR frames, when
stored, follow the same layout (``vimeo_septuplet_matlabLRx4/sequences`` for BI,
``vimeo_septuplet_BDLRx4/sequences`` for BD) or an LMDB with keys ``00001/0266/im1``. Every listed
clip is taken to hold 7 frames, so the 64,612 training folders are never listed upfront.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from torch.utils.data import Dataset

from vsr.data.degradation_spec import DegradationSpec
from vsr.data.storage import DataPathLike, FrameStore, open_store
from vsr.data.video_folder import (
    VideoFolderTest,
    read_clip_list,
    window_training_set,
)
from vsr.io.image import FrameReadError
from vsr.registry import DATASETS

SEPTUPLET = 7


def septuplet_entries(
    store: FrameStore, list_file: DataPathLike | Sequence[str]
) -> list[tuple[str, int, None]]:
    """(clip, 7, None) per listed septuplet, after checking that each entry has frames — a bad
    entry fails here, naming it, rather than hours into training."""
    names = read_clip_list(list_file)
    source = list_file if isinstance(list_file, (str, os.PathLike)) else "the clip list"
    if not names:
        raise ValueError(f"{source} lists no Vimeo-90K clips")
    for name in names:
        if not store.has_clip(name):
            raise FrameReadError(
                f"Vimeo-90K entry {name!r} of {source} has no frames: "
                f"{store.locate(name)} not found"
            )
    return [(name, SEPTUPLET, None) for name in names]


@DATASETS.register()
class Vimeo90K(Dataset):
    """Vimeo-90K training set: one item per listed septuplet, its centre ``num_frames`` frames
    (all 7 by default; 5 = im2…im6).

    LR comes from ``lr_root`` (stored LR frames) or from ``degradation`` applied to the GT patch,
    exactly as in ``PairedVideoFolder`` / ``GTVideoFolder`` (same item format, same draws from
    ``(index, seed)``). ``gt_root`` and ``lr_root`` are frame folders or LMDBs. The GT must hold
    all 7 frames of each clip: BasicSR's centre-frame-only GT LMDB cannot serve clip models.
    """

    def __init__(
        self,
        gt_root: DataPathLike | FrameStore,
        list_file: DataPathLike | Sequence[str],
        scale: int = 4,
        num_frames: int = SEPTUPLET,
        degradation: DegradationSpec | None = None,
        lr_root: DataPathLike | FrameStore | None = None,
        gt_patch_size: int | tuple[int, int] | None = None,
        use_hflip: bool = True,
        use_vflip: bool = False,
        use_transpose: bool = False,
        use_reverse: bool = False,
    ) -> None:
        if not 1 <= num_frames <= SEPTUPLET:
            raise ValueError(f"num_frames must be in 1..{SEPTUPLET}, got {num_frames}")
        store = open_store(gt_root)
        self.windows = window_training_set(
            store,
            lr_root,
            degradation,
            scale=scale,
            num_frames=num_frames,
            gt_patch_size=gt_patch_size,
            meta_info=septuplet_entries(store, list_file),
            use_hflip=use_hflip,
            use_vflip=use_vflip,
            use_transpose=use_transpose,
            use_reverse=use_reverse,
        )
        # The windows dataset serves every window; keep the centred one of each septuplet.
        self._stride = SEPTUPLET - num_frames + 1
        self._offset = (SEPTUPLET - num_frames) // 2

    def __len__(self) -> int:
        return len(self.windows) // self._stride

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        if not (isinstance(key, tuple) and len(key) == 2):
            raise TypeError(f"index training sets with (index, seed) tuples, got {key!r}")
        index, seed = key
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} septuplets")
        return self.windows[(index * self._stride + self._offset, seed)]


@DATASETS.register()
class Vimeo90KTest(VideoFolderTest):
    """Vimeo-90K-T (``sep_testlist.txt``): each listed septuplet is a 7-frame test clip named like
    ``00001/0266``. Whether all frames or only the centre ``im4`` are scored is the metric
    protocol's choice, not the dataset's."""

    def __init__(
        self,
        gt_root: DataPathLike | FrameStore,
        list_file: DataPathLike | Sequence[str],
        lr_root: DataPathLike | FrameStore | None = None,
        degradation: DegradationSpec | None = None,
        scale: int = 4,
    ) -> None:
        store = open_store(gt_root)
        super().__init__(
            lr_root,
            store,
            scale=scale,
            degradation=degradation,
            meta_info=septuplet_entries(store, list_file),
        )

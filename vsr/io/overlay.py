"""Drawing on output frames: boxes (e.g. foveated regions) and a point (e.g. the gaze)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

_COLOURS = ((255, 255, 0), (255, 128, 0), (255, 0, 0))  # outer to inner boxes


def draw_boxes_and_point(
    frame: np.ndarray, boxes: Sequence[tuple[int, int, int, int]], point: Sequence[int] | None
) -> np.ndarray:
    """A copy of the uint8 RGB ``frame`` with (top, left, bottom, right) ``boxes`` outlined,
    outer to inner in yellow, orange, red, and a green dot at the (h, w) ``point``."""
    out = np.ascontiguousarray(frame).copy()
    for i, (top, left, bottom, right) in enumerate(boxes):
        colour = _COLOURS[min(i, len(_COLOURS) - 1)]
        cv2.rectangle(out, (left, top), (right - 1, bottom - 1), colour, 2)
    if point is not None:
        cv2.circle(out, (int(point[1]), int(point[0])), 6, (0, 255, 0), -1)
    return out

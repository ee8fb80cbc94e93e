"""Drawing what a foveated model did on its output: the gaze point and the region borders."""

from __future__ import annotations

import cv2
import numpy as np

from vsr.archs.focas import FOCAS

_COLOURS = ((255, 255, 0), (255, 128, 0), (255, 0, 0))  # outer to inner regions


def region_boxes(
    arch: FOCAS, lr_size: tuple[int, int], gaze: tuple[int, int] | None
) -> list[tuple[int, int, int, int]]:
    """(top, left, bottom, right) in HR pixels of each inner region for this gaze; crops are
    nested, so each one's offsets add to its parent's."""
    boxes = []
    top = left = 0
    for crop in arch.crops(lr_size, gaze):
        up, down, c_left, c_right = crop.feat
        top, left = top + up, left + c_left
        s = arch.scale
        boxes.append((top * s, left * s, (top + down - up) * s, (left + c_right - c_left) * s))
    return boxes


def draw_foveation(
    frame: np.ndarray, boxes: list[tuple[int, int, int, int]], gaze: tuple[int, int] | None
) -> np.ndarray:
    """A copy of the uint8 RGB ``frame`` with region borders and the gaze point drawn on it."""
    out = np.ascontiguousarray(frame).copy()
    for i, (top, left, bottom, right) in enumerate(boxes):
        colour = _COLOURS[min(i, len(_COLOURS) - 1)]
        cv2.rectangle(out, (left, top), (right - 1, bottom - 1), colour, 2)
    if gaze is not None:
        cv2.circle(out, (int(gaze[1]), int(gaze[0])), 6, (0, 255, 0), -1)
    return out


def annotate(frame: np.ndarray, arch: object, gaze: tuple[int, int] | None) -> np.ndarray:
    """``frame`` (an SR output) with the gaze and, for a FOCAS arch, the regions it ran for it."""
    if not isinstance(arch, FOCAS):
        return draw_foveation(frame, [], gaze)
    lr_size = (frame.shape[0] // arch.scale, frame.shape[1] // arch.scale)
    return draw_foveation(frame, region_boxes(arch, lr_size, gaze), gaze)

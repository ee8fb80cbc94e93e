"""Region borders follow the FOCAS crops, nested and clamped at the frame edge."""

import numpy as np

from vsr.archs.focas import FOCAS
from vsr.io.overlay import draw_boxes_and_point


def _arch() -> FOCAS:
    return FOCAS(num_channels=4, num_blocks=3, blocks=[1, 2, 3],
                 regions=["full", [64, 64], [32, 32]])


def test_region_boxes_nested_and_clamped():
    arch = _arch()
    assert arch.region_boxes((40, 60), (80, 120)) == [(48, 88, 112, 152), (64, 104, 96, 136)]
    top, left, bottom, right = arch.region_boxes((40, 60), (0, 0))[0]
    assert (top, left) == (0, 0) and bottom == right == 32  # clamped at the corner


def test_draw_marks_gaze_and_borders_without_touching_the_input():
    frame = np.zeros((160, 240, 3), np.uint8)
    out = draw_boxes_and_point(frame, [(48, 88, 112, 152)], (80, 120))
    assert frame.max() == 0
    assert tuple(out[80, 120]) == (0, 255, 0) and out[48, 100].any() and not out[0, 0].any()


def test_focas_overlay_draws_its_regions_for_the_gaze():
    out = _arch().overlay(np.zeros((160, 240, 3), np.uint8), gaze=(80, 120))
    assert tuple(out[80, 120]) == (0, 255, 0)
    assert out[48, 100].any() and out[64, 110].any() and not out[20, 20].any()

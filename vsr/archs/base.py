"""How an architecture consumes a video, declared once so one engine runs every model.

Every arch is an ``nn.Module`` with a class attribute ``temporal`` and an integer ``scale``:

* ``"frame"``: ``forward(x)`` maps one LR frame batch (N, C, H, W) to SR (N, C, sH, sW).
* ``"window"``: ``forward(x)`` maps (N, T, C, H, W) with ``T = num_frames`` to the SR of the
  centre frame (N, C, sH, sW).
* ``"recurrent"``: ``step(lr_prev, lr_curr, state)`` maps two LR frames (N, C, H, W) and the carried
  state (``None`` at the start of a sequence) to ``(sr, new_state)``. ``first_prev`` says which
  frame plays ``lr_prev`` at the first step: ``"next"`` (frame 1, RRN's temporal pairing),
  ``"same"`` (frame 0), or ``"zeros"``.
* ``"clip"``: ``forward(x)`` maps (N, T, C, H, W) to (N, T, C, sH, sW) at once.

The loops that turn these into whole-clip and streaming computations live in
``vsr.archs.sequence`` and nowhere else.
"""

from __future__ import annotations

from typing import Literal

TemporalMode = Literal["frame", "window", "recurrent", "clip"]
FirstPrev = Literal["next", "same", "zeros"]
TEMPORAL_MODES: tuple[str, ...] = ("frame", "window", "recurrent", "clip")

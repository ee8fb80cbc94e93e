"""A network's whole training clip as one ``forward``: what DistributedDataParallel wraps."""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn

from vsr.archs.sequence import centre_frame, run_clip_with_extras


class ClipRunner(nn.Module):
    """Runs ``arch`` over a clip (N, T, C, H, W) in its temporal mode; returns the SR clip and
    the extra outputs of a recurrent ``step``. A window arch given exactly its window returns
    the centre frame only (N, 1, C, sH, sW), which is what it is trained on. Its state-dict keys
    are the arch's under ``arch.``."""

    def __init__(self, arch: nn.Module) -> None:
        super().__init__()
        self.arch = arch

    def forward(self, lr: Tensor,
                conditions: Mapping[str, Tensor] | None = None) -> tuple[Tensor, dict]:
        centre = centre_frame(self.arch, lr.shape[1])
        if centre is not None:
            return self.arch(lr)[:, None], {}
        return run_clip_with_extras(self.arch, lr, conditions)

    def targets(self, gt: Tensor) -> Tensor:
        """The GT frames the output of ``forward`` is compared with."""
        centre = centre_frame(self.arch, gt.shape[1])
        return gt if centre is None else gt[:, centre:centre + 1]

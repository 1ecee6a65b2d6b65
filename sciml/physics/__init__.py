"""Physics: operator-learning losses on grids (relative L2 / H1); PDE residuals come later."""

from sciml.physics._losses import (
    H1_METHODS,
    H1Loss,
    RelativeL2,
    grid_gradient,
    h1_loss,
    rel_l2_loss,
)

__all__ = ["rel_l2_loss", "h1_loss", "grid_gradient", "RelativeL2", "H1Loss", "H1_METHODS"]

"""What every PDE data set returns (``PDEData``), per-channel normalisation and coordinate channels.

Layout (channel-first, float32): operator data sets hold ``x (n, c_in, *spatial)`` and
``y (n, c_out, *spatial)``; time-dependent sets hold the first frame ``x (n, c, *spatial)`` and the
trajectory ``y (n, T, c, *spatial)``. Test tensors may be at a different resolution than the
training tensors (zero-shot super-resolution).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from jaxtyping import Float
from torch import Tensor

from sciml.data import Grid
from sciml.errors import DataError, NonFiniteError

__all__ = ["PDEData", "UnitGaussianNormalizer", "with_coordinates", "PDE_BOUNDARIES"]

#: Boundary kinds a PDE data set declares; grid operators pad accordingly
#: (dirichlet → zeros, periodic → circular, neumann → reflect).
PDE_BOUNDARIES = ("dirichlet", "periodic", "neumann")


def _shape(t: Tensor) -> str:
    return "x".join(str(s) for s in t.shape)


@dataclass(eq=False)
class PDEData:
    """Train and test tensors of a PDE data set, with its boundary condition and parameters.

    Args:
        x_train: Inputs ``(n_train, c_in, *spatial)``.
        y_train: Targets ``(n_train, c_out, *spatial)``, or trajectories
            ``(n_train, T, c, *spatial)``.
        x_test: Test inputs, same layout as ``x_train`` (the spatial size may differ).
        y_test: Test targets, same layout as ``y_train`` (the spatial size may differ).
        boundary: ``"dirichlet"``, ``"periodic"`` or ``"neumann"``.
        name: Data set name.
        params: Generator or file parameters (JSON-like).
        extent: Physical interval ``(lo, hi)`` of each spatial axis, spanned by the grid's nodes
            (None: ``[0, 1]`` per axis, what the built-in sets use). It sets the spacing of
            derivatives (the H1 loss); coordinate channels stay the position scaled to [0, 1].
    """

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    boundary: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    extent: tuple[tuple[float, float], ...] | None = None

    def __post_init__(self) -> None:
        if self.boundary not in PDE_BOUNDARIES:
            raise ValueError(
                f"boundary must be one of {list(PDE_BOUNDARIES)}, got {self.boundary!r}"
            )
        for key in ("x_train", "y_train", "x_test", "y_test"):
            value = getattr(self, key)
            if not isinstance(value, Tensor):
                raise TypeError(f"PDEData.{key} must be a torch.Tensor, got {type(value).__name__}")
            if value.dim() < 3:
                raise DataError(
                    f"PDEData.{key} must be (n, c, *spatial) or (n, T, c, *spatial), "
                    f"got shape {tuple(value.shape)}"
                )
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.shape[0] != y.shape[0]:
                raise DataError(
                    f"PDEData: x_{split} has {x.shape[0]} samples but y_{split} has {y.shape[0]}"
                )
            if x.shape[-self.ndim:] != y.shape[-self.ndim:]:
                raise DataError(
                    f"PDEData: x_{split} spatial shape {tuple(x.shape[2:])} differs from y_{split} "
                    f"{tuple(y.shape[-self.ndim:])}"
                )
        if self.y_train.dim() != self.y_test.dim() or self.x_train.dim() != self.x_test.dim():
            raise DataError("PDEData: train and test tensors must have the same number of axes")
        if self.extent is not None:
            extent = tuple(tuple(float(v) for v in axis) for axis in self.extent)
            if len(extent) != self.ndim or any(
                    len(a) != 2 or not a[0] < a[1] or not all(map(math.isfinite, a))
                    for a in extent):
                raise ValueError(f"PDEData.extent must be {self.ndim} intervals (lo, hi) with "
                                 f"lo < hi, got {self.extent!r}")
            self.extent = extent

    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return self.x_train.dim() - 2

    @property
    def time_dependent(self) -> bool:
        """Whether ``y_*`` are trajectories ``(n, T, c, *spatial)``."""
        return self.y_train.dim() == self.x_train.dim() + 1

    def __repr__(self) -> str:
        shapes = ", ".join(
            f"{k}={_shape(getattr(self, k))}" for k in ("x_train", "y_train", "x_test", "y_test")
        )
        return f"PDEData(name={self.name!r}, {shapes}, boundary={self.boundary!r})"


class UnitGaussianNormalizer:
    """Per-channel standardisation ``(x - mean_c) / (std_c + eps)``, fit on the training split.

    Unlike FNO's pointwise normaliser (one mean per grid point) the statistics are per channel over
    samples and space, so the same normaliser applies at any resolution.

    Args:
        channel_dim: The channel axis: 1 for ``(n, c, *spatial)``, 2 for trajectories
            ``(n, T, c, *spatial)``.
        eps: Added to the standard deviation (guards constant channels).
    """

    def __init__(self, channel_dim: int = 1, eps: float = 1e-5) -> None:
        if isinstance(channel_dim, bool) or not isinstance(channel_dim, int) or channel_dim < 1:
            raise ValueError(f"channel_dim must be an int >= 1 (0 is the sample axis), got "
                             f"{channel_dim!r}")
        if not eps >= 0:
            raise ValueError(f"eps must be >= 0, got {eps!r}")
        self.channel_dim = channel_dim
        self.eps = float(eps)
        self.mean: Tensor | None = None
        self.std: Tensor | None = None

    def __repr__(self) -> str:
        state = f"channels={self.mean.numel()}" if self.mean is not None else "unfitted"
        return f"UnitGaussianNormalizer(channel_dim={self.channel_dim}, {state})"

    @property
    def fitted(self) -> bool:
        """Whether :meth:`fit` or :meth:`load_state_dict` has been called."""
        return self.mean is not None

    def _check(self, x: Tensor, what: str) -> None:
        if not isinstance(x, Tensor):
            raise TypeError(f"{what}: expected a torch.Tensor, got {type(x).__name__}")
        if x.dim() <= self.channel_dim:
            raise DataError(
                f"{what}: tensor of shape {tuple(x.shape)} has no channel axis {self.channel_dim}"
            )

    def fit(self, x: Float[Tensor, "n ..."]) -> UnitGaussianNormalizer:
        """Compute the mean and (population) standard deviation of each channel of ``x``.

        Returns:
            ``self``. Raises :class:`NonFiniteError` if ``x`` holds NaN or infinity.
        """
        self._check(x, "UnitGaussianNormalizer.fit")
        if x.numel() == 0:
            raise DataError("UnitGaussianNormalizer.fit: empty tensor")
        x64 = x.detach().to(torch.float64)
        if not bool(torch.isfinite(x64).all()):
            raise NonFiniteError("UnitGaussianNormalizer.fit: the data hold NaN or infinity")
        flat = x64.movedim(self.channel_dim, 0).reshape(x64.shape[self.channel_dim], -1)
        self.mean = flat.mean(dim=1).cpu()
        self.std = flat.std(dim=1, unbiased=False).cpu()
        return self

    def _stats(self, x: Tensor, what: str) -> tuple[Tensor, Tensor]:
        if self.mean is None or self.std is None:
            raise RuntimeError(f"UnitGaussianNormalizer.{what}: call fit() first")
        self._check(x, f"UnitGaussianNormalizer.{what}")
        c = x.shape[self.channel_dim]
        if c != self.mean.numel():
            raise DataError(
                f"UnitGaussianNormalizer.{what}: {c} channels on axis {self.channel_dim}, "
                f"fitted on {self.mean.numel()}"
            )
        view = [1] * x.dim()
        view[self.channel_dim] = c
        dtype = x.dtype if x.is_floating_point() else torch.float32
        mean = self.mean.to(device=x.device, dtype=dtype).view(view)
        std = self.std.to(device=x.device, dtype=dtype).view(view)
        return mean, std + self.eps

    def encode(self, x: Float[Tensor, "n ..."]) -> Float[Tensor, "n ..."]:
        """``(x - mean) / (std + eps)`` per channel."""
        mean, std = self._stats(x, "encode")
        return (x - mean) / std

    def decode(self, x: Float[Tensor, "n ..."]) -> Float[Tensor, "n ..."]:
        """Inverse of :meth:`encode`: ``x (std + eps) + mean`` per channel."""
        mean, std = self._stats(x, "decode")
        return x * std + mean

    def state_dict(self) -> dict[str, Tensor]:
        """Plain tensors (loadable with ``torch.load(weights_only=True)``)."""
        if self.mean is None or self.std is None:
            raise RuntimeError("UnitGaussianNormalizer.state_dict: call fit() first")
        return {
            "mean": self.mean.clone(),
            "std": self.std.clone(),
            "eps": torch.tensor(self.eps, dtype=torch.float64),
            "channel_dim": torch.tensor(self.channel_dim),
        }

    def load_state_dict(self, state: dict[str, Tensor]) -> UnitGaussianNormalizer:
        """Restore from :meth:`state_dict`; returns ``self``."""
        missing = sorted({"mean", "std", "eps", "channel_dim"} - set(state))
        if missing:
            raise DataError(f"UnitGaussianNormalizer state is missing {missing}; keys found: "
                            f"{sorted(state)}")
        mean = torch.as_tensor(state["mean"], dtype=torch.float64).reshape(-1)
        std = torch.as_tensor(state["std"], dtype=torch.float64).reshape(-1)
        if mean.shape != std.shape:
            raise DataError(f"UnitGaussianNormalizer state: mean {tuple(mean.shape)} and std "
                            f"{tuple(std.shape)} differ in shape")
        self.mean, self.std = mean.cpu(), std.cpu()
        self.eps = float(state["eps"])
        self.channel_dim = int(state["channel_dim"])
        return self


def with_coordinates(
    x: Float[Tensor, "n c *spatial"], boundary: str
) -> Float[Tensor, "n c_plus_d *spatial"]:
    """Append the grid coordinates in ``[0, 1]`` as channels: ``(n, c + ndim, *spatial)``.

    Resolution-independent: on a Dirichlet/Neumann vertex grid of ``s`` points the coordinates are
    ``i / (s - 1)`` (boundary nodes at 0 and 1), on a periodic axis ``i / s`` (1 is the point 0),
    the same convention as the generated data sets, so a model sees the same coordinate field at
    every resolution.

    Args:
        x: Fields ``(n, c, *spatial)``.
        boundary: ``"dirichlet"``, ``"periodic"`` or ``"neumann"``.

    Returns:
        ``x`` with ``ndim`` coordinate channels appended (channel ``c + i`` = axis ``i``).
    """
    if boundary not in PDE_BOUNDARIES:
        raise ValueError(f"boundary must be one of {list(PDE_BOUNDARIES)}, got {boundary!r}")
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < 3:
        raise DataError(f"with_coordinates: x must be (n, c, *spatial), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"with_coordinates: x must be floating point, got {x.dtype}")
    return Grid(x, bc=boundary, centering="vertex").with_coordinates().u

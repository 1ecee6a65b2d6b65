"""Base class of the spatiotemporal forecasters: run-time sizes and input checks."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from jaxtyping import Float, Int
from torch import Tensor

from sciml.models._base import AbstractModel, _registered_name
from sciml.nn import check_edge_index
from sciml.registry import MODELS

__all__ = ["AbstractForecaster", "models_without_graph"]


def models_without_graph() -> list[str]:
    """Names of the registered forecasters that run without a given graph."""
    names = []
    for name in MODELS.names():
        cls, _ = MODELS.get(name)
        if isinstance(cls, type) and issubclass(cls, AbstractForecaster) and cls.graph_optional:
            names.append(name)
    return names


class AbstractForecaster(AbstractModel):
    """A model mapping a window of T past steps on N nodes to H future steps.

    ``forward(x, edge_index=None, edge_weight=None, u=None)`` takes x (B, T, N, F) whose first
    ``output_size`` channels are the target variable(s), the graph as ``edge_index`` ([src; dst])
    and ``edge_weight``, and exogenous covariates u (B, T, N, exog_size) over the same window; it
    returns (B, H, N, output_size).

    Subclasses set ``graph_optional`` (the class can run with ``edge_index=None``) and, for
    per-node parameters (node embeddings), ``fixed_nodes`` (N must equal ``n_nodes``).
    """

    graph_optional: ClassVar[bool] = False
    fixed_nodes: ClassVar[bool] = False

    def __init__(
        self, config: Any, *, n_nodes: int, input_size: int, output_size: int, window: int,
        horizon: int, exog_size: int = 0,
    ) -> None:
        sizes = {"n_nodes": n_nodes, "input_size": input_size, "output_size": output_size,
                 "window": window, "horizon": horizon}
        for key, v in sizes.items():
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{key} must be a positive integer, got {v!r}")
        if isinstance(exog_size, bool) or not isinstance(exog_size, int) or exog_size < 0:
            raise ValueError(f"exog_size must be a non-negative integer, got {exog_size!r}")
        if output_size > input_size:
            raise ValueError(
                f"output_size ({output_size}) must not exceed input_size ({input_size}): the "
                "first output_size input channels are the targets"
            )
        super().__init__(config, exog_size=exog_size, **sizes)
        self.n_nodes, self.input_size, self.output_size = n_nodes, input_size, output_size
        self.window, self.horizon, self.exog_size = window, horizon, exog_size

    @property
    def requires_graph(self) -> bool:
        """Whether :meth:`forward` needs ``edge_index`` (per instance: may depend on the config)."""
        return not self.graph_optional

    def _name(self) -> str:
        try:
            return _registered_name(type(self))
        except ValueError:
            return type(self).__name__

    def _check_inputs(
        self,
        x: Float[Tensor, "b t n f"],
        edge_index: Int[Tensor, "2 e"] | None,
        edge_weight: Float[Tensor, " e"] | None,
        u: Float[Tensor, "b t n c"] | None,
    ) -> Tensor:
        """Validate the inputs; return x with u appended on the channel axis (B, T, N, F + C)."""
        problem = self._input_problem(x, edge_index, edge_weight, u)
        if problem is not None:
            kind, message = problem
            raise kind(f"{self._name()}{message}")
        if u is None:
            return x
        return torch.cat([x, u.to(x.dtype)], dim=-1)

    def _input_problem(
        self, x: Tensor, edge_index: Tensor | None, edge_weight: Tensor | None, u: Tensor | None
    ) -> tuple[type[Exception], str] | None:
        """The error class and message (after the model name) for bad inputs, or None."""
        if not isinstance(x, Tensor) or not x.is_floating_point():
            return TypeError, (": x must be a floating-point tensor, got "
                               f"{getattr(x, 'dtype', type(x).__name__)}")
        if x.dim() != 4:
            return ValueError, f": x must have shape (B, T, N, F) (4 dims), got {tuple(x.shape)}"
        b, t, n, f = x.shape
        if t != self.window or f != self.input_size:
            return ValueError, (f": x must have shape (B, T={self.window}, N, "
                                f"F={self.input_size}), got {tuple(x.shape)}")
        if self.fixed_nodes and n != self.n_nodes:
            return ValueError, (f": has per-node parameters for n_nodes={self.n_nodes}, got x "
                                f"with {n} nodes")
        if edge_index is None:
            if edge_weight is not None:
                return ValueError, ": edge_weight given without edge_index"
            if self.requires_graph:
                return ValueError, (" needs a graph: pass edge_index (models that run without a "
                                    f"graph: {', '.join(models_without_graph())})")
        else:
            try:
                check_edge_index(edge_index, n, edge_weight)
            except (TypeError, ValueError) as e:
                return type(e), f": {e}"
        if self.exog_size == 0 and u is not None:
            return ValueError, (f": built with exog_size=0 but got covariates u of shape "
                                f"{tuple(u.shape)}; build it with exog_size={u.shape[-1]}")
        if self.exog_size > 0 and u is None:
            return ValueError, (f": built with exog_size={self.exog_size} but got u=None; pass "
                                f"covariates u of shape (B, T, N, {self.exog_size})")
        if u is not None and u.shape != (b, t, n, self.exog_size):
            return ValueError, (f": u must have shape (B, T, N, exog_size) = "
                                f"{(b, t, n, self.exog_size)}, got {tuple(u.shape)}")
        return None

    def _to_output(self, z: Float[Tensor, "b n hf"]) -> Float[Tensor, "b h n f"]:
        """Reshape a per-node read-out of horizon x output_size values to (B, H, N, F)."""
        b, n, _ = z.shape
        return z.reshape(b, n, self.horizon, self.output_size).transpose(1, 2)

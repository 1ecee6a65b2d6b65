"""Modern Hopfield layers (Ramsauer et al., "Hopfield Networks is All You Need", ICLR 2021).

The continuous modern Hopfield network stores patterns ``X = (x_1 … x_N)`` and updates a state
pattern ``ξ`` by

.. math:: ξ^{new} = X \\operatorname{softmax}(β X^T ξ),

which minimises the energy ``E = −β^{-1} \\log Σ_i \\exp(β x_i^T ξ) + ½ ξ^T ξ + const`` and
converges in one update for well-separated patterns. The inverse temperature β sets the fixed
point reached: small β, a global fixed point near the mean of all patterns; intermediate β,
metastable states averaging a subset of similar patterns; large β, the stored pattern nearest to
``ξ`` (:func:`hopfield_update`).

The layers map inputs into an associative space before the update (Ramsauer et al., eq. 10):
state patterns ``R`` (queries) and stored patterns ``Y`` (keys; values ``V`` default to ``Y``),
``Q = R W_Q``, ``K = Y W_K``, ``V = V W_V``; ``update_steps`` extra updates
``Q ← softmax(β Q K^T) K`` move the queries towards their fixed points, and the read-out is
``Z = softmax(β Q K^T) V W_O`` (per head; β = 1/√d_k by default, the transformer's scaling).

- :class:`Hopfield`: state and stored patterns both given (association of two sets).
- :class:`HopfieldPooling`: the state patterns are learned (one or more static queries), so a set
  of any size becomes a fixed-size vector (multiple-instance learning, graph read-out).
- :class:`HopfieldLayer`: the stored patterns are learned (a memory the inputs look up).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["hopfield_update", "Hopfield", "HopfieldPooling", "HopfieldLayer"]


def hopfield_update(state: Tensor, stored: Tensor, beta: float, steps: int = 1,
                    mask: Tensor | None = None) -> Tensor:
    """``steps`` updates ``ξ ← softmax(β ξ X^T) X`` of the state patterns.

    Args:
        state: ``(..., S, d)`` state patterns ξ (rows).
        stored: ``(..., N, d)`` stored patterns x_i (rows).
        beta: Inverse temperature β.
        steps: Number of updates.
        mask: ``(..., N)`` True where a stored pattern is absent (padding).

    Returns:
        The updated state patterns ``(..., S, d)``.
    """
    xi = state
    for _ in range(steps):
        logits = beta * xi @ stored.transpose(-1, -2)
        if mask is not None:
            logits = logits.masked_fill(mask[..., None, :], float("-inf"))
        xi = logits.softmax(-1) @ stored
    return xi


class Hopfield(nn.Module):
    """Association of state patterns ``R`` with stored patterns ``Y`` (see the module text).

    Args:
        input_size: Features of the state patterns ``R``.
        stored_size: Features of the stored patterns ``Y`` (default ``input_size``).
        value_size: Features of the values (default ``stored_size``).
        hidden_size: Size of the associative space per head (default ``input_size``).
        output_size: Features of the output (default ``input_size``).
        heads: Number of heads (each its own projections and β-association).
        beta: Inverse temperature; default ``1/√hidden_size``.
        update_steps: Extra updates of the queries in the associative space before the read-out.
        normalize: Layer-normalise the state, stored and value patterns first (as the paper's
            implementation does by default).
        dropout: On the association weights.
    """

    def __init__(self, input_size: int, stored_size: int | None = None,
                 value_size: int | None = None, hidden_size: int | None = None,
                 output_size: int | None = None, heads: int = 1, beta: float | None = None,
                 update_steps: int = 0, normalize: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        stored_size = stored_size or input_size
        value_size = value_size or stored_size
        hidden_size = hidden_size or input_size
        output_size = output_size or input_size
        for name, v in (("input_size", input_size), ("stored_size", stored_size),
                        ("value_size", value_size), ("hidden_size", hidden_size),
                        ("output_size", output_size), ("heads", heads)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not isinstance(update_steps, int) or update_steps < 0:
            raise ValueError(f"update_steps must be an integer >= 0, got {update_steps!r}")
        self.heads, self.hidden_size, self.update_steps = heads, hidden_size, update_steps
        self.beta = float(beta) if beta is not None else 1.0 / math.sqrt(hidden_size)
        if not self.beta > 0:
            raise ValueError(f"beta must be > 0, got {beta!r}")
        self.norm_state = nn.LayerNorm(input_size) if normalize else nn.Identity()
        self.norm_stored = nn.LayerNorm(stored_size) if normalize else nn.Identity()
        self.norm_value = nn.LayerNorm(value_size) if normalize else nn.Identity()
        self.q = nn.Linear(input_size, heads * hidden_size)
        self.k = nn.Linear(stored_size, heads * hidden_size)
        self.v = nn.Linear(value_size, heads * hidden_size)
        self.out = nn.Linear(heads * hidden_size, output_size)
        self.dropout = nn.Dropout(dropout)

    def _split(self, x: Tensor) -> Tensor:  # (b, n, h·d) -> (b, h, n, d)
        return x.unflatten(-1, (self.heads, self.hidden_size)).transpose(-2, -3)

    def association(self, state: Tensor, stored: Tensor, values: Tensor | None = None,
                    mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The read-out before the output projection ``(b, h, S, d)`` and the association
        weights ``softmax(β Q K^T)`` ``(b, h, S, N)``."""
        values = stored if values is None else values
        q = self._split(self.q(self.norm_state(state)))
        k = self._split(self.k(self.norm_stored(stored)))
        v = self._split(self.v(self.norm_value(values)))
        hm = None if mask is None else mask[:, None, :]
        q = hopfield_update(q, k, self.beta, self.update_steps, hm)
        logits = self.beta * q @ k.transpose(-1, -2)
        if hm is not None:
            logits = logits.masked_fill(hm[..., None, :], float("-inf"))
        weights = logits.softmax(-1)
        return self.dropout(weights) @ v, weights

    def forward(self, state: Tensor, stored: Tensor, values: Tensor | None = None,
                mask: Tensor | None = None) -> Tensor:
        """``(b, S, input_size)``, ``(b, N, stored_size)`` [, values ``(b, N, value_size)``,
        mask ``(b, N)`` True = padding] → ``(b, S, output_size)``."""
        z, _ = self.association(state, stored, values, mask)
        return self.out(z.transpose(-2, -3).flatten(-2))


class HopfieldPooling(nn.Module):
    """A set ``(b, N, input_size)`` → ``(b, queries · output_size)``: learned state patterns
    (static queries) retrieve from the set's elements as stored patterns.

    Args:
        input_size: Features of the set's elements.
        queries: Number of learned state patterns.
        **kwargs: Of :class:`Hopfield` (``hidden_size``, ``output_size``, ``heads``, ``beta``,
            ``update_steps``, ``normalize``, ``dropout``).
    """

    def __init__(self, input_size: int, queries: int = 1, **kwargs) -> None:
        super().__init__()
        if not isinstance(queries, int) or queries < 1:
            raise ValueError(f"queries must be a positive integer, got {queries!r}")
        hidden = kwargs.get("hidden_size") or input_size
        self.hopfield = Hopfield(hidden, stored_size=input_size, **{**kwargs,
                                                                    "hidden_size": hidden})
        self.query = nn.Parameter(torch.randn(queries, hidden) / math.sqrt(hidden))

    def forward(self, stored: Tensor, mask: Tensor | None = None) -> Tensor:
        q = self.query.expand(stored.shape[0], -1, -1)
        return self.hopfield(q, stored, mask=mask).flatten(1)


class HopfieldLayer(nn.Module):
    """Inputs ``(b, S, input_size)`` look up a learned memory of ``quantity`` stored patterns
    (keys and values both learned) → ``(b, S, output_size)``.

    Args:
        input_size: Features of the inputs (state patterns).
        quantity: Number of learned stored patterns.
        **kwargs: Of :class:`Hopfield`.
    """

    def __init__(self, input_size: int, quantity: int = 16, **kwargs) -> None:
        super().__init__()
        if not isinstance(quantity, int) or quantity < 1:
            raise ValueError(f"quantity must be a positive integer, got {quantity!r}")
        hidden = kwargs.get("hidden_size") or input_size
        self.hopfield = Hopfield(input_size, stored_size=hidden, **{**kwargs,
                                                                    "hidden_size": hidden})
        self.memory = nn.Parameter(torch.randn(quantity, hidden) / math.sqrt(hidden))

    def forward(self, state: Tensor) -> Tensor:
        y = self.memory.expand(state.shape[0], -1, -1)
        return self.hopfield(state, y)

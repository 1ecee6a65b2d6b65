"""Forward-mode (Taylor-mode) derivatives of pointwise networks: a field carried with its
first derivatives and its pure second derivatives along chosen axes.

A PINN's residual needs u, ∇u and a few ∂²u/∂x_a² at every collocation point. Nested
reverse-mode autograd gets them by differentiating the backward pass of the network (one
backward for ∇u, one more per second derivative, each building a graph that the parameter
gradient then walks again). Carried forward instead, the derivatives are a fixed set of streams
through the network (Griewank and Walther, *Evaluating Derivatives*, 2008, ch. 13: univariate
Taylor propagation; Bettencourt, Johnson, Duvenaud, "Taylor-mode automatic differentiation for
higher-order derivatives in JAX", 2019). For a layer z = W h + b each stream is mapped by the
same W (the bias enters the value only), so all streams share one matrix product; for an
elementwise σ with y = σ(z):

    y_i  = σ'(z) z_i,
    y_aa = σ'(z) z_aa + σ''(z) z_a²,

with z_i = ∂z/∂c_i over the input coordinates c and z_aa = ∂²z/∂c_a². The parameter gradient of
a loss on these streams is one ordinary backward pass.

:class:`Jet` holds the streams and does the arithmetic (sum, product rule, elementwise
functions); :func:`mlp_jet` pushes a jet through an ``nn.Sequential`` of ``Linear`` layers and
supported activations; :class:`JetDerivatives` answers the :class:`AbstractDerivatives`
interface of a PDE's residual from a jet (and by autograd for any other field, when the
coordinates carry a graph). The fit chooses it with ``train.derivatives: jet``.

Measured on this project's 2-core CPU (one thread, one loss-and-gradient evaluation, float32),
the jet is not faster than nested reverse mode at PINN sizes: 6.6 ms against 5.8 ms on
DeepXDE's Burgers network (3 × 20 tanh, 2780 points) and 22.2 ms against 22.3 ms on the
Allen–Cahn recipe (3 × 48, 4000 points). With d inputs it pushes 1 + d + m streams through
every matrix product, forward and backward, about the matrix work of differentiating the
backward pass twice; what it saves is elementwise passes, and a fused whole-network forward and
backward (one graph node) measured slower still (6.4 and 27.1 ms). Autograd is therefore the
default; the jet is kept as a verified alternative (``benchmarks/pinn_vs_deepxde.py
--profile`` logs both).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, autograd, nn

from sciml.physics._pdes import AbstractDerivatives

__all__ = ["Jet", "JetDerivatives", "JetNeedsAutograd", "JET_ACTIVATIONS", "mlp_jet",
           "supports_jet"]


class JetNeedsAutograd(ValueError):
    """A residual asked :class:`JetDerivatives` for a derivative outside the jet, and the
    coordinates carry no graph to compute it by autograd."""

_SQRT_2PI = math.sqrt(2 * math.pi)


def _tanh(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    t = torch.tanh(z)
    d1 = 1 - t * t
    return t, d1, -2 * t * d1


def _sigmoid(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    s = torch.sigmoid(z)
    d1 = s * (1 - s)
    return s, d1, d1 * (1 - 2 * s)


def _silu(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    s = torch.sigmoid(z)
    ds = s * (1 - s)
    return z * s, s + z * ds, ds * (2 + z * (1 - 2 * s))


def _gelu(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    cdf = 0.5 * (1 + torch.erf(z / math.sqrt(2)))
    pdf = torch.exp(-0.5 * z * z) / _SQRT_2PI
    return z * cdf, cdf + z * pdf, pdf * (2 - z * z)


def _sin(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    s = torch.sin(z)
    return s, torch.cos(z), -s


def _cos(z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    c = torch.cos(z)
    return c, -torch.sin(z), -c


#: σ(z), σ'(z), σ''(z) of the activation modules a jet passes through (smooth ones only: a
#: second derivative of ReLU-type networks is zero almost everywhere, useless in a residual).
JET_ACTIVATIONS: dict[type, Callable[[Tensor], tuple[Tensor, Tensor, Tensor]]] = {
    nn.Tanh: _tanh, nn.Sigmoid: _sigmoid, nn.SiLU: _silu,
}


def _activation(module: nn.Module) -> Callable[[Tensor], tuple[Tensor, Tensor, Tensor]] | None:
    if isinstance(module, nn.GELU):
        return _gelu if module.approximate == "none" else None
    return JET_ACTIVATIONS.get(type(module))


def supports_jet(net: nn.Module) -> bool:
    """Whether :func:`mlp_jet` can carry a jet through ``net`` (an ``nn.Sequential`` of
    ``Linear`` layers and tanh / sigmoid / SiLU / exact GELU activations)."""
    if not isinstance(net, nn.Sequential) or len(net) == 0:
        return False
    return all(isinstance(m, nn.Linear) or _activation(m) is not None for m in net)


class Jet:
    """A field with its first derivatives and pure second derivatives along ``axes``.

    Args:
        value: The field, ``(n, ...)``.
        first: ``(d, n, ...)``: ∂/∂c_i for each of the d input coordinates.
        second: ``(len(axes), n, ...)``: ∂²/∂c_a² for a in ``axes``.
        axes: The coordinates whose pure second derivatives are carried.
    """

    __slots__ = ("value", "first", "second", "axes")

    def __init__(self, value: Tensor, first: Tensor, second: Tensor,
                 axes: Sequence[int]) -> None:
        self.value, self.first, self.second = value, first, second
        self.axes = tuple(axes)
        if first.shape[1:] != value.shape or second.shape[1:] != value.shape \
                or second.shape[0] != len(self.axes):
            raise ValueError(f"jet streams disagree: value {tuple(value.shape)}, first "
                             f"{tuple(first.shape)}, second {tuple(second.shape)} for axes "
                             f"{self.axes}")

    # --- construction -------------------------------------------------------------------
    @classmethod
    def coordinates(cls, coords: Tensor, axes: Sequence[int]) -> Jet:
        """The jet of the coordinates themselves: ∂c_j/∂c_i = δ_ij, no curvature."""
        if coords.dim() != 2:
            raise ValueError(f"coords must have shape (n, d), got {tuple(coords.shape)}")
        n, d = coords.shape
        _check_axes(axes, d)
        eye = torch.eye(d, dtype=coords.dtype, device=coords.device)
        first = eye[:, None, :].expand(d, n, d)
        return cls(coords, first, coords.new_zeros((len(tuple(axes)), n, d)), axes)

    @classmethod
    def constant(cls, value: Tensor, n_coords: int, axes: Sequence[int]) -> Jet:
        """A field that does not depend on the coordinates."""
        zeros = value.new_zeros((1, *value.shape))
        return cls(value, zeros.expand(n_coords, *value.shape),
                   zeros.expand(len(tuple(axes)), *value.shape), axes)

    @classmethod
    def lift(cls, u: Tensor, coords: Tensor, axes: Sequence[int]) -> Jet:
        """The jet of a field ``u`` computed pointwise from ``coords`` (requires_grad) by
        reverse-mode autograd, detached: for the small parameter-free parts of a field (a hard
        constraint's known values and distance function), not for networks.
        """
        d = coords.shape[1]
        _check_axes(axes, d)
        if not u.requires_grad:
            return cls.constant(u, d, axes)
        flat = u.reshape(u.shape[0], -1)
        firsts, seconds = [], []
        for k in range(flat.shape[1]):
            (g,) = autograd.grad(flat[:, k].sum(), coords, create_graph=True, retain_graph=True,
                                 allow_unused=True)
            g = coords.new_zeros(coords.shape) if g is None else g
            firsts.append(g)
            col = []
            for a in axes:
                if g.requires_grad:
                    (h,) = autograd.grad(g[:, a].sum(), coords, retain_graph=True,
                                         allow_unused=True)
                    col.append(coords.new_zeros(len(coords)) if h is None else h[:, a])
                else:
                    col.append(coords.new_zeros(len(coords)))
            seconds.append(torch.stack(col) if col else coords.new_zeros((0, len(coords))))
        first = torch.stack(firsts, dim=-1).permute(1, 0, 2).reshape(d, *u.shape)
        second = torch.stack(seconds, dim=-1).reshape(len(tuple(axes)), *u.shape)
        return cls(u.detach(), first.detach(), second.detach(), axes)

    # --- structure ----------------------------------------------------------------------
    def map(self, fn: Callable[[Tensor], Tensor]) -> Jet:
        """Apply a linear, shape-changing map (indexing, unsqueeze) to every stream; ``fn`` acts
        on a tensor shaped like :attr:`value` and is applied to each stream's entries."""
        return Jet(fn(self.value), _per_entry(fn, self.first), _per_entry(fn, self.second),
                   self.axes)

    def __getitem__(self, index: object) -> Jet:
        return self.map(lambda v: v[index])

    @staticmethod
    def cat(jets: Sequence[Jet], dim: int = -1) -> Jet:
        """Concatenate along a dimension of the value (``dim`` counts in the value's axes)."""
        axes = jets[0].axes
        if any(j.axes != axes for j in jets):
            raise ValueError("cannot concatenate jets with different second-derivative axes")
        nd = jets[0].value.dim()
        vdim = dim % nd
        return Jet(torch.cat([j.value for j in jets], vdim),
                   torch.cat([j.first for j in jets], vdim + 1),
                   torch.cat([j.second for j in jets], vdim + 1), axes)

    # --- arithmetic ---------------------------------------------------------------------
    def _coerce(self, other: Jet | Tensor | float) -> Jet | None:
        if isinstance(other, Jet):
            if other.axes != self.axes:
                raise ValueError(f"jets carry different axes: {self.axes} and {other.axes}")
            return other
        return None

    def __add__(self, other: Jet | Tensor | float) -> Jet:
        o = self._coerce(other)
        if o is None:  # a constant: shifts the value only
            return Jet(self.value + other, self.first, self.second, self.axes)
        return Jet(self.value + o.value, self.first + o.first, self.second + o.second, self.axes)

    __radd__ = __add__

    def __neg__(self) -> Jet:
        return Jet(-self.value, -self.first, -self.second, self.axes)

    def __sub__(self, other: Jet | Tensor | float) -> Jet:
        return self + (-other)

    def __rsub__(self, other: Jet | Tensor | float) -> Jet:
        return (-self) + other

    def __mul__(self, other: Jet | Tensor | float) -> Jet:
        o = self._coerce(other)
        if o is None:  # a constant factor
            return Jet(self.value * other, self.first * other, self.second * other, self.axes)
        a, b = self, o
        first = a.first * b.value + a.value * b.first
        if self.axes:
            idx = list(self.axes)
            second = (a.second * b.value + 2 * a.first[idx] * b.first[idx]
                      + a.value * b.second)
        else:
            second = a.second * b.value
        return Jet(a.value * b.value, first, second, self.axes)

    __rmul__ = __mul__

    def cos(self) -> Jet:
        return self.apply(_cos)

    def sin(self) -> Jet:
        return self.apply(_sin)

    def apply(self, fn: Callable[[Tensor], tuple[Tensor, Tensor, Tensor]]) -> Jet:
        """σ applied elementwise, ``fn(z) -> (σ(z), σ'(z), σ''(z))``: the chain rule."""
        v, d1, d2 = fn(self.value)
        first = d1 * self.first
        if self.axes:
            fa = self.first[list(self.axes)]
            second = d1 * self.second + d2 * fa * fa
        else:
            second = self.second
        return Jet(v, first, second, self.axes)


def _per_entry(fn: Callable[[Tensor], Tensor], stacked: Tensor) -> Tensor:
    if stacked.shape[0] == 0:
        probe = fn(stacked.new_zeros(stacked.shape[1:]))
        return stacked.new_zeros((0, *probe.shape))
    return torch.stack([fn(s) for s in stacked.unbind(0)])


def _check_axes(axes: Sequence[int], d: int) -> None:
    axes = tuple(axes)
    if len(set(axes)) != len(axes) or any(not 0 <= a < d for a in axes):
        raise ValueError(f"second-derivative axes must be distinct and in 0..{d - 1}, "
                         f"got {list(axes)}")


class _TanhJet(autograd.Function):
    """tanh on stacked streams ``(1 + d + m, n, w)`` (value before its bias, d first
    derivatives, m pure second derivatives along the first m coordinates), forward and
    backward written out: the generic chain rule of :meth:`Jet.apply` costs about twice the
    elementwise passes. With s = 1 − t², s' = −2ts, s'' = 4t²s − 2s² (t = tanh z):

        out_0 = t,  out_i = s z_i,  out_a' = s z_a' + s' z_a²,

    and the backward pass is the transpose of that map (no double backward: used only where the
    coordinates carry no graph, see :func:`mlp_jet`)."""

    @staticmethod
    def forward(ctx, streams: Tensor, bias: Tensor, d: int, m: int) -> Tensor:
        t = torch.tanh(streams[0] + bias)
        s = 1 - t * t
        out = torch.empty_like(streams)
        out[0] = t
        torch.mul(streams[1:1 + d], s, out=out[1:1 + d])
        if m:
            za = streams[1:1 + m]
            sp = -2 * t * s
            torch.addcmul(s * streams[1 + d:], sp, za * za, out=out[1 + d:])
        ctx.save_for_backward(streams, t, s)
        ctx.d, ctx.m = d, m
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):
        streams, t, s = ctx.saved_tensors
        d, m = ctx.d, ctx.m
        g_first = grad[1:1 + d]
        zf = streams[1:1 + d]
        sp = -2 * t * s
        g_streams = torch.empty_like(streams)
        torch.mul(g_first, s, out=g_streams[1:1 + d])
        g_z = grad[0] * s + sp * (g_first * zf).sum(0)
        if m:
            g_second, zs, za = grad[1 + d:], streams[1 + d:], streams[1:1 + m]
            torch.mul(g_second, s, out=g_streams[1 + d:])
            g_streams[1:1 + m] += 2 * sp * g_second * za
            spp = s * (4 * t * t - 2 * s)
            g_z = g_z + sp * (g_second * zs).sum(0) + spp * (g_second * za * za).sum(0)
        g_streams[0] = g_z
        g_bias = g_z.reshape(-1, g_z.shape[-1]).sum(0) if ctx.needs_input_grad[1] else None
        return g_streams, g_bias, None, None


def mlp_jet(net: nn.Sequential, jet: Jet) -> Jet:
    """Push ``jet`` (feature axis last) through ``net``: every stream through each ``Linear``
    in one matrix product (the bias on the value only), the activations by the chain rule.

    The streams travel stacked, ``(1 + d + m, n, features)``, and are taken apart with
    ``split`` (whose backward is one concatenation; slicing would fill a zero tensor of the
    whole stack per slice in the backward pass). A Linear's bias is added where the value is
    used (the next activation, or the output). tanh after a Linear on streams whose
    coordinates carry no graph, with the second derivatives along the leading axes, goes
    through a fused forward/backward (:class:`_TanhJet`); everything else through
    differentiable elementwise ops (so autograd can differentiate the jet again).
    """
    if not supports_jet(net):
        raise ValueError(f"a jet cannot pass through {net!r}: it needs an nn.Sequential of "
                         f"Linear layers and tanh / sigmoid / SiLU / exact GELU activations")
    d, m = jet.first.shape[0], len(jet.axes)
    # the carried second derivatives are along the leading axes 0..m-1 (space before time):
    # their first derivatives are a split of the first-derivative block; otherwise a gather
    leading = jet.axes == tuple(range(m))
    sizes = [1, d, m] if m else [1, d]
    streams = torch.cat([jet.value[None], jet.first, jet.second])  # (1 + d + m, n, f)
    fused = leading and _only_parameter_graph(jet)
    bias: Tensor | None = None
    for module in net:
        if isinstance(module, nn.Linear):
            if bias is not None:
                streams = _add_value(streams, bias, sizes)
            streams = streams @ module.weight.T
            bias = module.bias
            continue
        fn = _activation(module)
        if fused and isinstance(module, nn.Tanh):
            b = bias if bias is not None else streams.new_zeros(streams.shape[-1])
            streams = _TanhJet.apply(streams, b, d, m)
            bias = None
            continue
        if bias is not None:
            streams = _add_value(streams, bias, sizes)
            bias = None
        parts = streams.split(sizes)
        v, d1, d2 = fn(parts[0])
        first = d1 * parts[1]
        if m:
            za = parts[1].split([m, d - m])[0] if leading and m < d else (
                parts[1] if leading else parts[1][list(jet.axes)])
            streams = torch.cat([v, first, d1 * parts[2] + d2 * (za * za)])
        else:
            streams = torch.cat([v, first])
    value, first, *second = streams.split(sizes)
    value = value[0] if bias is None else value[0] + bias
    return Jet(value, first, second[0] if m else streams.new_zeros((0, *value.shape)),
               jet.axes)


def _add_value(streams: Tensor, bias: Tensor, sizes: list[int]) -> Tensor:
    value, rest = streams.split([1, sum(sizes) - 1])
    return torch.cat([value + bias, rest])


def _only_parameter_graph(jet: Jet) -> bool:
    """Whether nothing but parameters can need the jet's graph (its streams do not depend on
    tensors that require grad): then no one differentiates the jet twice."""
    return not (jet.value.requires_grad or jet.first.requires_grad
                or jet.second.requires_grad)


class JetDerivatives(AbstractDerivatives):
    """:class:`AbstractDerivatives` answered from the jet of a field.

    ``dt``, ``dx`` and ``dxx`` of the field ``u`` that the jet belongs to (the same tensor
    object, ``jet.value``) come from its streams. Any other tensor (a function of u, one channel
    taken out of it), a second derivative not carried, and ``dxt`` go to
    :class:`~sciml.physics.AutogradDerivatives` on ``coords``, which needs the coordinates to
    carry a graph to the field (``requires_grad`` before the jet was computed).

    Args:
        jet: The field's jet over ``coords``' columns (space, then t unless ``steady``).
        coords: The coordinates ``(n, d)``.
        steady: No time column.
    """

    def __init__(self, jet: Jet, coords: Tensor, steady: bool = False) -> None:
        if coords.dim() != 2 or jet.first.shape[0] != coords.shape[1]:
            raise ValueError(f"the jet has {jet.first.shape[0]} coordinate derivatives but "
                             f"coords has shape {tuple(coords.shape)}")
        self.jet, self.coords, self.steady = jet, coords, steady
        self.spatial_dims = coords.shape[1] - (0 if steady else 1)
        self._fallback = None

    @property
    def u(self) -> Tensor:
        """The field the jet belongs to."""
        return self.jet.value

    def _autograd(self):
        if self._fallback is None:
            from sciml.physics._derivatives import AutogradDerivatives

            if not self.coords.requires_grad:
                raise JetNeedsAutograd("this derivative is not in the field's jet and the "
                                       "coordinates carry no graph for autograd (set "
                                       "coords.requires_grad_() before computing the jet)")
            self._fallback = AutogradDerivatives(self.coords, steady=self.steady)
        return self._fallback

    def dt(self, u: Tensor) -> Tensor:
        self._require_time()
        if u is self.jet.value:
            return self.jet.first[-1]
        return self._autograd().dt(u)

    def dx(self, u: Tensor, axis: int = 0) -> Tensor:
        a = self._axis(axis)
        if u is self.jet.value:
            return self.jet.first[a]
        return self._autograd().dx(u, a)

    def dxx(self, u: Tensor, axis: int = 0) -> Tensor:
        a = self._axis(axis)
        if u is self.jet.value and a in self.jet.axes:
            return self.jet.second[self.jet.axes.index(a)]
        return self._autograd().dxx(u, a)

    def dxt(self, u: Tensor, axis: int = 0) -> Tensor:
        """∂²u/∂x_axis∂t (by autograd through the jet's ∂u/∂t)."""
        from sciml.physics._derivatives import gradient

        a = self._axis(axis)
        if u is self.jet.value:
            self._autograd()  # the coordinates must carry a graph (JetNeedsAutograd if not)
            ut = self.jet.first[-1]
            if ut.dim() == 1:
                return gradient(ut, self.coords, strict=False)[:, a]
            return torch.stack([gradient(ut[:, k], self.coords, strict=False)[:, a]
                                for k in range(ut.shape[1])], dim=1)
        return self._autograd().dxt(u, a)

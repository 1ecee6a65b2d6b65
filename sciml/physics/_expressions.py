"""Safe arithmetic expressions in x, y, t and named parameters, for boundary values, initial
conditions and source terms given as text (recipes, the command line).

``parse_expression("exp(-t) * sin(x - 30*t)")`` parses the text with Python's :mod:`ast` and
accepts only a whitelist, checked before anything is evaluated:

- numbers (int or float literals), the constants ``pi`` and ``e``;
- the variable names the caller allows (default ``x``, ``t``) and named parameters;
- ``+ - * / **``, unary ``-`` and ``+``, parentheses;
- calls of the functions in :data:`EXPRESSION_FUNCTIONS` (one argument each, except
  ``min(a, b)``, ``max(a, b)`` and ``where(condition, a, b)``);
- comparisons ``< <= > >= == !=`` (chains such as ``0 < x < 1`` mean "and"), only as the
  condition of ``where``.

Everything else (attribute access, subscripts, lambdas, keyword arguments, strings, other names
and calls, ``and`` / ``or`` / ``not``, ``if`` expressions, ``//`` and ``%``) is refused with a
one-line ``ValueError`` naming the expression and the offending piece. Nothing is handed to
``eval``: the checked tree is walked by a small interpreter.

An :class:`Expression` evaluates on torch tensors (differentiable: a PINN can put it in its loss,
and a parameter given as a tensor with ``requires_grad`` gets gradients) or on numpy arrays
(float64). Numbers in the text become scalars of the inputs' dtype and device, so float64 inputs
give float64 results that agree with numpy to rounding. The result always has the broadcast shape
of the values passed, so ``"-1"`` evaluated at n points gives n values.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["EXPRESSION_FUNCTIONS", "EXPRESSION_CONSTANTS", "Expression", "parse_expression"]

# name -> (number of arguments, numpy function, torch function)
_FUNCTIONS: dict[str, tuple[int, Callable[..., Any], Callable[..., Any]]] = {
    "sin": (1, np.sin, torch.sin),
    "cos": (1, np.cos, torch.cos),
    "tan": (1, np.tan, torch.tan),
    "exp": (1, np.exp, torch.exp),
    "log": (1, np.log, torch.log),
    "sqrt": (1, np.sqrt, torch.sqrt),
    "tanh": (1, np.tanh, torch.tanh),
    "sinh": (1, np.sinh, torch.sinh),
    "cosh": (1, np.cosh, torch.cosh),
    "abs": (1, np.abs, torch.abs),
    "arctan": (1, np.arctan, torch.atan),
    "atan": (1, np.arctan, torch.atan),
    "min": (2, np.minimum, torch.minimum),
    "max": (2, np.maximum, torch.maximum),
    "where": (3, np.where, torch.where),
}
EXPRESSION_FUNCTIONS: tuple[str, ...] = tuple(_FUNCTIONS)
EXPRESSION_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
            ast.NotEq: "!="}
_MAX_LENGTH = 2000


def _describe(node: ast.AST, source: str) -> str:
    """What a refused node is, for the error message."""
    piece = ast.get_source_segment(source, node) or type(node).__name__
    kinds = {
        ast.Attribute: "attribute access", ast.Subscript: "subscript", ast.Lambda: "lambda",
        ast.BoolOp: "'and'/'or'", ast.IfExp: "'if' expression", ast.Starred: "starred argument",
        ast.NamedExpr: "assignment", ast.JoinedStr: "f-string", ast.List: "list",
        ast.Tuple: "tuple", ast.Dict: "dict", ast.Set: "set", ast.ListComp: "comprehension",
        ast.GeneratorExp: "generator", ast.Await: "await", ast.Yield: "yield",
    }
    kind = kinds.get(type(node), type(node).__name__)
    return f"{kind} {piece!r}"


class Expression:
    """A checked arithmetic expression; call it with keyword values of its names.

    Build with :func:`parse_expression`. ``expr(x=..., t=...)`` evaluates it: with any torch
    tensor among the values on torch (tensors and Python numbers allowed, differentiable),
    otherwise on numpy in float64.

    Attributes:
        source: The text as given.
        allowed: The variable and parameter names it may be called with.
        names: The variable and parameter names it uses (a subset of ``allowed``); empty for a
            constant.
    """

    def __init__(self, source: str, tree: ast.expr, allowed: tuple[str, ...],
                 names: frozenset[str]) -> None:
        self.source = source
        self._tree = tree
        self.allowed = allowed
        self.names = names

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def depends_on(self, name: str) -> bool:
        """Whether the expression uses the variable or parameter ``name``."""
        return name in self.names

    def __call__(self, **values: Any) -> Tensor | np.ndarray:
        """Evaluate at the given values.

        Args:
            **values: One value per name the expression uses (others from ``allowed`` may be
                passed and only shape the result): numbers, numpy arrays or torch tensors of
                broadcastable shapes.

        Returns:
            A tensor (if any value is a tensor; its floating dtype and device) or a float64
            numpy array, of the broadcast shape of all values passed.
        """
        unknown = sorted(set(values) - set(self.allowed))
        if unknown:
            raise ValueError(f"expression {self.source!r}: unknown name {unknown[0]!r}; "
                             f"allowed: {', '.join(self.allowed)}")
        missing = sorted(self.names - set(values))
        if missing:
            raise ValueError(f"expression {self.source!r}: no value given for {missing[0]!r}")
        if any(isinstance(v, Tensor) for v in values.values()):
            return self._torch(values)
        return self._numpy(values)

    def _numpy(self, values: Mapping[str, Any]) -> np.ndarray:
        arrays = {}
        for k, v in values.items():
            arr = np.asarray(v)
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"expression {self.source!r}: value of {k!r} must be real "
                                f"numbers, got dtype {arr.dtype}")
            arrays[k] = arr.astype(np.float64)
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values())) if arrays else ()

        def const(c: float) -> np.ndarray:
            return np.float64(c)

        with np.errstate(all="ignore"):
            out = self._eval(self._tree, arrays, const, 1)
            return np.asarray(out + np.zeros(shape))

    def _torch(self, values: Mapping[str, Any]) -> Tensor:
        tensors = [v for v in values.values() if isinstance(v, Tensor)]
        floats = [v.dtype for v in tensors if v.is_floating_point()]
        dtype = floats[0] if floats else torch.get_default_dtype()
        for d in floats[1:]:
            dtype = torch.promote_types(dtype, d)
        device = tensors[0].device
        converted = {}
        for k, v in values.items():
            if isinstance(v, Tensor):
                if v.is_complex():
                    raise TypeError(f"expression {self.source!r}: value of {k!r} must be real, "
                                    f"got dtype {v.dtype}")
                converted[k] = v if v.dtype == dtype else v.to(dtype)
            elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                converted[k] = torch.tensor(float(v), dtype=dtype, device=device)
            else:
                raise TypeError(f"expression {self.source!r}: value of {k!r} must be a tensor or "
                                f"a number when others are tensors, got {type(v).__name__}")
        shape = torch.broadcast_shapes(*(v.shape for v in converted.values()))

        def const(c: float) -> Tensor:
            return torch.tensor(c, dtype=dtype, device=device)

        out = self._eval(self._tree, converted, const, 2)
        return out.expand(shape).clone() if out.shape != shape else out

    def _eval(self, node: ast.expr, env: Mapping[str, Any], const: Callable[[float], Any],
              backend: int) -> Any:
        """Walk the checked tree (only the node types :func:`parse_expression` let through)."""
        if isinstance(node, ast.Constant):
            return const(float(node.value))
        if isinstance(node, ast.Name):
            if node.id in EXPRESSION_CONSTANTS:
                return const(EXPRESSION_CONSTANTS[node.id])
            return env[node.id]
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, env, const, backend)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            left = self._eval(node.left, env, const, backend)
            right = self._eval(node.right, env, const, backend)
            op = type(node.op)
            if op is ast.Add:
                return left + right
            if op is ast.Sub:
                return left - right
            if op is ast.Mult:
                return left * right
            if op is ast.Div:
                return left / right
            return left**right
        if isinstance(node, ast.Compare):
            result = None
            left = self._eval(node.left, env, const, backend)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = self._eval(comp, env, const, backend)
                part = {ast.Lt: left < right, ast.LtE: left <= right, ast.Gt: left > right,
                        ast.GtE: left >= right, ast.Eq: left == right,
                        ast.NotEq: left != right}[type(op)]
                result = part if result is None else result & part
                left = right
            return result
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        args = [self._eval(a, env, const, backend) for a in node.args]
        return _FUNCTIONS[node.func.id][backend](*args)


def _check(node: ast.AST, source: str, allowed: tuple[str, ...], used: set[str],
           condition: bool = False) -> None:
    """Raise ValueError unless ``node`` is in the whitelist (module docstring)."""

    def refuse(what: str) -> ValueError:
        return ValueError(f"expression {source!r}: {what} is not allowed; allowed: "
                          f"{', '.join(allowed + tuple(EXPRESSION_CONSTANTS))}, numbers, "
                          f"+ - * / **, {', '.join(EXPRESSION_FUNCTIONS)}")

    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise refuse(f"constant {ast.get_source_segment(source, node)!r}")
        return
    if isinstance(node, ast.Name):
        if node.id in _FUNCTIONS:
            raise refuse(f"function name {node.id!r} without a call")
        if node.id not in allowed and node.id not in EXPRESSION_CONSTANTS:
            raise refuse(f"name {node.id!r}")
        if node.id in allowed:
            used.add(node.id)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise refuse(f"operator {ast.get_source_segment(source, node)!r}")
        _check(node.operand, source, allowed, used)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise refuse(f"operator {ast.get_source_segment(source, node)!r}")
        _check(node.left, source, allowed, used)
        _check(node.right, source, allowed, used)
        return
    if isinstance(node, ast.Compare):
        if not condition:
            raise refuse(f"comparison {ast.get_source_segment(source, node)!r} outside the "
                         f"condition of where(...)")
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise refuse(f"comparison {ast.get_source_segment(source, node)!r}")
        for part in [node.left, *node.comparators]:
            _check(part, source, allowed, used)
        return
    if isinstance(node, ast.Call):
        piece = ast.get_source_segment(source, node)
        if not isinstance(node.func, ast.Name):
            raise refuse(f"{_describe(node.func, source)} called in {piece!r}")
        name = node.func.id
        if name not in _FUNCTIONS:
            raise refuse(f"name {name!r}")
        if node.keywords:
            raise refuse(f"keyword argument in {piece!r}")
        n_args = _FUNCTIONS[name][0]
        if len(node.args) != n_args:
            raise ValueError(f"expression {source!r}: {name} takes {n_args} argument"
                             f"{'s' if n_args > 1 else ''}, got {len(node.args)} in {piece!r}")
        for i, arg in enumerate(node.args):
            is_condition = name == "where" and i == 0
            if is_condition and not isinstance(arg, ast.Compare):
                raise ValueError(f"expression {source!r}: the first argument of where must be "
                                 f"a comparison (e.g. x < 0), got "
                                 f"{ast.get_source_segment(source, arg)!r}")
            _check(arg, source, allowed, used, condition=is_condition)
        return
    raise refuse(_describe(node, source))


def parse_expression(source: str | float, variables: Iterable[str] = ("x", "t"),
                     parameters: Iterable[str] = ()) -> Expression:
    """Parse and check an arithmetic expression (whitelist in the module docstring).

    Args:
        source: The text, e.g. ``"x**2 * cos(pi*x)"``; a real number is taken as a constant.
        variables: Coordinate names it may use (``("x", "t")`` for 1-D in time, ``("x", "y")``
            for steady 2-D, ...).
        parameters: Further names it may use (PDE coefficients), given at evaluation.

    Returns:
        An :class:`Expression`.

    Raises:
        ValueError: a syntax error or a construct outside the whitelist; one line naming the
            expression and the offending piece.
        TypeError: ``source`` is neither a string nor a real number.
    """
    if isinstance(source, (int, float, np.integer, np.floating)) and not isinstance(source, bool):
        if not math.isfinite(source):
            raise ValueError(f"expression {source!r}: the number must be finite")
        source = repr(float(source))
    if not isinstance(source, str):
        raise TypeError(f"expression must be a string or a number, got {type(source).__name__}")
    allowed = tuple(dict.fromkeys([*variables, *parameters]))
    for name in allowed:
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"expression names must be identifiers without a leading "
                             f"underscore, got {name!r}")
        if name in _FUNCTIONS or name in EXPRESSION_CONSTANTS:
            raise ValueError(f"expression name {name!r} is taken by a function or constant; "
                             f"pick another")
    text = source.strip()
    if not text:
        raise ValueError("expression is empty")
    if len(text) > _MAX_LENGTH:
        raise ValueError(f"expression {text[:40]!r}...: longer than {_MAX_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise ValueError(f"expression {source!r}: invalid syntax at column {err.offset}: "
                         f"{err.msg}") from None
    except (RecursionError, MemoryError):
        raise ValueError(f"expression {text[:40]!r}...: nested too deeply") from None
    used: set[str] = set()
    try:
        _check(tree.body, text, allowed, used)
    except RecursionError:
        raise ValueError(f"expression {text[:40]!r}...: nested too deeply") from None
    return Expression(source, tree.body, allowed, frozenset(used))

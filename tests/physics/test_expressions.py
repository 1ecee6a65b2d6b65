"""Safe expressions: values against numpy, autograd against analytic derivatives, the whitelist."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sciml.physics import EXPRESSION_FUNCTIONS, Expression, parse_expression


@pytest.fixture
def points():
    gen = np.random.default_rng(0)
    return gen.uniform(-1, 1, 50), gen.uniform(0, 1, 50)


# expression, the same written with numpy, its derivative in x written with numpy
CASES = [
    ("x**2 * cos(pi*x)", lambda x, t: x**2 * np.cos(np.pi * x),
     lambda x, t: 2 * x * np.cos(np.pi * x) - np.pi * x**2 * np.sin(np.pi * x)),
    ("exp(-t) * sin(x - 30*t)", lambda x, t: np.exp(-t) * np.sin(x - 30 * t),
     lambda x, t: np.exp(-t) * np.cos(x - 30 * t)),
    ("-1", lambda x, t: -np.ones_like(x), lambda x, t: np.zeros_like(x)),
    ("0.001", lambda x, t: np.full_like(x, 0.001), lambda x, t: np.zeros_like(x)),
    ("tan(x/2) + log(2 + x) - sqrt(1.5 + x) / tanh(3 + x)",
     lambda x, t: np.tan(x / 2) + np.log(2 + x) - np.sqrt(1.5 + x) / np.tanh(3 + x),
     lambda x, t: 0.5 / np.cos(x / 2) ** 2 + 1 / (2 + x) - 0.5 / np.sqrt(1.5 + x) / np.tanh(3 + x)
     + np.sqrt(1.5 + x) / np.sinh(3 + x) ** 2),
    ("sinh(x) * cosh(t) + arctan(x) - atan(2*x) + abs(x - 0.1)",
     lambda x, t: np.sinh(x) * np.cosh(t) + np.arctan(x) - np.arctan(2 * x) + np.abs(x - 0.1),
     lambda x, t: np.cosh(x) * np.cosh(t) + 1 / (1 + x**2) - 2 / (1 + 4 * x**2)
     + np.sign(x - 0.1)),
    ("e**x + 2**-x - +x", lambda x, t: np.e**x + 2.0**-x - x,
     lambda x, t: np.e**x - np.log(2) * 2.0**-x - 1),
    ("where(x < 0, x**2, 3*x) + min(x, t) * max(x, 0.2)",
     lambda x, t: np.where(x < 0, x**2, 3 * x) + np.minimum(x, t) * np.maximum(x, 0.2),
     lambda x, t: np.where(x < 0, 2 * x, 3.0) + (x < t) * np.maximum(x, 0.2)
     + np.minimum(x, t) * (x > 0.2)),
    ("where(-0.5 <= x < 0.5, 1, 0)", lambda x, t: ((x >= -0.5) & (x < 0.5)).astype(float),
     lambda x, t: np.zeros_like(x)),
]


@pytest.mark.parametrize(("text", "values", "dx"), CASES, ids=[c[0] for c in CASES])
def test_values_agree_with_numpy_in_float64(text, values, dx, points):
    x, t = points
    expr = parse_expression(text)
    want = values(x, t)
    got_np = expr(x=x, t=t)
    assert isinstance(got_np, np.ndarray) and got_np.dtype == np.float64
    np.testing.assert_allclose(got_np, want, rtol=1e-14, atol=1e-15)
    got_torch = expr(x=torch.from_numpy(x), t=torch.from_numpy(t))
    assert isinstance(got_torch, torch.Tensor) and got_torch.dtype == torch.float64
    assert got_torch.shape == x.shape
    np.testing.assert_allclose(got_torch.numpy(), want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(("text", "values", "dx"), CASES, ids=[c[0] for c in CASES])
def test_autograd_gradient_is_the_analytic_derivative(text, values, dx, points):
    x, t = points
    xt = torch.tensor(x, requires_grad=True)
    u = parse_expression(text)(x=xt, t=torch.from_numpy(t))
    if not u.requires_grad:     # a constant: nothing to differentiate, the derivative is 0
        np.testing.assert_array_equal(dx(x, t), 0.0)
        return
    (g,) = torch.autograd.grad(u.sum(), xt, allow_unused=True)
    g = torch.zeros_like(xt) if g is None else g
    np.testing.assert_allclose(g.numpy(), dx(x, t), rtol=1e-12, atol=1e-12)


def test_parameters_get_gradients_and_2d_variables():
    expr = parse_expression("k * sin(x) * cos(y) - nu * t", variables=("x", "y", "t"),
                            parameters=("k", "nu"))
    assert expr.names == {"k", "x", "y", "nu", "t"} and expr.depends_on("nu")
    k = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    x = torch.linspace(0, 1, 7, dtype=torch.float64)
    u = expr(x=x, y=0.5, t=torch.zeros(7, dtype=torch.float64), k=k, nu=0.3)
    u.sum().backward()
    np.testing.assert_allclose(k.grad.item(), (torch.sin(x) * np.cos(0.5)).sum().item(),
                               rtol=1e-14)


def test_constant_expression_takes_the_shape_dtype_and_device_of_its_inputs():
    expr = parse_expression("-1")
    assert expr.names == frozenset()
    x = torch.zeros(4, 1, dtype=torch.float32)
    out = expr(x=x, t=torch.zeros(1, 3))
    assert out.shape == (4, 3) and out.dtype == torch.float32 and torch.all(out == -1)
    assert expr(t=0.25).shape == () and float(expr(t=0.25)) == -1.0
    assert parse_expression(0.001)(x=np.zeros(2)).tolist() == [0.001, 0.001]


def test_float32_inputs_are_evaluated_in_float32():
    out = parse_expression("x * pi")(x=torch.ones(3, dtype=torch.float32))
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), np.float32(np.pi))


FORBIDDEN = [
    ('__import__("os")', "name '__import__'"),
    ("os.system('ls')", "attribute access 'os.system' called"),
    ("x.real", "attribute access 'x.real'"),
    ("x[0]", "subscript 'x[0]'"),
    ("(lambda: 1)()", "lambda 'lambda: 1' called"),
    ("lambda x: x", "lambda"),
    ("'abc'", "constant"),
    ("True", "constant"),
    ("1j * x", "constant"),
    ("y + x", "name 'y'"),
    ("sin", "function name 'sin' without a call"),
    ("sin(x=1)", "keyword argument"),
    ("sin(*x)", "starred"),
    ("x if t else 1", "'if' expression"),
    ("x and t", "'and'/'or'"),
    ("not x", "operator"),
    ("~x", "operator"),
    ("x // 2", "operator"),
    ("x % 2", "operator"),
    ("x @ t", "operator"),
    ("x < 1", "comparison 'x < 1' outside the condition of where"),
    ("where(x is t, 1, 0)", "comparison"),
    ("where(x in t, 1, 0)", "comparison"),
    ("[x, t]", "list"),
    ("(x, t)", "tuple"),
    ("{x: 1}", "dict"),
    ("f'{x}'", "f-string"),
    ("(y := 2)", "assignment"),
    ("[i for i in x]", "comprehension"),
    ("eval('1')", "name 'eval'"),
    ("open('f')", "name 'open'"),
    ("x.__class__.__bases__", "attribute access"),
]


@pytest.mark.parametrize(("text", "piece"), FORBIDDEN, ids=[c[0] for c in FORBIDDEN])
def test_forbidden_constructs_are_refused_naming_the_expression_and_piece(text, piece):
    with pytest.raises(ValueError) as info:
        parse_expression(text)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"expression {text!r}: ")
    assert piece in message, message
    assert "is not allowed; allowed: x, t, pi, e" in message and "sin" in message


@pytest.mark.parametrize(("text", "match"), [
    ("sin(x, t)", "sin takes 1 argument, got 2"),
    ("max(x)", "max takes 2 arguments, got 1"),
    ("where(x, 1, 0)", "first argument of where must be a comparison"),
    ("x +", "invalid syntax"),
    ("", "empty"),
    ("   ", "empty"),
    ("x;import os", "invalid syntax"),
    ("(" * 300 + "x" + ")" * 300, "nested too deeply|invalid syntax"),
    ("x" + "+x" * 1500, "longer than"),
])
def test_malformed_expressions(text, match):
    with pytest.raises(ValueError, match=match):
        parse_expression(text)


def test_bad_names_and_values():
    with pytest.raises(ValueError, match="'sin' is taken"):
        parse_expression("x", parameters=("sin",))
    with pytest.raises(ValueError, match="leading underscore"):
        parse_expression("x", parameters=("__class__",))
    with pytest.raises(TypeError, match="string or a number"):
        parse_expression(["x"])
    with pytest.raises(ValueError, match="finite"):
        parse_expression(float("nan"))
    expr = parse_expression("x * t")
    with pytest.raises(ValueError, match="no value given for 't'"):
        expr(x=np.ones(2))
    with pytest.raises(ValueError, match="unknown name 'y'; allowed: x, t"):
        expr(x=1.0, t=1.0, y=1.0)
    with pytest.raises(TypeError, match="value of 't' must be a tensor or a number"):
        expr(x=torch.ones(2), t=np.ones(2))
    with pytest.raises(TypeError, match="real numbers"):
        expr(x=np.array(["a"]), t=1.0)
    assert isinstance(expr, Expression) and repr(expr) == "Expression('x * t')"
    assert set(EXPRESSION_FUNCTIONS) >= {"sin", "where", "min", "max", "atan", "arctan"}

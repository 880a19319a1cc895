"""``oxla.gradient_vjp``: the adjoint of ``gradient`` (``G^T``), checked
against ``gradient`` itself (the dot-product identity, and the columns of
``G`` read from basis vectors), with NumPy's argument rules; and the
JAX example of docs/python.md, where JAX is installed."""

import os
import re

import numpy as np
import pytest
from conftest import as_list, same_bytes
from numpy.exceptions import AxisError

import oxla

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "python.md")


def random_spacing(rng, shape, axes):
    out = []
    for a in axes:
        r = rng.random()
        if r < 0.3:
            out.append(float(rng.random() + 0.5))
        elif r < 0.5:
            out.append(np.float64(rng.random() + 0.5))
        else:
            out.append(np.cumsum(rng.random(shape[a]) + 0.3))
    return out


@pytest.mark.parametrize("edge_order", [1, 2])
def test_dot_product_identity(rng, edge_order):
    """<G u, v> == <u, G^T v> for random u, v, spacings and axes."""
    for _ in range(40):
        ndim = int(rng.integers(1, 4))
        shape = tuple(int(n) for n in rng.integers(3, 7, size=ndim))
        axes = [int(a) for a in rng.permutation(ndim)[: int(rng.integers(1, ndim + 1))]]
        spacing = random_spacing(rng, shape, axes)
        u = rng.standard_normal(shape)
        vs = [rng.standard_normal(shape) for _ in axes]
        gu = as_list(oxla.gradient(u, *spacing, axis=tuple(axes), edge_order=edge_order))
        lhs = sum(np.vdot(g, v) for g, v in zip(gu, vs))
        gtv = oxla.gradient_vjp(vs, shape, *spacing, axis=tuple(axes), edge_order=edge_order)
        rhs = np.vdot(u, gtv)
        assert gtv.shape == shape and gtv.dtype == np.float64
        assert np.isclose(lhs, rhs, rtol=1e-12, atol=1e-12), (lhs, rhs)


@pytest.mark.parametrize("spacing", [(), (0.5,), (np.array([0.0, 1.0, 3.0, 3.5, 5.0, 8.0]),)])
@pytest.mark.parametrize("edge_order", [1, 2])
def test_rows_of_the_adjoint_are_columns_of_gradient(spacing, edge_order):
    n = 6
    eye = np.eye(n)
    g = np.stack([oxla.gradient(eye[j], *spacing, edge_order=edge_order) for j in range(n)], axis=1)
    gt = np.stack([oxla.gradient_vjp(eye[i], (n,), *spacing, edge_order=edge_order) for i in range(n)])
    np.testing.assert_allclose(gt, g, rtol=1e-15, atol=0)


def test_a_single_cotangent_may_be_a_bare_array():
    ct = np.array([1.0, 0.0, 0.0, 0.0])
    assert same_bytes(oxla.gradient_vjp(ct, (4,)), np.array([-1.0, 1.0, 0.0, 0.0]))
    assert same_bytes(oxla.gradient_vjp([ct], [4]), oxla.gradient_vjp((ct,), (4,)))


@pytest.mark.parametrize("dtype", ["f2", "f4", "f8", "c8", "c16"])
def test_dtypes_follow_the_cotangents(rng, dtype):
    cts = [rng.standard_normal((4, 5)).astype(dtype) for _ in range(2)]
    out = oxla.gradient_vjp(cts, (4, 5), 0.5)
    assert out.dtype == np.dtype(dtype) and out.shape == (4, 5)
    swapped = [c.astype(c.dtype.newbyteorder("S")) for c in cts]
    out_swapped = oxla.gradient_vjp(swapped, (4, 5), 0.5)
    assert out_swapped.dtype == swapped[0].dtype
    assert same_bytes(out_swapped.astype(dtype), out)


def test_integer_cotangents_compute_in_float64():
    out = oxla.gradient_vjp(np.array([3, 0, 0, 0], np.int16), (4,))
    assert same_bytes(out, np.array([-3.0, 3.0, 0.0, 0.0]))


def test_no_axes_give_zeros():
    assert same_bytes(oxla.gradient_vjp([], (3, 2), axis=()), np.zeros((3, 2)))


def test_errors():
    ct = np.ones((4, 5))
    with pytest.raises(AxisError, match="axis 2 is out of bounds for array of dimension 2"):
        oxla.gradient_vjp(ct, (4, 5), axis=2)
    with pytest.raises(TypeError, match="invalid number of arguments"):
        oxla.gradient_vjp([ct, ct], (4, 5), 1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match=r"^gradient_vjp: 1 cotangent\(s\) for 2 output\(s\)"):
        oxla.gradient_vjp(ct, (4, 5))
    with pytest.raises(ValueError, match=r"cotangent 1 has shape \[4, 4\], but f_shape is \[4, 5\]"):
        oxla.gradient_vjp([ct, np.ones((4, 4))], (4, 5))
    with pytest.raises(TypeError, match="cotangent 1 computes in float32, cotangent 0 in float64"):
        oxla.gradient_vjp([ct, ct.astype("f4")], (4, 5))
    with pytest.raises(ZeroDivisionError):
        oxla.gradient_vjp([ct, ct], (4, 5), 0.0, edge_order=2)


def docs_example(marker):
    """The Python block that follows ``marker`` in docs/python.md."""
    with open(DOCS, encoding="utf-8") as fh:
        text = fh.read()
    match = re.search(re.escape(marker) + r".*?```python\n(.*?)```", text, re.S)
    assert match, marker
    return match.group(1)


def test_the_jax_example_of_the_docs():
    pytest.importorskip("jax")
    exec(compile(docs_example("<!-- example: jax -->"), "docs/python.md", "exec"), {})


def test_the_pytorch_example_of_the_docs():
    pytest.importorskip("torch")
    exec(compile(docs_example("<!-- example: torch -->"), "docs/python.md", "exec"), {})

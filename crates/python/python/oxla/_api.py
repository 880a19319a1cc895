"""``oxla.gradient`` and ``oxla.gradient_vjp``: NumPy's argument handling
around the extension module ``oxla._oxla``.

Only argument plumbing lives here: sorting spacing arguments into weak
Python-float steps and strong NumPy arrays, reading ``axis`` as NumPy
does, byte order in and out, and NumPy's return shape (a bare array for
one axis, a tuple otherwise). Every rule of ``numpy.gradient`` itself is
the Rust library's.
"""

import operator

from oxla import _oxla

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1


def gradient(f, *varargs, axis=None, edge_order=1):
    """Return the gradient of an N-dimensional array, as ``numpy.gradient``.

    Second-order accurate central differences in the interior, first or
    second order one-sided differences at the boundaries, exactly as
    ``numpy.gradient`` computes them: the same values bit for bit, the same
    dtypes and byte order, the same layout, the same exceptions. The
    computation runs in oxla's fused Rust kernels, with the GIL released.

    Parameters
    ----------
    f : array_like
        An N-dimensional array of integers (computed in float64), floats
        (float16, float32, float64) or complex numbers; any layout or byte
        order, read-only or not.
    *varargs : scalars or array_like, optional
        Spacing between values of ``f``: none (unit spacing), one scalar
        for every axis, or one entry per axis, each a scalar step or the
        1-d coordinates along that axis. A Python float or int is a "weak"
        step (rounded to ``f``'s dtype); a NumPy scalar or 0-d array is a
        "strong" one (computed in the promoted dtype), as in NumPy.
    axis : None, int or tuple of ints, optional
        The axes to differentiate along (default: all), negative ones
        counting from the end.
    edge_order : {1, 2}, optional
        The order of the one-sided differences at the boundaries.

    Returns
    -------
    ndarray or tuple of ndarray
        One array per axis, each of ``f``'s shape; a bare array if a single
        axis was selected.

    Raises
    ------
    numpy.exceptions.AxisError
        An axis is out of bounds.
    TypeError
        Wrong number of spacing arguments; a boolean or non-numeric array.
    ValueError
        Any other invalid argument (repeated axis, too short an axis,
        coordinates of the wrong length or rank, edge_order not 1 or 2).
    ZeroDivisionError
        ``edge_order=2`` with a Python-float step of zero.

    Examples
    --------
    >>> import numpy as np
    >>> import oxla
    >>> oxla.gradient(np.array([1, 2, 4, 7, 11, 16]), 2.0)
    array([0.5 , 0.75, 1.25, 1.75, 2.25, 2.5 ])
    >>> x = np.array([0.0, 1.0, 1.5, 3.5, 4.0, 6.0])
    >>> oxla.gradient(x**2, x, edge_order=2)   # exact for quadratics: 2x
    array([ 0.,  2.,  3.,  7.,  8., 12.])
    >>> oxla.gradient(np.array([[1, 2, 6], [3, 4, 5]]), axis=-1)
    array([[1. , 2.5, 4. ],
           [1. , 1. , 1. ]])
    """
    import numpy as np

    f = _as_array(np, f)
    spacing = [_spacing(np, v) for v in varargs]
    dtype = f.dtype
    outs = _oxla.gradient(_native(f), spacing, _axes(axis), _edge_order(edge_order))
    return _numpy_result(_in_byte_order(outs, dtype))


def gradient_vjp(cotangents, f_shape, *varargs, axis=None, edge_order=1):
    """Apply the adjoint of ``gradient`` (its vector-Jacobian product).

    ``gradient`` is linear in ``f``: ``gradient(f, ...) == G f``. This
    returns ``G^T`` applied to the cotangents of its outputs and summed
    over the axes, in one fused pass: the gradient of
    ``sum(c_k * gradient(f)[k])`` with respect to ``f``. It is bit for bit
    what oxla's own reverse-mode differentiation of ``gradient`` gives.

    Parameters
    ----------
    cotangents : array_like or sequence of array_like
        One array of shape ``f_shape`` per output of the matching
        ``gradient`` call (a bare array when it returns one), all of one
        dtype.
    f_shape : tuple of ints
        The shape of ``f``.
    *varargs, axis, edge_order
        The arguments of the matching ``gradient`` call.

    Returns
    -------
    ndarray
        The cotangent of ``f``, of shape ``f_shape``, in the cotangents'
        dtype (integers are computed in float64; float64 zeros if no axis
        is selected).

    Examples
    --------
    >>> import numpy as np
    >>> import oxla
    >>> oxla.gradient_vjp(np.array([1.0, 0.0, 0.0, 0.0]), (4,))
    array([-1.,  1.,  0.,  0.])
    >>> f = np.arange(12.0).reshape(3, 4) ** 2
    >>> cts = oxla.gradient(f)              # d/df of 0.5 * sum(|grad f|^2)
    >>> oxla.gradient_vjp(cts, f.shape).shape
    (3, 4)
    """
    import numpy as np

    if isinstance(cotangents, (list, tuple)):
        cts = [_as_array(np, c) for c in cotangents]
    else:
        cts = [_as_array(np, cotangents)]
    f_shape = tuple(operator.index(n) for n in f_shape)
    spacing = [_spacing(np, v) for v in varargs]
    out = _oxla.gradient_vjp(
        [_native(c) for c in cts], list(f_shape), spacing, _axes(axis), _edge_order(edge_order)
    )
    if cts and cts[0].dtype.kind in "fc" and not cts[0].dtype.isnative:
        out = out.astype(cts[0].dtype)
    return out


def _as_array(np, a):
    """``a`` as a NumPy array; subclasses as plain arrays (a masked array
    is refused: its mask would be ignored)."""
    a = np.asanyarray(a)
    if type(a) is not np.ndarray:
        if isinstance(a, np.ma.MaskedArray):
            raise TypeError("oxla.gradient does not support masked arrays (NumPy's does)")
        a = a.view(np.ndarray)
    return a


def _native(a):
    """``a`` in native byte order (the extension reads native elements)."""
    if a.dtype.isnative:
        return a
    return a.astype(a.dtype.newbyteorder("="))


def _in_byte_order(outs, dtype):
    """NumPy returns float and complex results in the input's byte order
    (``empty_like(f)``); integer inputs give native float64."""
    if dtype.isnative or dtype.kind not in "fc":
        return outs
    return [o.astype(dtype) for o in outs]


def _numpy_result(outs):
    """NumPy's return shape: a bare array for one axis, a tuple otherwise."""
    if len(outs) == 1:
        return outs[0]
    return tuple(outs)


def _spacing(np, v):
    """One spacing argument: a Python number is a weak step (a float); a
    NumPy scalar, an array or a list is a NumPy array (0-d: a strong step;
    1-d: coordinates)."""
    if type(v) in (float, int, bool):
        return float(v)
    return _native(np.asarray(v))


def _axes(axis):
    """``axis`` read as NumPy's ``normalize_axis_tuple`` reads it: None, an
    integer, or an iterable of integers (``operator.index`` each)."""
    if axis is None:
        return None
    if type(axis) not in (tuple, list):
        try:
            return [_i64(operator.index(axis))]
        except TypeError:
            pass
    return [_i64(operator.index(a)) for a in axis]


def _edge_order(edge_order):
    return _i64(operator.index(edge_order))


def _i64(n):
    # an out-of-range integer is out of range either way; keep its sign
    return min(max(n, _I64_MIN), _I64_MAX)

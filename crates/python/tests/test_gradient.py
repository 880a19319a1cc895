"""``oxla.gradient`` against ``numpy.gradient``: every dtype, layout, byte
order and spacing kind, NumPy's return types and exception classes, the
GIL, and the lifetime of results handed to NumPy without a copy."""

import gc
import sys
import threading
import time

import numpy as np
import pytest
from conftest import as_list, same_bytes
from numpy.exceptions import AxisError

import oxla

INTS = ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]
INEXACT = ["f2", "f4", "f8", "c8", "c16"]


def data(rng, dtype, shape):
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    a = rng.standard_normal(shape) * 10
    if dtype.kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def check_like_numpy(f, *args, **kwargs):
    """oxla's result equals NumPy's: type (array or tuple), dtype (with
    byte order), strides (NumPy's layout) and bytes."""
    want = np.gradient(f, *args, **kwargs)
    got = oxla.gradient(f, *args, **kwargs)
    assert type(got) is type(want)
    for g, w in zip(as_list(got), as_list(want)):
        assert type(g) is np.ndarray
        assert same_bytes(g, w), (g, w)
        assert g.strides == w.strides
    return got


@pytest.mark.parametrize("dtype", INTS + INEXACT)
@pytest.mark.parametrize("byte_order", ["<", ">"])
@pytest.mark.parametrize("edge_order", [1, 2])
def test_every_dtype_and_byte_order(rng, dtype, byte_order, edge_order):
    f = data(rng, dtype, (7, 5)).astype(np.dtype(dtype).newbyteorder(byte_order))
    check_like_numpy(f, edge_order=edge_order)
    check_like_numpy(f, 0.25, np.linspace(0.0, 2.0, 5) ** 2, edge_order=edge_order)


LAYOUTS = {
    "C": lambda a: a,
    "F": np.asfortranarray,
    "transposed": lambda a: a.transpose(2, 0, 1),
    "strided": lambda a: a[:, ::2, :],
    "negative strides": lambda a: a[::-1, :, ::-1],
    "broadcast": lambda a: np.broadcast_to(a[:1], a.shape),
    "unaligned": lambda a: np.frombuffer(b"\0" + a.tobytes(), a.dtype, offset=1).reshape(a.shape),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("dtype", ["f8", "f4", "c16", "i2"])
def test_layouts(rng, layout, dtype):
    f = LAYOUTS[layout](data(rng, dtype, (6, 8, 5)))
    check_like_numpy(f)
    check_like_numpy(f, 2.0, axis=(2, 0), edge_order=2)


def test_read_only_input(rng):
    f = data(rng, "f8", (9, 4))
    f.flags.writeable = False
    check_like_numpy(f, edge_order=2)
    assert not f.flags.writeable


def test_input_is_not_modified(rng):
    f = data(rng, "f4", (9, 4))
    before = f.copy()
    oxla.gradient(f, 0.5, edge_order=2)
    assert same_bytes(f, before)


@pytest.mark.parametrize(
    "f",
    [
        [1, 2, 4, 7, 11],
        [1.0, 2.5, 4.0],
        [[1, 1], [3, 4]],
        ([1, 2], [2, 3]),
        [1 + 2j, 3 - 1j, 0j],
        range(6),
    ],
    ids=["ints", "floats", "nested", "tuples", "complex", "range"],
)
def test_array_likes(f):
    check_like_numpy(f)


def test_zero_dimensional_and_empty_axis_lists():
    assert oxla.gradient(np.float64(3.0)) == ()
    assert oxla.gradient(np.array(3.0)) == np.gradient(np.array(3.0)) == ()
    assert oxla.gradient(np.ones((3, 4)), axis=()) == ()
    assert oxla.gradient(np.ones((3, 4)), 2.0, axis=()) == ()
    # a boolean 0-d array has nothing to subtract, in NumPy too
    assert oxla.gradient(np.array(True)) == ()


def test_empty_arrays(rng):
    check_like_numpy(np.zeros((0, 5)), axis=1)
    check_like_numpy(np.zeros((4, 0, 3), "f4"), axis=(0, 2), edge_order=2)


STEPS = {
    "python float": 0.5,
    "python int": 3,
    "python bool": True,
    "negative": -0.25,
    "float16 scalar": np.float16(0.3),
    "float32 scalar": np.float32(0.1),
    "float64 scalar": np.float64(0.1),
    "int16 scalar": np.int16(3),
    "uint8 0-d": np.array(7, np.uint8),
    "float32 0-d": np.array(0.7, np.float32),
    "big-endian 0-d": np.array(0.7, ">f8"),
}


@pytest.mark.parametrize("step", sorted(STEPS))
@pytest.mark.parametrize("dtype", ["f2", "f4", "f8", "c8", "c16", "i4"])
@pytest.mark.parametrize("edge_order", [1, 2])
def test_uniform_steps_weak_and_strong(rng, step, dtype, edge_order):
    s = STEPS[step]
    if dtype == "c8" and np.asarray(s).dtype.kind in "iu" and not isinstance(s, (int, bool)):
        pytest.skip("complex64 with an integer NumPy step: the documented 1-ulp deviation")
    f = data(rng, dtype, (6, 5))
    check_like_numpy(f, s, edge_order=edge_order)
    check_like_numpy(f, s, s, edge_order=edge_order)


def test_complex64_with_an_integer_numpy_step_is_within_one_ulp(rng):
    # docs/numpy-compatibility.md: NumPy divides complex64 by the int16 step
    # in complex64 at the edges; oxla converts the step to float64 on entry.
    f = data(rng, "c8", (50,))
    got, want = oxla.gradient(f, np.int16(3)), np.gradient(f, np.int16(3))
    assert got.dtype == want.dtype
    assert got[1:-1].tobytes() == want[1:-1].tobytes()
    for g, w in zip(got, want):
        for a, b in ((g.real, w.real), (g.imag, w.imag)):
            assert abs(int(np.float32(a).view(np.int32)) - int(np.float32(b).view(np.int32))) <= 1


COORDINATES = {
    "uneven float64": lambda n, rng: np.cumsum(rng.random(n) + 0.1),
    "uneven list": lambda n, rng: list(np.cumsum(rng.random(n) + 0.1)),
    "even (one step)": lambda n, rng: np.arange(n) * 0.3,
    "even list of ints": lambda n, rng: list(range(0, 2 * n, 2)),
    "decreasing uint8": lambda n, rng: np.arange(n, 0, -1).astype(np.uint8),
    "float32": lambda n, rng: np.cumsum(rng.random(n) + 0.1).astype(np.float32),
    "float16": lambda n, rng: np.cumsum(rng.random(n) + 0.1).astype(np.float16),
    "big-endian": lambda n, rng: np.cumsum(rng.random(n) + 0.1).astype(">f8"),
    "repeated points": lambda n, rng: np.repeat(np.arange(n // 2 + 1.0), 2)[:n],
    "strided": lambda n, rng: np.cumsum(rng.random(2 * n) + 0.1)[::2],
}


@pytest.mark.parametrize("coords", sorted(COORDINATES))
@pytest.mark.parametrize("dtype", ["f2", "f4", "f8", "c16", "i8"])
@pytest.mark.parametrize("edge_order", [1, 2])
def test_coordinates(rng, coords, dtype, edge_order):
    f = data(rng, dtype, (6, 5))
    x = COORDINATES[coords](5, rng)
    with np.errstate(all="ignore"):
        check_like_numpy(f, x, axis=1, edge_order=edge_order)
        check_like_numpy(f, 1.5, x, edge_order=edge_order)
        check_like_numpy(f, COORDINATES[coords](6, rng), np.float32(2.0), edge_order=edge_order)


AXES = [None, 0, 1, -1, -3, (0,), (2, 0), [1, 2], (-1, 0, 1), np.int64(1), np.array([0, 2])]


@pytest.mark.parametrize("axis", AXES, ids=repr)
def test_axis_forms_and_return_types(rng, axis):
    got = check_like_numpy(data(rng, "f8", (4, 5, 6)), axis=axis)
    # a bare array exactly when one axis is selected, as in NumPy
    one = axis is not None and np.size(axis) == 1
    assert isinstance(got, np.ndarray) == one


def test_random_calls_match_numpy(rng):
    """Property-style: random shapes, dtypes, layouts, axes and spacings."""
    for _ in range(300):
        ndim = int(rng.integers(1, 4))
        shape = tuple(int(n) for n in rng.integers(3, 7, size=ndim))
        dtype = rng.choice(INTS + INEXACT)
        f = data(rng, dtype, shape)
        if rng.random() < 0.3:
            f = np.asfortranarray(f)
        if rng.random() < 0.2:
            f = f.astype(f.dtype.newbyteorder("S"))
        k = int(rng.integers(0, ndim + 1))
        axes = [int(a) for a in rng.permutation(ndim)[:k]]
        axis = None if rng.random() < 0.3 else tuple(a - ndim if rng.random() < 0.5 else a for a in axes)
        selected = list(range(ndim)) if axis is None else axes
        spacing = []
        mode = rng.integers(3)
        if mode == 1:
            spacing = [float(rng.random() + 0.1)]
        elif mode == 2:
            for a in selected:
                r = rng.random()
                if r < 0.3:
                    spacing.append(float(rng.random() + 0.1))
                elif r < 0.5 and dtype != "c8":
                    spacing.append(np.float32(rng.random() + 0.1))
                else:
                    spacing.append(np.cumsum(rng.random(shape[a]) + 0.05))
        edge_order = int(rng.integers(1, 3))
        check_like_numpy(f, *spacing, axis=axis, edge_order=edge_order)


def public_class(e):
    """An exception's class as users catch it: a builtin one or NumPy's
    public ``AxisError`` (NumPy's ufuncs raise private subclasses of
    ``TypeError``)."""
    return next(c for c in type(e).__mro__ if c.__module__ in ("builtins", "numpy.exceptions"))


def raises_like_numpy(f, *args, **kwargs):
    """oxla raises NumPy's exception class."""
    with pytest.raises(Exception) as want:
        np.gradient(f, *args, **kwargs)
    with pytest.raises(Exception) as got:
        oxla.gradient(f, *args, **kwargs)
    assert type(got.value) is public_class(want.value), (got.value, want.value)
    return got.value, want.value


ERRORS = {
    "axis out of bounds": (lambda f: ((f,), {"axis": 2}), AxisError),
    "negative axis out of bounds": (lambda f: ((f,), {"axis": (0, -3)}), AxisError),
    "repeated axis": (lambda f: ((f,), {"axis": (1, -1)}), ValueError),
    "spacing count": (lambda f: ((f, 1.0, 2.0, 3.0), {}), TypeError),
    "one coordinate array for two axes": (lambda f: ((f, np.arange(4.0)), {}), TypeError),
    "coordinates not 1-d": (lambda f: ((f, np.ones((4, 5)), 1.0), {}), ValueError),
    "coordinate length": (lambda f: ((f, np.arange(3.0), 1.0), {}), ValueError),
    "axis too short": (lambda f: ((f[:2],), {"edge_order": 2}), ValueError),
    "edge order 3": (lambda f: ((f,), {"edge_order": 3}), ValueError),
    "zero step, edge order 2": (lambda f: ((f, 0.0), {"edge_order": 2}), ZeroDivisionError),
    "negative zero step": (lambda f: ((f, 1.0, -0.0), {"edge_order": 2}), ZeroDivisionError),
    "booleans": (lambda f: ((f > 0,), {}), TypeError),
    "booleans, second axis too short": (lambda f: ((f[:, :1] > 0,), {}), TypeError),
    "booleans, first axis too short": (lambda f: ((f[:1] > 0,), {}), ValueError),
    "strings": (lambda f: ((f.astype(str),), {}), TypeError),
    "axis not an integer": (lambda f: ((f,), {"axis": 1.5}), TypeError),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
@pytest.mark.filterwarnings("ignore:divide by zero")
def test_errors_are_numpys(rng, case):
    make, cls = ERRORS[case]
    args, kwargs = make(data(rng, "f8", (4, 5)))
    got, want = raises_like_numpy(*args, **kwargs)
    assert isinstance(got, cls)
    if cls is not TypeError or case.startswith("spacing") or case.startswith("one coord"):
        # NumPy's words are in oxla's message (the type errors of booleans
        # and strings are raised by NumPy's ufuncs in other words)
        assert str(want).split(" (")[0] in str(got)


def test_axis_error_has_numpys_attributes():
    with pytest.raises(AxisError) as info:
        oxla.gradient(np.ones((3, 3)), axis=-5)
    assert (info.value.axis, info.value.ndim) == (-5, 2)
    assert str(info.value) == "axis -5 is out of bounds for array of dimension 2"
    assert isinstance(info.value, IndexError) and isinstance(info.value, ValueError)


def test_messages_name_the_problem():
    f = np.ones((4, 5))
    with pytest.raises(ValueError, match=r"^repeated axis: axis 1 is selected more than once$"):
        oxla.gradient(f, axis=(1, -1))
    with pytest.raises(
        TypeError,
        match=r"^invalid number of arguments: 3 spacing value\(s\) for 2 axis/axes",
    ):
        oxla.gradient(f, 1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match=r"spacing argument 1 has 3 values, axis 1 has 5"):
        oxla.gradient(f, 1.0, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"axis 0 has 2 element\(s\); edge_order=2 needs 3"):
        oxla.gradient(f[:2], edge_order=2)
    with pytest.raises(ZeroDivisionError, match=r"^float division by zero: the step of axis 0"):
        oxla.gradient(f, 0.0, edge_order=2)
    with pytest.raises(TypeError, match=r"^boolean arrays are not supported"):
        oxla.gradient(f > 0)
    with pytest.raises(TypeError, match=r"not of dtype <U"):
        oxla.gradient(f.astype(str))


# NumPy behaviours oxla deliberately does not match (docs/python.md)
DEVIATIONS = {
    "edge_order 0": ((np.arange(5.0),), {"edge_order": 0}, ValueError, "'edge_order' must be 1 or 2, got 0"),
    "complex step": ((np.arange(5.0), 1j), {}, ValueError, "distances must be real numbers"),
    "one coordinate": ((np.arange(1.0), [0.0]), {}, ValueError, "Shape of array too small"),
    "object array": ((np.arange(5.0).astype(object),), {}, TypeError, "not of dtype object"),
    "datetime64": ((np.arange(5).astype("datetime64[D]"),), {}, TypeError, "datetime64"),
    "masked array": ((np.ma.arange(5.0),), {}, TypeError, "masked arrays"),
    "boolean coordinates": ((np.arange(3.0), np.array([False, True, True])), {}, TypeError, "boolean spacing"),
    "edge_order as a float": ((np.arange(5.0),), {"edge_order": 1.0}, TypeError, "integer"),
    "longdouble": ((np.arange(5.0).astype(np.longdouble),), {}, TypeError, "not of dtype float128"),
    "booleans on uneven coordinates, edge_order 2": (
        (np.array([True, False, True, True]), [0.0, 1.0, 3.0, 3.5]),
        {"edge_order": 2},
        TypeError,
        "boolean arrays are not supported",
    ),
    "an axis beyond 64 bits": ((np.arange(5.0),), {"axis": 2**70}, AxisError, "axis 9223372036854775807"),
}


def test_numpy_takes_what_the_deviations_refuse():
    # the cases above are deviations: NumPy succeeds (or raises another class)
    x = np.array([True, False, True, True])
    assert np.gradient(x, [0.0, 1.0, 3.0, 3.5], edge_order=2).dtype == np.float64
    assert np.gradient(np.arange(5.0), edge_order=0).dtype == np.float64
    with pytest.warns(np.exceptions.ComplexWarning):  # the imaginary part is dropped
        assert np.gradient(np.arange(5.0), 1j).dtype == np.float64
    with pytest.raises(IndexError):
        np.gradient(np.arange(1.0), [0.0])


def test_no_warnings_where_numpy_warns():
    f = np.arange(5.0)
    with pytest.warns(RuntimeWarning):
        want = np.gradient(f, 0.0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = oxla.gradient(f, 0.0)
    assert same_bytes(got, want)


@pytest.mark.parametrize("case", sorted(DEVIATIONS))
def test_documented_deviations(case):
    args, kwargs, cls, words = DEVIATIONS[case]
    with pytest.raises(cls) as info:
        oxla.gradient(*args, **kwargs)
    assert words in str(info.value)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_subclasses_come_back_as_plain_arrays():
    m = np.matrix([[1.0, 2.0, 4.0], [2.0, 5.0, 9.0]])
    got = oxla.gradient(m)
    want = np.gradient(np.asarray(m))
    for g, w in zip(got, want):
        assert type(g) is np.ndarray and same_bytes(g, w)


def test_results_outlive_their_owner_and_recycle(rng):
    """Results are NumPy views of buffers owned by oxla objects (returned
    to oxla's pool when NumPy drops them): a view keeps its buffer alive,
    and later calls, which reuse dropped buffers, never write into it."""
    f = data(rng, "f8", (256, 128))  # large enough for the pool
    dy, dx = oxla.gradient(f)
    assert type(dy.base).__name__ == "Buffer" and dy.base.__module__ == "oxla._oxla"
    assert dy.flags.writeable and dy.flags.c_contiguous and dy.flags.owndata is False
    view = dx[10:20]
    expected = view.copy()
    del dy, dx
    gc.collect()
    for _ in range(5):
        oxla.gradient(data(rng, "f8", (256, 128)))
    assert same_bytes(view, expected)
    # results are independent, writeable arrays
    a, b = oxla.gradient(f)
    a[...] = 0
    assert same_bytes(b, np.gradient(f)[1])


def test_the_gil_is_released_while_computing(rng):
    """With a switch interval too long to ever force a switch, the counting
    thread can only run while the main thread releases the GIL: it does
    during oxla.gradient, and does not during a Python loop of as long."""
    f = data(rng, "f8", (1024, 1024))
    oxla.gradient(f)  # compile first
    count, stop = [0], threading.Event()

    def counter():
        while not stop.is_set():
            count[0] += 1
            time.sleep(0)

    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    thread = threading.Thread(target=counter)
    try:
        thread.start()
        time.sleep(0.01)
        before = count[0]
        for _ in range(5):
            oxla.gradient(f)
        during_oxla = count[0] - before
        before = count[0]
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 0.05:
            pass
        during_python = count[0] - before
    finally:
        stop.set()
        sys.setswitchinterval(old)
        thread.join()
    assert during_python == 0
    assert during_oxla > 0


def test_threads_share_the_module(rng):
    arrays = [data(rng, "f8", (64 + i, 48)) for i in range(8)]
    expected = [np.gradient(a, 0.5, edge_order=2) for a in arrays]
    results = [None] * len(arrays)

    def work(i):
        for _ in range(10):
            results[i] = oxla.gradient(arrays[i], 0.5, edge_order=2)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(arrays))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        assert all(same_bytes(g, w) for g, w in zip(got, want))

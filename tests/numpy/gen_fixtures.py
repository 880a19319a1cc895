#!/usr/bin/env python3
"""Write the NumPy conformance fixtures for `oxla::numpy::gradient`.

Regenerate (from the repository root, NumPy only, no other dependency):

    python3 tests/numpy/gen_fixtures.py

The output is deterministic: the same NumPy on the same kind of CPU writes
byte-identical files (fixed seeds, no timestamps). `cargo build`/`cargo test`
never run this script; they read the committed JSON in `tests/numpy/fixtures/`.

Three suites, one file each:

- `numpy_testgradient.json`: every applicable call of NumPy's own
  `numpy/lib/tests/test_function_base.py::TestGradient`, successes and
  expected errors. Skipped, because oxla does not support them:
  `test_datetime64` and `test_timedelta64` (datetime/timedelta dtypes),
  `test_masked` (masked arrays) and `test_return_type` (a Python tuple versus
  array detail: oxla always returns a `Vec`).
- `jax_testgradient.json`: JAX's `testGradient` shapes (10,), (10, 15) and
  (10, 15, 20) with every axis subset (empty and all included, plus
  `axis=None`), for float16/32/64 and complex64/128.
- `random.json`: random cases from a fixed seed (dtypes, shapes up to 4-d,
  axis forms, spacing mixes, both edge orders, special values, errors) and a
  few hand-written edge cases.

Format (one array or case per line, so diffs stay readable):

    {"format": 1, "suite": ..., "numpy_version": ..., "cpu": {...},
     "arrays": [{"dtype": "float64", "shape": [2, 3], "hex": "..."}, ...],
     "cases": [{"name": ..., "f": <array index>,
                "spacing": [{"float": "<f64 bits, 16 hex digits>", "repr": ...}
                            | {"array": <array index>}, ...],
                "axis": null | <int> | [<int>, ...],
                "edge_order": <int>,
                "outputs": [<array index>, ...]          # NumPy succeeded
                | "error": {"numpy_type": ..., "numpy_message": ...,
                            "oxla": <GradientError variant>,
                            "numpy_differs": <why, when NumPy's error differs>}}]}

Array data is the little-endian raw bytes of the C-ordered array, in hex, so
every bit (-0.0, NaN payloads, inf) round-trips. Arrays are stored once and
referenced by index (outputs along an axis that do not depend on the other
selected axes are therefore stored once). A `{"float": ...}` spacing is a
Python float (a weak scalar); an `{"array": ...}` spacing is a NumPy array
(0-d: a strong NumPy scalar step; 1-d: coordinates), of any dtype including
integers.

Complex results depend on the CPU features NumPy dispatches to (its complex
multiply loop uses FMA on AVX2), so the files record them.
"""

import itertools
import json
import os
import struct
import sys

import numpy as np
from numpy.exceptions import AxisError

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

SEED = 20240611


def cpu_info():
    try:
        from numpy._core._multiarray_umath import (
            __cpu_baseline__,
            __cpu_dispatch__,
            __cpu_features__,
        )
    except ImportError:  # pragma: no cover - other NumPy layouts
        return {}
    return {
        "baseline": list(__cpu_baseline__),
        "dispatch_found": [k for k in __cpu_dispatch__ if __cpu_features__.get(k)],
    }


def float_bits(v):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", float(v)))[0]


def error_variant(exc, edge_order):
    """The `GradientError` variant oxla raises for NumPy's exception."""
    msg = str(exc)
    if isinstance(exc, AxisError):
        return "AxisOutOfBounds", None
    table = [
        ("repeated axis", "RepeatedAxis"),
        ("invalid number of arguments", "InvalidSpacingCount"),
        ("distances must be either scalars or 1d", "SpacingNotOneDimensional"),
        ("when 1d, distances must match", "CoordinateLengthMismatch"),
        ("Shape of array too small", "AxisTooShort"),
        ("'edge_order' greater than 2", "InvalidEdgeOrder"),
    ]
    for needle, variant in table:
        if needle in msg:
            return variant, None
    if isinstance(exc, ZeroDivisionError):
        # edge_order=2 with a Python-float step of zero: `-1.5 / ax_dx`
        return "ZeroStep", None
    if isinstance(exc, IndexError):
        # np.diff of a 0- or 1-point coordinate array is empty and NumPy
        # indexes diffx[0] before it checks edge_order or the axis length.
        why = (
            "NumPy fails with IndexError on diff(x)[0] for a coordinate array "
            "of fewer than 2 points; oxla reports the SPEC's error instead"
        )
        if edge_order not in (1, 2):
            return "InvalidEdgeOrder", why
        return "AxisTooShort", why
    raise RuntimeError(f"unmapped NumPy error {type(exc).__name__}: {msg}")


class Suite:
    def __init__(self, name):
        self.name = name
        self.arrays = []
        self.index = {}
        self.cases = []
        self.names = set()

    def array(self, a):
        a = np.asarray(a)
        le = a.astype(a.dtype.newbyteorder("<"), copy=False)
        raw = le.tobytes(order="C")
        key = (a.dtype.name, tuple(a.shape), raw)
        if key not in self.index:
            self.index[key] = len(self.arrays)
            self.arrays.append(
                {"dtype": a.dtype.name, "shape": list(a.shape), "hex": raw.hex()}
            )
        return self.index[key]

    def spacing(self, s):
        if isinstance(s, (bool, np.bool_)):
            raise TypeError("boolean spacing is not a fixture case")
        if isinstance(s, (float, int)) and not isinstance(s, np.generic):
            return {"float": float_bits(s), "repr": repr(s)}
        return {"array": self.array(np.asarray(s))}

    def case(self, name, f, *spacing, axis="<default>", edge_order=1, note=None,
             known_deviation=None):
        if name in self.names:
            raise RuntimeError(f"duplicate case name {name}")
        self.names.add(name)
        f = np.asarray(f)
        kwargs = {"edge_order": edge_order}
        if axis != "<default>":
            kwargs["axis"] = axis
        rec = {"name": name, "f": self.array(f)}
        rec["spacing"] = [self.spacing(s) for s in spacing]
        ax = kwargs.get("axis")
        rec["axis"] = list(ax) if isinstance(ax, (tuple, list)) else ax
        rec["edge_order"] = edge_order
        if note:
            rec["note"] = note
        if known_deviation:
            # oxla differs from NumPy in the last bit here, for the reason
            # given; the Rust test allows 1 ulp per component for this case only.
            rec["known_deviation"] = known_deviation
            rec["tolerance_ulps"] = 1
        try:
            with np.errstate(all="ignore"):
                res = np.gradient(f, *spacing, **kwargs)
        except (ValueError, TypeError, IndexError, AxisError, ZeroDivisionError) as exc:
            variant, differs = error_variant(exc, edge_order)
            err = {
                "numpy_type": type(exc).__name__,
                "numpy_message": str(exc),
                "oxla": variant,
            }
            if differs:
                err["numpy_differs"] = differs
            rec["error"] = err
        else:
            outs = list(res) if isinstance(res, tuple) else [res]
            rec["outputs"] = [self.array(o) for o in outs]
        self.cases.append(rec)
        return rec

    def write(self):
        os.makedirs(OUT, exist_ok=True)
        head = {
            "format": 1,
            "suite": self.name,
            "generator": "tests/numpy/gen_fixtures.py",
            "numpy_version": np.__version__,
            "python_version": "%d.%d" % sys.version_info[:2],
            "cpu": cpu_info(),
            "seed": SEED,
        }
        lines = ["{"]
        for k, v in head.items():
            lines.append(f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)},")
        lines.append('"arrays": [')
        lines.append(
            ",\n".join(json.dumps(a, sort_keys=True) for a in self.arrays)
        )
        lines.append("],")
        lines.append('"cases": [')
        lines.append(",\n".join(json.dumps(c, sort_keys=True) for c in self.cases))
        lines.append("]")
        lines.append("}")
        path = os.path.join(OUT, f"{self.name}.json")
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write("\n".join(lines) + "\n")
        ok = sum("outputs" in c for c in self.cases)
        print(
            f"{path}: {len(self.cases)} cases ({ok} ok, {len(self.cases) - ok} errors), "
            f"{len(self.arrays)} arrays, {os.path.getsize(path)} bytes"
        )


# ---------------------------------------------------------------------------
# NumPy's TestGradient


def numpy_suite():
    s = Suite("numpy_testgradient")
    g = s.case

    # test_basic (a list and the same values as an int64 array)
    v = [[1, 1], [3, 4]]
    x = np.array(v)
    g("test_basic/array", x)
    g("test_basic/list", np.asarray(v), note="gradient(v) with v a Python list: int64")

    # test_args
    dx = np.cumsum(np.ones(5))
    dx_uneven = [1.0, 2.0, 5.0, 9.0, 11.0]
    f_2d = np.arange(25).reshape(5, 5)
    g("test_args/arange5_py3.", np.arange(5), 3.0)
    g("test_args/arange5_array3.", np.arange(5), np.array(3.0))
    g("test_args/arange5_dx", np.arange(5), dx)
    g("test_args/f2d_py1.5", f_2d, 1.5)
    g("test_args/f2d_array1.5", f_2d, np.array(1.5))
    g("test_args/f2d_uneven_uneven", f_2d, np.asarray(dx_uneven), np.asarray(dx_uneven))
    g("test_args/f2d_dx_int2", f_2d, dx, 2)
    g("test_args/f2d_dx_axis1", f_2d, dx, axis=1)
    g("test_args/2d_coordinates", f_2d, np.stack([dx] * 2, axis=-1), 1)

    # test_badargs
    f_2d = np.arange(25).reshape(5, 5)
    x = np.cumsum(np.ones(5))
    g("test_badargs/x_ones2", f_2d, x, np.ones(2))
    g("test_badargs/1_ones2", f_2d, 1, np.ones(2))
    g("test_badargs/ones2_ones2", f_2d, np.ones(2), np.ones(2))
    g("test_badargs/x", f_2d, x)
    g("test_badargs/x_axis01", f_2d, x, axis=(0, 1))
    g("test_badargs/x_x_x", f_2d, x, x, x)
    g("test_badargs/1_1_1", f_2d, 1, 1, 1)
    g("test_badargs/x_x_axis1", f_2d, x, x, axis=1)
    g("test_badargs/1_1_axis1", f_2d, 1, 1, axis=1)

    # test_second_order_accurate
    x = np.linspace(0, 1, 10)
    dx = x[1] - x[0]
    y = 2 * x**3 + 4 * x**2 + 2 * x
    g("test_second_order_accurate/even", y, dx, edge_order=2)
    rng = np.random.default_rng(0)
    x = np.sort(rng.random(10))
    y = 2 * x**3 + 4 * x**2 + 2 * x
    g("test_second_order_accurate/uneven", y, x, edge_order=2)

    # test_spacing
    f = np.array([0, 2.0, 3.0, 4.0, 5.0, 5.0])
    f = np.tile(f, (6, 1)) + f.reshape(-1, 1)
    x_uneven = np.array([0.0, 0.5, 1.0, 3.0, 5.0, 7.0])
    x_even = np.arange(6.0)
    for eo in (1, 2):
        p = f"test_spacing/even_eo{eo}"
        g(f"{p}/1._axis01", f, 1.0, axis=(0, 1), edge_order=eo)
        g(f"{p}/xe_xe_axis01", f, x_even, x_even, axis=(0, 1), edge_order=eo)
        g(f"{p}/xe_xe_axisNone", f, x_even, x_even, axis=None, edge_order=eo)
        g(f"{p}/1._axis0", f, 1.0, axis=0, edge_order=eo)
        g(f"{p}/xe_axis0", f, x_even, axis=0, edge_order=eo)
        g(f"{p}/1._axis1", f, 1.0, axis=1, edge_order=eo)
        g(f"{p}/xe_axis1", f, x_even, axis=1, edge_order=eo)
    for eo in (1, 2):
        p = f"test_spacing/uneven_eo{eo}"
        g(f"{p}/xu_xu_axis01", f, x_uneven, x_uneven, axis=(0, 1), edge_order=eo)
        g(f"{p}/xu_xu_axisNone", f, x_uneven, x_uneven, axis=None, edge_order=eo)
        g(f"{p}/xu_axis0", f, x_uneven, axis=0, edge_order=eo)
        g(f"{p}/xu_axis1", f, x_uneven, axis=1, edge_order=eo)
    for eo in (1, 2):
        p = f"test_spacing/mixed_eo{eo}"
        g(f"{p}/xe_xu_axis01", f, x_even, x_uneven, axis=(0, 1), edge_order=eo)
        g(f"{p}/xu_xe_axis10", f, x_uneven, x_even, axis=(1, 0), edge_order=eo)

    # test_specific_axes
    x = np.array([[1, 1], [3, 4]])
    g("test_specific_axes/axis0", x, axis=0)
    g("test_specific_axes/axis1", x, axis=1)
    g("test_specific_axes/axis-1", x, axis=-1)
    g("test_specific_axes/axis10", x, axis=(1, 0))
    g("test_specific_axes/axisNone", x, axis=None)
    g("test_specific_axes/default", x)
    g("test_specific_axes/2_3_axis10", x, 2, 3, axis=(1, 0))
    g("test_specific_axes/1_2_axis1", x, 1, 2, axis=1)
    g("test_specific_axes/axis3", x, axis=3)
    g("test_specific_axes/axis-3", x, axis=-3)

    # test_inexact_dtypes
    for dt in (np.float16, np.float32, np.float64):
        g(f"test_inexact_dtypes/{np.dtype(dt).name}", np.array([1, 2, 3], dtype=dt))

    # test_values
    g("test_values/arange2_eo1", np.arange(2), edge_order=1)
    g("test_values/arange3_eo2", np.arange(3), edge_order=2)
    g("test_values/arange0_eo1", np.arange(0), edge_order=1)
    g("test_values/arange0_eo2", np.arange(0), edge_order=2)
    g("test_values/arange1_eo1", np.arange(1), edge_order=1)
    g("test_values/arange1_eo2", np.arange(1), edge_order=2)
    g("test_values/arange2_eo2", np.arange(2), edge_order=2)

    # the four big-jump tests, one case per integer dtype
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        f = np.array([5, 4, 3, 2, 1], dtype=dt)
        g(f"test_f_decreasing_unsigned_int/{np.dtype(dt).name}", f)
    for dt in (np.int8, np.int16, np.int32, np.int64):
        maxint = np.iinfo(dt).max
        x = np.array([1, 3])
        f = np.array([-1, maxint], dtype=dt)
        g(f"test_f_signed_int_big_jump/{np.dtype(dt).name}", f, x)
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        x = np.array([3, 2, 1], dtype=dt)
        f = np.array([0, 2, 4])
        g(f"test_x_decreasing_unsigned/{np.dtype(dt).name}", f, x)
    for dt in (np.int8, np.int16, np.int32, np.int64):
        minint = np.iinfo(dt).min
        maxint = np.iinfo(dt).max
        x = np.array([-1, maxint], dtype=dt)
        f = np.array([minint // 2, 0])
        g(f"test_x_signed_int_big_jump/{np.dtype(dt).name}", f, x)
    return s


# ---------------------------------------------------------------------------
# JAX's testGradient


def jax_suite():
    s = Suite("jax_testgradient")
    rng = np.random.default_rng(SEED + 1)
    for shape in [(10,), (10, 15), (10, 15, 20)]:
        for dt in ("float16", "float32", "float64", "complex64", "complex128"):
            # jtu.rand_default: standard normal scaled by 3
            if dt.startswith("complex"):
                y = rng.standard_normal(shape) * 3 + 1j * (rng.standard_normal(shape) * 3)
            else:
                y = rng.standard_normal(shape) * 3
            y = y.astype(dt)
            tag = "x".join(map(str, shape))
            for k in range(len(shape) + 1):
                for axes in itertools.combinations(range(len(shape)), k):
                    name = f"{dt}/{tag}/axis{''.join(map(str, axes)) or '_empty'}"
                    s.case(name, y, axis=axes)
            s.case(f"{dt}/{tag}/axisNone", y, axis=None)
    return s


# ---------------------------------------------------------------------------
# Random cases

FLOATS = ["float16", "float32", "float64", "complex64", "complex128"]
INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


def rand_data(rng, dtype, shape, special):
    dt = np.dtype(dtype)
    if dt.kind in "fc":
        scale = {"float16": 4.0}.get(dt.name, float(10.0 ** rng.integers(-2, 4)))
        a = rng.standard_normal(shape) * scale
        if dt.kind == "c":
            a = a + 1j * (rng.standard_normal(shape) * scale)
        a = a.astype(dt)
        if special and a.size:
            flat = a.reshape(-1)
            picks = [-0.0, 0.0, np.inf, -np.inf, np.nan]
            for _ in range(int(rng.integers(1, 4))):
                i = int(rng.integers(flat.size))
                v = picks[int(rng.integers(len(picks)))]
                if dt.kind == "c":
                    part = int(rng.integers(3))
                    re = v if part != 1 else flat[i].real
                    im = v if part != 0 else flat[i].imag
                    flat[i] = complex(re, im)
                else:
                    flat[i] = v
        return a
    info = np.iinfo(dt)
    if rng.random() < 0.5:
        lo, hi = max(info.min, -100), min(info.max, 100)
    else:
        lo, hi = info.min, info.max
    return rng.integers(lo, hi, size=shape, dtype=dt, endpoint=True)


def rand_step(rng):
    kind = rng.integers(4)
    if kind == 0:
        return float(rng.choice([0.5, 0.25, 2.0, 1.0, -1.0, -0.5, 3.0, 0.1, 1e-3]))
    v = float(rng.uniform(0.05, 4.0))
    if rng.random() < 0.25:
        v = -v
    return v


def rand_coords(rng, n, kind):
    """Coordinates of length n and a label."""
    if kind == "even":
        step = float(rng.choice([0.25, 0.5, -0.5, 1.0, 2.0, 0.125, -2.0]))
        off = float(rng.choice([0.0, 1.0, -3.0, 0.75]))
        dt = rng.choice(["float64", "float32", "float16"])
        x = (np.arange(n) * step + off).astype(dt)
        d = np.diff(x)
        assert (d == d[0]).all(), "evenly spaced coordinates must reduce"
        return x, f"even{dt}({step})"
    if kind == "even_int":
        dt = rng.choice(INTS)
        step = int(rng.integers(1, 4))
        if np.dtype(dt).kind == "u" and rng.random() < 0.5:
            x = np.arange(n * step, 0, -step)[:n].astype(dt)  # decreasing unsigned
        else:
            x = (np.arange(n) * step).astype(dt)
        return x, f"evenint{dt}"
    if kind == "uneven_int":
        dt = rng.choice(INTS)
        info = np.iinfo(dt)
        hi = min(int(info.max), 1000)
        x = np.sort(rng.choice(np.arange(0, hi), size=n, replace=False)).astype(dt)
        if rng.random() < 0.3:
            x = x[::-1].copy()
        return x, f"unevenint{dt}"
    if kind == "repeated":
        x = np.cumsum(rng.uniform(0.1, 2.0, n))
        if n >= 2:
            x[1] = x[0]
        return x, "repeated"
    # uneven floats
    dt = rng.choice(["float64", "float64", "float32", "float16"])
    x = np.cumsum(rng.uniform(0.1, 2.0, n)) + float(rng.uniform(-5, 5))
    if rng.random() < 0.25:
        x = -x
    return x.astype(dt), f"uneven{dt}"


def rand_axes(rng, ndim):
    """(axis argument, normalized selected axes)"""
    mode = rng.choice(["none", "int", "tuple", "tuple"])
    if mode == "none" or ndim == 0:
        return None, list(range(ndim))
    if mode == "int":
        a = int(rng.integers(ndim))
        return (a - ndim if rng.random() < 0.4 else a), [a]
    k = int(rng.integers(0, ndim + 1)) if rng.random() < 0.1 else int(rng.integers(1, ndim + 1))
    sel = [int(a) for a in rng.permutation(ndim)[:k]]
    given = tuple(a - ndim if rng.random() < 0.3 else a for a in sel)
    return given, sel


def random_suite():
    s = Suite("random")
    rng = np.random.default_rng(SEED)
    n_ok = 0
    i = 0
    while n_ok < 240:
        i += 1
        dtype = str(rng.choice(FLOATS * 3 + INTS))
        ndim = int(rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4]))
        edge_order = int(rng.choice([1, 2]))
        shape = [int(rng.choice([2, 3, 3, 4, 5, 6, 7])) for _ in range(ndim)]
        axis, sel = rand_axes(rng, ndim)
        for a in sel:
            shape[a] = max(shape[a], edge_order + 1)
        unselected = [a for a in range(ndim) if a not in sel]
        if unselected and rng.random() < 0.15:
            shape[int(rng.choice(unselected))] = 0
        if ndim == 4:
            shape = [min(d, 4) for d in shape]
            for a in sel:
                shape[a] = max(shape[a], edge_order + 1)
        special = dtype in FLOATS and rng.random() < 0.1
        f = rand_data(rng, dtype, tuple(shape), special)

        mode = rng.choice(["none", "py", "zero_d", "per_axis", "per_axis", "per_axis"])
        spacing, labels = [], []
        if mode == "py":
            h = rand_step(rng)
            spacing, labels = [h], [repr(h)]
        elif mode == "zero_d":
            dt = str(rng.choice(["float64", "float32", "float16", "int16", "int64"]))
            h = np.array(abs(rand_step(rng)) if dt.startswith("int") else rand_step(rng))
            h = np.array(max(1, round(float(h))) if dt.startswith("int") else h).astype(dt)
            spacing, labels = [h], [f"0d{dt}"]
        elif mode == "per_axis":
            for a in sel:
                kind = str(
                    rng.choice(
                        ["py", "f64_0d", "f32_0d", "even", "uneven", "uneven", "even_int",
                         "uneven_int", "repeated" if rng.random() < 0.2 else "uneven"]
                    )
                )
                if kind == "py":
                    h = rand_step(rng)
                    spacing.append(h)
                    labels.append(repr(h))
                elif kind.endswith("_0d"):
                    dt = {"f64_0d": "float64", "f32_0d": "float32"}[kind]
                    spacing.append(np.array(rand_step(rng)).astype(dt))
                    labels.append(f"0d{dt}")
                else:
                    x, label = rand_coords(rng, shape[a], kind)
                    spacing.append(x)
                    labels.append(label)
        name = (
            f"random/{i:03d}/{dtype}{tuple(shape)}/axis={axis}/"
            f"spacing=[{','.join(labels)}]/eo{edge_order}"
        )
        rec = s.case(name, f, *spacing, axis=axis, edge_order=edge_order)
        n_ok += "outputs" in rec
    combo_cases(s, rng)
    random_errors(s, rng)
    edge_cases(s)
    return s


def combo_cases(s, rng):
    """Random data with the spacing/data dtype pairs docs/gradient-spec.md singles out:
    f32 coordinates with f64 data, f64 coordinates with f32/f16 data, and
    per-axis mixes of Python floats, 0-d arrays and coordinates."""
    pairs = [
        ("float64", "float32"),
        ("float64", "float32"),
        ("float32", "float64"),
        ("float16", "float64"),
        ("complex64", "float64"),
        ("complex128", "float32"),
        ("int32", "float32"),
    ]
    for j in range(36):
        dtype, xdt = pairs[j % len(pairs)]
        edge_order = 1 + (j // len(pairs)) % 2
        ndim = 2 + j % 2
        shape = tuple(int(rng.integers(edge_order + 1, 6)) for _ in range(ndim))
        f = rand_data(rng, dtype, shape, special=False)
        axes = [int(a) for a in rng.permutation(ndim)]
        spacing, labels = [], []
        for k, a in enumerate(axes):
            kind = ["uneven", "even", "mix"][(j + k) % 3]
            n = shape[a]
            if kind == "mix":
                choice = int(rng.integers(3))
                if choice == 0:
                    h = rand_step(rng)
                    spacing.append(h)
                    labels.append(repr(h))
                else:
                    spacing.append(np.array(rand_step(rng)).astype(xdt))
                    labels.append(f"0d{xdt}")
                continue
            if kind == "even":
                x = (np.arange(n) * float(rng.choice([0.25, -0.5, 2.0])) + 1.5).astype(xdt)
            else:
                x = (np.cumsum(rng.uniform(0.05, 3.0, n)) - 2.0).astype(xdt)
            spacing.append(x)
            labels.append(f"{kind}{xdt}")
        name = (
            f"combo/{j:02d}/{dtype}{shape}/axis={tuple(axes)}/"
            f"spacing=[{','.join(labels)}]/eo{edge_order}"
        )
        rec = s.case(name, f, *spacing, axis=tuple(axes), edge_order=edge_order)
        assert "outputs" in rec, name


def random_errors(s, rng):
    """Random calls that NumPy rejects."""
    kinds = ["axis_oob", "repeated", "count", "length", "not_1d", "short", "edge3"]
    for j in range(42):
        kind = kinds[j % len(kinds)]
        dtype = str(rng.choice(FLOATS + INTS))
        ndim = int(rng.integers(1, 4))
        shape = [int(rng.integers(3, 6)) for _ in range(ndim)]
        edge_order = int(rng.choice([1, 2]))
        axis = None
        spacing = []
        if kind == "axis_oob":
            a = int(rng.integers(ndim, ndim + 3))
            axis = -a - 1 if rng.random() < 0.5 else a
            if rng.random() < 0.5:
                axis = (0, axis)
        elif kind == "repeated":
            a = int(rng.integers(ndim))
            axis = (a, a - ndim) if rng.random() < 0.5 else (a, a)
        elif kind == "count":
            if ndim == 1:
                spacing = [1.0, 2.0]
            else:
                spacing = [np.arange(float(shape[0]))] if rng.random() < 0.5 else [1.0] * (ndim + 1)
        elif kind == "length":
            spacing = [np.arange(float(d + 1)) for d in shape]
        elif kind == "not_1d":
            spacing = [np.ones((shape[0], 2))] + [1.0] * (ndim - 1)
        elif kind == "short":
            shape[int(rng.integers(ndim))] = int(rng.integers(0, edge_order + 1))
        elif kind == "edge3":
            edge_order = 3
        f = rand_data(rng, dtype, tuple(shape), False)
        name = f"random_error/{j:02d}/{kind}/{dtype}{tuple(shape)}/axis={axis}/eo{edge_order}"
        rec = s.case(name, f, *spacing, axis=axis, edge_order=edge_order)
        assert "error" in rec, name


def edge_cases(s):
    """Hand-written corners."""
    g = s.case
    f = np.array([[1.0, -0.0, 3.0], [np.inf, 2.0, np.nan]])
    g("edge/0d_input", np.array(2.5))
    g("edge/0d_input_scalar_step", np.array(2.5), 0.5)
    g("edge/0d_input_edge3", np.array(2.5), edge_order=3)
    g("edge/empty_axis_tuple", f, axis=())
    g("edge/empty_axis_tuple_scalar", f, 2.0, axis=())
    g("edge/specials_eo1", f)
    g("edge/specials_eo2", f[:, [0, 1, 2]].T.copy(), edge_order=2, axis=0)
    g("edge/neg_zero_flat", np.array([-0.0, -0.0, -0.0, 0.0]))
    g("edge/neg_zero_flat_eo2", np.array([-0.0, -0.0, -0.0, 0.0]), edge_order=2)
    g("edge/neg_zero_step", np.array([1.0, 2.0, 4.0]), -0.0)
    g("edge/zero_step", np.array([1.0, 2.0, 4.0, 4.0]), 0.0)
    g("edge/zero_coords", np.array([1.0, 2.0, 4.0]), np.zeros(3), edge_order=2)
    g("edge/nan_coords", np.array([1.0, 2.0, 4.0, 7.0]), np.array([0.0, np.nan, 2.0, 3.0]))
    g("edge/inf_coords", np.array([1.0, 2.0, 4.0, 7.0]), np.array([0.0, 1.0, np.inf, 3.0]))
    g("edge/zero_len_unselected", np.zeros((0, 4)), axis=1)
    g("edge/zero_len_unselected_eo2", np.zeros((3, 0, 4), dtype=np.float32), 0.5, axis=(2, 0), edge_order=2)
    g("edge/len2_eo1_coords", np.array([1.0, 5.0]), np.array([0.5, 2.0]))
    g("edge/len3_eo2_coords", np.array([1.0, 5.0, 2.0]), np.array([0.5, 2.0, 2.25]), edge_order=2)
    g("edge/c64_py_step", np.array([1 + 2j, 3 - 1j, 0.5 + 0.25j], dtype=np.complex64), 0.3)
    g("edge/c128_f32_coords", np.array([1 + 2j, 3 - 1j, 0.5 + 0.25j, 2j]), np.array([0.0, 0.3, 1.0, 1.1], dtype=np.float32), edge_order=2)
    g("edge/f16_f64_coords", np.array([1.0, 3.0, 2.0, 7.5], dtype=np.float16), np.array([0.0, 0.1, 0.35, 0.4]), edge_order=2)
    g("edge/f16_py_step_round", np.array([1.0, 3.0, 2.0, 7.5], dtype=np.float16), 0.1)
    g("edge/f32_f64_step", np.array([1.0, 3.0, 2.0, 7.5], dtype=np.float32), np.float64(0.1))
    g("edge/f32_f64_step_eo2", np.array([1.0, 3.0, 2.0, 7.5], dtype=np.float32), np.float64(0.1), edge_order=2)
    g("edge/f64_f32_step", np.array([1.0, 3.0, 2.0, 7.5]), np.float32(0.1), edge_order=2)
    inf = np.inf
    g("edge/c128_inf_nonuniform", np.array([1 + 1j, complex(inf, inf), 2 + 0j, 3 - 1j]),
      np.array([0.0, 0.5, 2.0, 2.25]),
      note="0*inf in the complex products: NaNs whose sign bit depends on fmsub vs fma(-c)")
    g("edge/c64_inf_nonuniform", np.array([1 + 1j, complex(inf, inf), 2 + 0j, 3 - 1j], dtype=np.complex64),
      np.array([0.0, 0.5, 2.0, 2.25]), edge_order=2)
    g("edge/u64_max", np.array([0, 2**64 - 1, 2**63, 1], dtype=np.uint64))
    g("edge/i64_extremes", np.array([-(2**63), 2**63 - 1, 0], dtype=np.int64), edge_order=2)
    g("edge/coords_len1", np.array([3.0]), np.array([1.0]),
      note="NumPy raises IndexError from diff(x)[0]")
    g("edge/coords_len1_2d", np.ones((1, 3)), np.array([1.0]), 1.0,
      note="NumPy raises IndexError from diff(x)[0]")
    g("edge/coords_len0_edge3", np.ones((0, 3)), np.zeros(0), 1.0, edge_order=3,
      note="NumPy raises IndexError from diff(x)[0] before checking edge_order")
    g("edge/edge3_before_short", np.ones(2), edge_order=3)
    g("edge/count_before_edge3", np.ones((3, 3)), 1.0, 1.0, 1.0, edge_order=3)
    g("edge/oob_before_count", np.ones((3, 3)), 1.0, 1.0, 1.0, axis=(0, 5))
    g("edge/oob_before_repeat", np.ones((3, 3)), axis=(0, 0, 7))
    g("edge/repeat_before_count", np.ones((3, 3)), 1.0, 1.0, 1.0, axis=(1, -1))
    g("edge/short_first_selected", np.ones((1, 2, 5)), axis=(2, 1, 0), edge_order=2)
    integer_steps(s)


def integer_steps(s):
    """0-d integer steps.

    NumPy keeps a 0-d integer step an integer (only coordinate arrays are
    converted to float64), so `(f[1] - f[0]) / h` computes in
    result_type(f, h): float16 with int8 stays float16, float32 with int16
    stays float32, complex64 with int8/int16 stays complex64. oxla converts
    every integer array to float64 on entry (`Tensor::from_host`), so it
    computes those edges in float64/complex128 and rounds once. For the real
    types both roundings are correct roundings of the same quotient
    (p' >= 2p + 2), hence bit-identical; for complex64 the complex division
    (a reciprocal, then a product) rounds differently in complex128.
    The interior and the edge_order=2 coefficients (`2. * h`, `-1.5 / h`)
    are float64 in NumPy as well.
    """
    g = s.case
    rng = np.random.default_rng(SEED + 2)
    f16 = (rng.standard_normal((6, 5)) * 4).astype(np.float16)
    f32 = (rng.standard_normal((6, 5)) * 100).astype(np.float32)
    c128 = rng.standard_normal((6, 5)) + 1j * rng.standard_normal((6, 5))
    c64 = c128.astype(np.complex64)
    g("int_step/f16_int8", f16, np.int8(3))
    g("int_step/f16_int16_eo2", f16, np.int16(-5), edge_order=2)
    g("int_step/f16_int64", f16, np.int64(7), axis=1)
    g("int_step/f32_int16", f32, np.array(3, dtype=np.int16))
    g("int_step/f32_uint8_per_axis", f32, np.uint8(3), np.int32(7))
    g("int_step/c128_int8", c128, np.int8(3))
    g("int_step/c64_int32", c64, np.int32(3), note="NumPy promotes to complex128 too")
    g("int_step/c64_int16_eo2", c64, np.int16(3), edge_order=2,
      note="edge_order=2 coefficients are float64 in NumPy too")
    f = (rng.standard_normal((16, 4)) + 1j * rng.standard_normal((16, 4))).astype(np.complex64)
    with np.errstate(all="ignore"):
        numpy_res = np.gradient(f, np.int16(3), axis=1)
        oxla_like = np.gradient(f, np.float64(3), axis=1)
    assert (numpy_res.view(np.uint32) != oxla_like.view(np.uint32)).any()
    g("int_step/c64_int16", f, np.int16(3), axis=1, known_deviation=(
        "complex64 data with a 0-d int8/int16 step: NumPy divides the edge "
        "differences in complex64, oxla (integers enter as float64) in "
        "complex128 and rounds once"))


# ---------------------------------------------------------------------------
# Extreme steps and values


def extreme_data(dtype, kind):
    """A 1-d array of 6 values of `dtype`: ordinary, huge (differences
    overflow), subnormal, signed zeros (complex parts too), or random."""
    dt = np.dtype(dtype)
    real = dt
    if dt.kind == "c":
        real = np.dtype({"complex64": "float32", "complex128": "float64"}[dt.name])
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return {
            "ordinary": np.array([1, 2, 4, 7, 11, 3], dtype=dt),
            "huge": np.array([info.max, info.min, info.max, 0, info.min, info.max], dtype=dt),
            "subnormal": np.array([0, 1, 0, 1, 1, 0], dtype=dt),
            "zeros": np.zeros(6, dtype=dt),
            "random": np.array([5, -3, 100, 7, -11, 2], dtype=dt) if dt.kind == "i"
            else np.array([5, 3, 100, 7, 11, 2], dtype=dt),
        }[kind]
    fi = np.finfo(real)
    big, tiny = float(fi.max) / 1.5, float(fi.smallest_subnormal)
    re = {
        "ordinary": [1.0, 2.0, 4.0, 7.0, 11.0, 3.0],
        "huge": [big, -big, big, big / 2, -big, big],
        "subnormal": [tiny, 3 * tiny, -2 * tiny, 0.0, 7 * tiny, -tiny],
        "zeros": [0.0, -0.0, -0.0, 0.0, -0.0, -0.0],
        "random": list(np.random.default_rng(SEED + 3).standard_normal(6) * 3.7),
    }[kind]
    if dt.kind == "c":
        im = {
            "ordinary": [0.0, 0.0, -0.0, 0.0, 0.0, 0.0],
            "huge": [-big, big, 0.0, -big, big, 0.0],
            "subnormal": [-tiny, 0.0, 5 * tiny, -3 * tiny, 0.0, tiny],
            "zeros": [-0.0, -0.0, 0.0, -0.0, 0.0, -0.0],
            "random": list(np.random.default_rng(SEED + 4).standard_normal(6) * 0.3),
        }[kind]
        out = np.empty(6, dtype=dt)
        out.real = np.array(re, dtype=real)
        out.imag = np.array(im, dtype=real)
        return out
    return np.array(re, dtype=dt)


def extreme_spacings():
    """(label, spacing) pairs: negative, huge, tiny and subnormal steps as
    Python floats, strong 0-d arrays and coordinates."""
    out = []
    for h in [-1.0, -0.3, -2.5, 1e300, -1e300, 1e308, 1e-310, -5e-324, 3e-300, 0.0, -0.0]:
        out.append((f"py({h!r})", h))
    for dt, h in [("float64", -0.7), ("float64", 1e-320), ("float64", 0.0), ("float32", -1e38),
                  ("float32", 1e-40), ("float32", -3.0), ("float16", -0.1), ("float16", 6e-8),
                  ("float16", 60000.0)]:
        out.append((f"0d{dt}({h!r})", np.array(h, dtype=dt)))
    n = 6
    out.append(("coords_decreasing", np.arange(n) * -0.5 + 2.0))
    out.append(("coords_decreasing_uneven", -np.cumsum([0.5, 0.25, 1.0, 2.0, 0.125, 0.75])))
    out.append(("coords_huge", np.cumsum([1e300, 3e300, 2e300, 1e300, 5e300, 1e300])))
    out.append(("coords_subnormal", np.array([0, 1, 3, 4, 8, 9]) * 5e-324))
    out.append(("coords_tiny_even", np.arange(n) * 2.0**-1060))
    out.append(("coords_f32_subnormal", (np.array([0, 2, 3, 7, 8, 11]) * 1e-45).astype(np.float32)))
    out.append(("coords_f16_huge", np.array([-60000, -30000, 0, 100, 30000, 65000], dtype=np.float16)))
    return out


def extremes_suite():
    s = Suite("extremes")
    dtypes = ["float16", "float32", "float64", "complex64", "complex128", "int64", "uint8"]
    for dtype in dtypes:
        for kind in ["ordinary", "huge", "subnormal", "zeros", "random"]:
            f = extreme_data(dtype, kind)
            for label, h in extreme_spacings():
                for eo in (1, 2):
                    s.case(f"extreme/{dtype}/{kind}/{label}/eo{eo}", f, h, edge_order=eo)
    # two axes, so that a zero step on the second axis is reached after the first
    f2 = np.arange(12.0).reshape(3, 4) ** 2
    s.case("extreme/2d/zero_step_second_axis_eo2", f2, 1.0, 0.0, edge_order=2)
    s.case("extreme/2d/zero_step_then_short_axis", np.ones((3, 2)), 0.0, 1.0, edge_order=2)
    s.case("extreme/2d/short_axis_then_zero_step", np.ones((2, 3)), 1.0, 0.0, edge_order=2)
    s.case("extreme/2d/zero_step_axis_not_selected", f2, 0.0, axis=1, edge_order=1)
    return s


def main():
    for suite in (numpy_suite(), jax_suite(), random_suite(), extremes_suite()):
        suite.write()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Write the findiff fixtures for `oxla::fd` (`tests/fd_findiff.rs`).

Regenerate (from the repository root; NumPy and findiff 0.16 only):

    python3 tests/findiff/gen_fixtures.py

The output is deterministic (fixed seeds, no timestamps). `cargo test`
never runs this script; it reads the committed JSON in
`tests/findiff/fixtures/`.

Every case is one derivative of random data: its order, accuracy,
boundary, spacing (a step or coordinates) and axis, with three results:

- `findiff`: what findiff 0.16 computes (`findiff.Diff(axis, grid,
  periodic=..., acc=...) ** order`). findiff has no periodic axes with
  coordinates (`NotImplementedError`); for those, `findiff` is findiff's
  one-sided operator applied to the array and coordinates extended by the
  stencil's half-width on each side (`x[-s:] - L`, `x`, `x[:s] + L`), whose
  middle rows are exactly the wrapped centered stencil.
- `exact`: the same discrete operator evaluated exactly: Fornberg's
  weights in rational arithmetic (`fractions.Fraction`) from the exact
  grid points (the float coordinates, and the float sums `x + L` where a
  periodic stencil wraps), applied to the exact data, rounded once. It
  measures findiff's own rounding (its weights come from
  `numpy.linalg.solve` on a Vandermonde matrix).
- `scale`: `sum_k |w_k f[i + o_k]|` per element (exact weights): the size
  of the terms whose rounding any evaluation of the sum suffers, the unit
  the test measures errors in.

For order 1, accuracy 2 with one-sided ends, `numpy` also holds
`numpy.gradient(f, spacing, axis=axis, edge_order=2)`, which oxla must
match bit for bit.

Format (one array or case per line):

    {"format": 1, "generator": ..., "numpy_version": ..., "findiff_version": ...,
     "arrays": [{"dtype": "float64", "shape": [...], "hex": "<little-endian bytes>"}, ...],
     "cases": [{"name": ..., "f": <array>, "axis": <int>, "order": <int>,
                "accuracy": <int>, "boundary": "one-sided" | "periodic",
                "step": "<f64 bits, 16 hex digits>" | null, "coords": <array> | null,
                "period": "<f64 bits>" | null,
                "findiff": <array>, "exact": <array>, "scale": <array>,
                "numpy": <array> | null}, ...]}
"""

import json
import math
import os
import struct
import sys
from fractions import Fraction

import numpy as np
import findiff

MAX_ORDER = 6
MAX_ACCURACY = 12
MAX_COORD_ACCURACY = 6


def float_bits(v):
    return format(struct.unpack("<Q", struct.pack("<d", v))[0], "016x")


# ---- exact weights and findiff's layouts --------------------------------------


def fornberg(order, z, points):
    """Fornberg's weights, in whatever arithmetic the arguments use."""
    n = len(points)
    c = [[0] * (order + 1) for _ in range(n)]
    c[0][0] = 1
    c1 = 1
    c4 = points[0] - z
    for i in range(1, n):
        mn = min(i, order)
        c2 = 1
        c5 = c4
        c4 = points[i] - z
        for j in range(i):
            c3 = points[i] - points[j]
            c2 = c2 * c3
            if j == i - 1:
                for k in range(mn, 0, -1):
                    c[i][k] = c1 * (k * c[i - 1][k - 1] - c5 * c[i - 1][k]) / c2
                c[i][0] = -c1 * c5 * c[i - 1][0] / c2
            for k in range(mn, 0, -1):
                c[j][k] = (c4 * c[j][k] - k * c[j][k - 1]) / c3
            c[j][0] = c4 * c[j][0] / c3
        c1 = c2
    return [row[order] for row in c]


def sizes(order, accuracy):
    num_central = 2 * ((order + 1) // 2) - 1 + accuracy
    num_coef = num_central + (1 if order % 2 == 0 else 0)
    return num_central, num_coef


def min_len(order, accuracy, periodic, coords):
    num_central, num_coef = sizes(order, accuracy)
    s = num_coef // 2 if coords else num_central // 2
    if periodic:
        return 2 * s + 1
    return num_coef if coords else num_coef + s - 1


def layout(n, order, accuracy, periodic, coords):
    """For each row: the indices it reads (periodic: not yet wrapped)."""
    num_central, num_coef = sizes(order, accuracy)
    s = num_coef // 2 if coords else num_central // 2
    rows = []
    for i in range(n):
        centered = list(range(i - s, i + s + 1))
        if periodic or s <= i < n - s:
            rows.append(centered)
        elif coords:
            rows.append(list(range(num_coef)) if i < s else list(range(n - num_coef, n)))
        elif i < s:
            rows.append(list(range(i, i + num_coef)))
        else:
            rows.append(list(range(i - num_coef + 1, i + 1)))
    return rows


def exact_1d(f, order, accuracy, periodic, h=None, x=None, period=None):
    """The exact operator on a 1-d array, rounded once, and its scale."""
    n = len(f)
    coords = x is not None
    out, scale = [], []
    for i, idx in enumerate(layout(n, order, accuracy, periodic, coords)):
        if coords:
            def point(j):
                wraps, k = divmod(j, n)
                # the float sum x + L, as oxla (and findiff on the extended array) form it
                return Fraction(float(x[k] + wraps * period)) if wraps else Fraction(float(x[k]))
            w = fornberg(order, point(i), [point(j) for j in idx])
            den = 1
        else:
            w = fornberg(order, Fraction(0), [Fraction(j - i) for j in idx])
            den = Fraction(h) ** order
        vals = [Fraction(float(f[j % n])) for j in idx]
        total = sum(wk * v for wk, v in zip(w, vals)) / den
        out.append(float(total))
        scale.append(float(sum(abs(wk * v) for wk, v in zip(w, vals)) / abs(den)))
    return np.array(out), np.array(scale)


def along(axis, fn, f):
    """Apply a 1-d function returning (values, scale) along `axis`."""
    moved = np.moveaxis(f, axis, -1)
    vals = np.empty_like(moved)
    scale = np.empty_like(moved)
    for index in np.ndindex(moved.shape[:-1]):
        vals[index], scale[index] = fn(moved[index])
    return np.moveaxis(vals, -1, axis), np.moveaxis(scale, -1, axis)


# ---- findiff --------------------------------------------------------------------


def findiff_result(f, axis, order, accuracy, periodic, h=None, x=None, period=None):
    if x is None:
        return (findiff.Diff(axis, h, periodic=periodic, acc=accuracy) ** order)(f)
    if not periodic:
        return (findiff.Diff(axis, x, acc=accuracy) ** order)(f)
    # no periodic coordinates in findiff: extend by the half-width and cut
    _, num_coef = sizes(order, accuracy)
    s = num_coef // 2
    x_ext = np.concatenate([x[-s:] - period, x, x[:s] + period])
    f_ext = np.concatenate(
        [np.take(f, range(len(x) - s, len(x)), axis=axis), f, np.take(f, range(s), axis=axis)],
        axis=axis,
    )
    out = (findiff.Diff(axis, x_ext, acc=accuracy) ** order)(f_ext)
    return np.take(out, range(s, s + len(x)), axis=axis)


# ---- the suite ------------------------------------------------------------------


class Suite:
    def __init__(self):
        self.arrays = []
        self.cases = []

    def array(self, a):
        a = np.ascontiguousarray(a, dtype=np.float64)
        self.arrays.append(
            {"dtype": "float64", "shape": list(a.shape), "hex": a.astype("<f8").tobytes().hex()}
        )
        return len(self.arrays) - 1

    def case(self, name, f, axis, order, accuracy, periodic, h=None, x=None, period=None):
        n = f.shape[axis]
        fd = findiff_result(f, axis, order, accuracy, periodic, h, x, period)
        exact, scale = along(
            axis, lambda g: exact_1d(g, order, accuracy, periodic, h, x, period), f
        )
        numpy = None
        if order == 1 and accuracy == 2 and not periodic:
            numpy = self.array(np.gradient(f, h if x is None else x, axis=axis, edge_order=2))
        self.cases.append(
            {
                "name": name,
                "f": self.array(f),
                "axis": axis,
                "order": order,
                "accuracy": accuracy,
                "boundary": "periodic" if periodic else "one-sided",
                "step": None if h is None else float_bits(h),
                "coords": None if x is None else self.array(x),
                "period": None if period is None else float_bits(period),
                "findiff": self.array(fd),
                "exact": self.array(exact),
                "scale": self.array(scale),
                "numpy": numpy,
            }
        )
        assert fd.shape == f.shape and n >= min_len(order, accuracy, periodic, x is not None)

    def write(self, path):
        head = {
            "format": 1,
            "generator": "tests/findiff/gen_fixtures.py",
            "numpy_version": np.__version__,
            "findiff_version": findiff.__version__,
            "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        }
        lines = ["{"]
        for k, v in head.items():
            lines.append(f"{json.dumps(k)}: {json.dumps(v)},")
        lines.append('"arrays": [')
        lines.append(",\n".join(json.dumps(a, sort_keys=True) for a in self.arrays))
        lines.append('],\n"cases": [')
        lines.append(",\n".join(json.dumps(c, sort_keys=True) for c in self.cases))
        lines.append("]\n}")
        with open(path, "w") as fh:
            fh.write("\n".join(lines) + "\n")


def coordinates(rng, n):
    """Strictly increasing, steps in [0.5, 1.5] * scale."""
    scale = rng.uniform(0.2, 2.0)
    return rng.uniform(-3, 3) + np.concatenate([[0.0], np.cumsum(rng.uniform(0.5, 1.5, n - 1))]) * scale


def main():
    rng = np.random.default_rng(20261214)
    s = Suite()
    for coords in (False, True):
        top = MAX_COORD_ACCURACY if coords else MAX_ACCURACY
        for periodic in (False, True):
            for order in range(1, MAX_ORDER + 1):
                for accuracy in range(2, top + 1, 2):
                    n = min_len(order, accuracy, periodic, coords) + int(rng.integers(0, 8))
                    f = rng.standard_normal(n)
                    kind = "coords" if coords else "step"
                    bound = "periodic" if periodic else "one-sided"
                    name = f"{kind} {bound} order {order} accuracy {accuracy} n {n}"
                    if coords:
                        x = coordinates(rng, n)
                        period = None
                        if periodic:
                            period = float(x[-1] - x[0] + (x[1] - x[0]) * rng.uniform(0.5, 1.5))
                        s.case(name, f, 0, order, accuracy, periodic, x=x, period=period)
                    else:
                        h = float(rng.uniform(0.3, 2.0))
                        s.case(name, f, 0, order, accuracy, periodic, h=h)
    # several dimensions: every axis of 2-d and 3-d arrays
    for shape, order, accuracy, periodic, coords in [
        ((9, 11), 2, 4, False, False),
        ((9, 11), 1, 4, True, False),
        ((9, 11), 1, 2, False, True),
        ((7, 8, 9), 3, 2, False, False),
        ((7, 8, 9), 2, 2, True, True),
        ((7, 8, 9), 2, 4, False, True),
    ]:
        f = rng.standard_normal(shape)
        for axis in range(len(shape)):
            n = shape[axis]
            name = f"{len(shape)}-d {shape} axis {axis} order {order} accuracy {accuracy}"
            if coords:
                x = coordinates(rng, n)
                period = float(x[-1] - x[0] + 1.0) if periodic else None
                s.case(name + " coords", f, axis, order, accuracy, periodic, x=x, period=period)
            else:
                s.case(name + " step", f, axis, order, accuracy, periodic, h=float(rng.uniform(0.3, 2.0)))
    here = os.path.dirname(os.path.abspath(__file__))
    s.write(os.path.join(here, "fixtures", "findiff.json"))
    print(f"{len(s.cases)} cases, {len(s.arrays)} arrays")


if __name__ == "__main__":
    main()

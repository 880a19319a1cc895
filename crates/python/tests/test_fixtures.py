"""The repository's NumPy conformance fixtures (tests/numpy/fixtures, the
same cases the Rust conformance test replays: NumPy's TestGradient, JAX's
testGradient shapes, random and extreme cases) through ``oxla.gradient``,
and through the same inputs in other layouts and byte orders: results have
NumPy's dtype and bytes, errors NumPy's exception class and message."""

import json
import os
import struct

import numpy as np
import pytest
from conftest import as_list
from numpy.exceptions import AxisError

import oxla

FIXTURES = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "tests", "numpy", "fixtures"
)
SUITES = ["numpy_testgradient", "jax_testgradient", "random", "extremes"]

# oxla's error variants and the Python exceptions they raise
EXCEPTIONS = {"AxisOutOfBounds": AxisError, "InvalidSpacingCount": TypeError, "ZeroStep": ZeroDivisionError}
NUMPY_EXCEPTIONS = {
    "AxisError": AxisError,
    "TypeError": TypeError,
    "ValueError": ValueError,
    "ZeroDivisionError": ZeroDivisionError,
}


def load(suite):
    with open(os.path.join(FIXTURES, f"{suite}.json"), encoding="utf-8") as fh:
        fx = json.load(fh)
    arrays = [
        np.frombuffer(bytes.fromhex(a["hex"]), dtype=np.dtype(a["dtype"]).newbyteorder("<"))
        .astype(a["dtype"])
        .reshape(a["shape"])
        for a in fx["arrays"]
    ]
    return fx["cases"], arrays


def spacing(s, arrays):
    if "float" in s:
        return struct.unpack("<d", bytes.fromhex(s["float"])[::-1])[0]
    return arrays[s["array"]]


def components(a):
    """Float components of an array (complex: real and imaginary parts)."""
    return np.stack([a.real, a.imag]) if a.dtype.kind == "c" else a


def check_values(got, want, ulps):
    """Bit for bit, except what the Rust conformance test also allows: a
    complex NaN whose sign bit differs (NumPy's FMA-based complex multiply),
    and ``ulps`` for cases marked as a known deviation."""
    assert got.dtype == want.dtype and got.shape == want.shape
    if got.tobytes() == want.tobytes():
        return
    g, w = components(got), components(want)
    native = g.dtype.newbyteorder("=")
    gi = g.astype(native).view(f"i{native.itemsize}").astype(np.int64)
    wi = w.astype(native).view(f"i{native.itemsize}").astype(np.int64)
    both_nan = np.isnan(g) & np.isnan(w)
    differ = (gi != wi) & ~both_nan
    if ulps:
        differ &= np.abs(gi - wi) > ulps
    assert not differ.any(), f"{differ.sum()} elements differ"
    assert want.dtype.kind == "c" or ulps, "only complex NaN signs may differ"


def variants(f):
    """The same array in other layouts and byte orders, and how NumPy's
    result dtype follows each (float and complex inputs keep their byte
    order)."""
    yield "C", f
    if f.ndim >= 2:
        yield "F", np.asfortranarray(f)
    if f.ndim >= 1 and f.size:
        strided = np.repeat(f, 2, axis=-1)[..., ::2]
        yield "strided", strided
        # negative strides: the same values, read backwards in memory
        yield "reversed", np.flip(np.flip(f, 0).copy(), 0)
    swapped = f.astype(f.dtype.newbyteorder("S"))
    yield "byteswapped", swapped
    readonly = f.copy()
    readonly.flags.writeable = False
    yield "readonly", readonly


@pytest.mark.parametrize("suite", SUITES)
def test_fixture_suite(suite):
    cases, arrays = load(suite)
    failures = []
    outputs = 0
    for case in cases:
        f = arrays[case["f"]]
        args = [spacing(s, arrays) for s in case["spacing"]]
        kwargs = {"edge_order": case["edge_order"]}
        if case["axis"] is not None:
            kwargs["axis"] = case["axis"]
        if "error" in case:
            err = case["error"]
            expected = EXCEPTIONS.get(err["oxla"], ValueError)
            if not err.get("numpy_differs"):
                assert expected is NUMPY_EXCEPTIONS[err["numpy_type"]], case["name"]
            with pytest.raises(expected) as info:
                oxla.gradient(f, *args, **kwargs)
            if not err.get("numpy_differs"):
                assert err["numpy_message"] in str(info.value), case["name"]
            continue
        ulps = case.get("tolerance_ulps", 0) if "known_deviation" in case else 0
        for layout, g in variants(f):
            try:
                got = as_list(oxla.gradient(g, *args, **kwargs))
                assert len(got) == len(case["outputs"])
                for out, index in zip(got, case["outputs"]):
                    want = arrays[index]
                    if g.dtype.kind in "fc":
                        want = want.astype(g.dtype)
                    check_values(out, want, ulps)
                    outputs += 1
            except AssertionError as e:
                failures.append(f"{case['name']} [{layout}]: {e}")
    assert not failures, "\n".join(failures[:20])
    assert outputs > 0
    print(f"{suite}: {len(cases)} cases, {outputs} outputs checked")

#!/usr/bin/env python3
"""Write high-precision reference values of the f64 math functions.

Regenerate (from the repository root; needs numpy and mpmath):

    python3 tests/math/gen_libm_reference.py

The output (`tests/math/libm_reference.json`) is deterministic (fixed seed).
For each function and each point x (drawn over the ranges below, log-uniform
in magnitude), mpmath computes f(x) with 100 significant digits; the fixture
stores x, the correctly rounded f64 `cr` of the exact value, and where the
exact value lies between neighbours, `frac = (exact - cr) / ulp(cr)` in
[-0.5, 0.5]. `tests/math_accuracy.rs` then measures the error of oxla's
implementation (std's f64 methods, the platform libm) in ulps:
`|(impl - cr) / ulp - frac|`.

Format: {"format": 1, "mpmath_version", "seed", "functions": [{"name",
"args": 1 | 2, "x": "<hex f64 bits, 16 digits each, concatenated>",
["y": ... for pow], "cr": "...", "frac": [floats rounded to 4 digits]}]}.
"""

import json
import os

import mpmath
import numpy as np

mpmath.mp.dps = 100
SEED = 16
N = 1000


def hexes(xs):
    return "".join(np.float64(x).view("<u8").item().to_bytes(8, "big").hex() for x in xs)


def log_uniform(rng, lo, hi, n, signed):
    mags = 10.0 ** rng.uniform(np.log10(lo), np.log10(hi), n)
    if signed:
        mags *= rng.choice([-1.0, 1.0], n)
    return mags


def ulp(x):
    return float(np.spacing(np.abs(np.float64(x))))


def reference(exact):
    cr = float(exact)  # mpf -> float rounds to nearest (ties to even)
    if cr == 0.0 or not np.isfinite(cr):
        return cr, 0.0
    return cr, float((exact - mpmath.mpf(cr)) / mpmath.mpf(ulp(cr)))


FUNCTIONS = [
    ("exp", mpmath.exp, lambda r: np.concatenate([log_uniform(r, 1e-12, 700, N - 10, True), [1e-300, -1e-300, 0.5, 1.0, -1.0, 700.0, -700.0, 2.0, 1e-5, -1e-5]])),
    ("log", mpmath.log, lambda r: np.concatenate([log_uniform(r, 1e-300, 1e300, N // 2, False), 1.0 + r.uniform(-0.25, 0.25, N // 2)])),
    ("log1p", mpmath.log1p, lambda r: np.concatenate([log_uniform(r, 1e-15, 1e10, N // 2, False), -log_uniform(r, 1e-15, 0.999, N // 2, False)])),
    ("expm1", mpmath.expm1, lambda r: log_uniform(r, 1e-15, 700, N, True)),
    ("sin", mpmath.sin, lambda r: np.concatenate([log_uniform(r, 1e-10, 1e5, N - 100, True), r.uniform(-7, 7, 100)])),
    ("cos", mpmath.cos, lambda r: np.concatenate([log_uniform(r, 1e-10, 1e5, N - 100, True), r.uniform(-7, 7, 100)])),
    ("tanh", mpmath.tanh, lambda r: log_uniform(r, 1e-12, 30, N, True)),
    ("sqrt", mpmath.sqrt, lambda r: log_uniform(r, 1e-300, 1e300, N, False)),
]


def main():
    rng = np.random.default_rng(SEED)
    out = []
    for name, f, points in FUNCTIONS:
        xs = points(rng)
        refs = [reference(f(mpmath.mpf(float(x)))) for x in xs]
        out.append({
            "name": name, "args": 1, "x": hexes(xs),
            "cr": hexes([c for c, _ in refs]),
            "frac": [round(q, 4) for _, q in refs],
        })
    # pow: bases in (1e-3, 1e3), exponents in (-30, 30), results in range
    xs = log_uniform(rng, 1e-3, 1e3, N, False)
    ys = rng.uniform(-30.0, 30.0, N)
    refs = [reference(mpmath.power(mpmath.mpf(float(x)), mpmath.mpf(float(y)))) for x, y in zip(xs, ys)]
    out.append({
        "name": "pow", "args": 2, "x": hexes(xs), "y": hexes(ys),
        "cr": hexes([c for c, _ in refs]), "frac": [round(q, 4) for _, q in refs],
    })
    doc = {"format": 1, "mpmath_version": mpmath.__version__, "seed": SEED, "functions": out}
    path = os.path.join(os.path.dirname(__file__), "libm_reference.json")
    with open(path, "w") as fh:
        fh.write("{\n")
        fh.write(",\n".join(f'"{k}": {json.dumps(v)}' for k, v in doc.items() if k != "functions"))
        fh.write(',\n"functions": [\n' + ",\n".join(json.dumps(f) for f in out) + "\n]}\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Write the JAX fixtures of the losses built from oxla's elementwise math ops.

Regenerate (from the repository root; needs numpy and jax, CPU is enough):

    JAX_ENABLE_X64=1 python3 tests/jax/gen_math_fixtures.py

The output (`tests/jax/fixtures/math_losses.json`) is deterministic: fixed
seeds, no timestamps. `cargo test` never runs this script; it reads the
committed JSON (`tests/math_jax_fixtures.rs`), which builds the same losses
with oxla and checks value (1e-12 relative) and gradients (1e-10 relative,
norm-wise) against `jax.value_and_grad` in float64.

The losses (the Rust test spells out the same formulas):

- `tv`: ROF total-variation denoising,
  `0.5 * sum((u - f)^2) + lam * sum(sqrt(gx^2 + gy^2 + eps))` with
  Chambolle's forward differences (0 in the last row/column, so they have
  `u`'s shape): `gx = pad(u[:, 1:] - u[:, :-1], last column 0)`,
  `gy = pad(u[1:, :] - u[:-1, :], last row 0)`; gradient in `u`.
- `smooth`: a mix of every smooth function, broadcasting a row `w` over `x`:
  `a = x * w + 0.5`;
  `mean(sin(a) * cos(a) + tanh(a) + exp(-0.5 * a) + log1p(a^2)
        + sqrt(a^2 + 1) + expm1(0.1 * a) + log(|a| + 2) ** 1.5
        + minimum(maximum(a, sin(w)), 3 * x))`; gradients in `x` and `w`.
- `pde`: the residual of a Bratu-type equation `lap(u) + lam * exp(u) = s`
  on the interior of a grid of step `h` (5-point Laplacian),
  `r = (u[2:,1:-1] + u[:-2,1:-1] + u[1:-1,2:] + u[1:-1,:-2] - 4 u[1:-1,1:-1]) / h^2
       + lam * exp(u[1:-1,1:-1]) - s`, loss `0.5 * mean(r^2)`; gradients in
  `u` and in the 0-d `lam` (broadcast over the grid).

Format: {"format": 1, "jax_version", "numpy_version", "seed",
"cases": [{"name", "params": {name: float}, "inputs": [<array>, ...],
"value": "<f64 bits, 16 hex digits>", "grads": [<array>, ...]}]} with
<array> = {"dtype": "float64", "shape": [...], "hex": little-endian bytes}.
"""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np

assert jax.config.jax_enable_x64, "run with JAX_ENABLE_X64=1"

SEED = 20261202


def enc(a):
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
    return {"dtype": "float64", "shape": list(a.shape), "hex": a.astype("<f8").tobytes().hex()}


def bits(x):
    return np.float64(x).view("<u8").item().to_bytes(8, "big").hex()


def tv(u, f, lam, eps):
    gx = jnp.pad(u[:, 1:] - u[:, :-1], ((0, 0), (0, 1)))
    gy = jnp.pad(u[1:, :] - u[:-1, :], ((0, 1), (0, 0)))
    return 0.5 * jnp.sum((u - f) ** 2) + lam * jnp.sum(jnp.sqrt(gx * gx + gy * gy + eps))


def smooth(x, w):
    a = x * w + 0.5
    terms = (
        jnp.sin(a) * jnp.cos(a)
        + jnp.tanh(a)
        + jnp.exp(a * -0.5)
        + jnp.log1p(a * a)
        + jnp.sqrt(a * a + 1.0)
        + jnp.expm1(a * 0.1)
        + jnp.log(jnp.abs(a) + 2.0) ** 1.5
        + jnp.minimum(jnp.maximum(a, jnp.sin(w)), x * 3.0)
    )
    return jnp.mean(terms)


def pde(u, lam, s, h):
    c = u[1:-1, 1:-1]
    lap = (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4.0 * c) / (h * h)
    r = lap + lam * jnp.exp(c) - s
    return 0.5 * jnp.mean(r * r)


def case(name, fn, inputs, argnums, params):
    value, grads = jax.value_and_grad(fn, argnums=argnums)(*inputs)
    return {
        "name": name,
        "params": params,
        "inputs": [enc(x) for x in inputs],
        "value": bits(value),
        "grads": [enc(g) for g in grads],
    }


def main():
    rng = np.random.default_rng(SEED)
    cases = []
    for shape in [(5, 7), (16, 33), (64, 48)]:
        # a piecewise-constant image (edges) plus noise
        f = np.zeros(shape)
        f[shape[0] // 3 :, shape[1] // 2 :] = 1.0
        f += 0.1 * rng.standard_normal(shape)
        u = f + 0.05 * rng.standard_normal(shape)
        lam, eps = 0.15, 1e-6
        cases.append(
            case(f"tv_{shape[0]}x{shape[1]}", lambda u, f: tv(u, f, lam, eps), [u, f], (0,),
                 {"lam": lam, "eps": eps})
        )
    for shape in [(3, 4), (17, 9)]:
        x = rng.uniform(-1.5, 1.5, shape)
        w = rng.uniform(0.3, 1.7, shape[1])
        cases.append(case(f"smooth_{shape[0]}x{shape[1]}", smooth, [x, w], (0, 1), {}))
    for n in [6, 20]:
        h = 1.0 / (n - 1)
        u = 0.3 * rng.standard_normal((n, n))
        s = rng.uniform(-1.0, 1.0, (n - 2, n - 2))
        lam = np.array(0.8)
        cases.append(
            case(f"pde_{n}x{n}", lambda u, lam, s: pde(u, lam, s, h), [u, lam, s], (0, 1), {"h": h})
        )
    out = {
        "format": 1,
        "jax_version": jax.__version__,
        "numpy_version": np.__version__,
        "seed": SEED,
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(__file__), "fixtures", "math_losses.json")
    with open(path, "w") as fh:
        fh.write("{\n")
        head = [f'"{k}": {json.dumps(v)}' for k, v in out.items() if k != "cases"]
        fh.write(",\n".join(head) + ',\n"cases": [\n')
        fh.write(",\n".join(json.dumps(c) for c in cases))
        fh.write("\n]}\n")


if __name__ == "__main__":
    main()

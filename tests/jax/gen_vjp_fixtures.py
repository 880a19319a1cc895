#!/usr/bin/env python3
"""Write the VJP fixtures for oxla's autodiff of `numpy.gradient`.

Regenerate (from the repository root; needs numpy and jax, CPU is enough):

    JAX_ENABLE_X64=1 python3 tests/jax/gen_vjp_fixtures.py

The output (`tests/jax/fixtures/vjp_gradient.json`) is deterministic: fixed
seeds, no timestamps; the same jax/numpy versions write the same bytes.
`cargo build`/`cargo test` never run this script; they read the committed
JSON (`tests/autodiff_jax_fixtures.rs`).

Two sources of truth:

- `"source": "jax.vjp"` (edge order 1 only: `jax.numpy.gradient` raises
  NotImplementedError for any `edge_order`): `jax.vjp` of `jnp.gradient`
  with respect to `f` and, when `wrt_spacing` is true, to every array
  spacing argument (0-d steps and 1-d coordinates; JAX differentiates
  through them because its gradient is built from primitives).
- `"source": "numpy.jacobian"` (edge order 2, and a few edge order 1 cases
  as a cross-check of the JAX ones): the explicit Jacobian of
  `numpy.gradient` in `f`, built column by column by applying it to unit
  vectors, then `J^T v` (NumPy has no derivative in the spacing, so
  `wrt_spacing` is false).

Format (one case per line):

    {"format": 1, "jax_version": ..., "jaxlib_version": ..., "numpy_version": ...,
     "python_version": ..., "machine": ..., "seed": ...,
     "cases": [{"name": ..., "source": "jax.vjp" | "numpy.jacobian",
                "f": <array>,
                "spacing": [{"float": "<f64 bits, 16 hex digits>"}
                            | {"step": <0-d array>} | {"coords": <1-d array>}, ...],
                "axis": null | <int> | [<int>, ...],
                "edge_order": 1 | 2,
                "wrt_spacing": <bool>,
                "cotangents": [<array>, ...],          # one per output, in axis order
                "ct_f": <array>,
                "ct_spacing": [<array> | null, ...]}]}  # per spacing entry

with <array> = {"dtype": "float64" | "complex128", "shape": [...], "hex":
"<little-endian bytes of the C-ordered array>"} (complex: real and imaginary
parts interleaved), so every bit round-trips. Spacing is always float64; `f`
is float64 except in the `complex` cases, where cotangents are complex too and
the cotangents of real coordinates are real (JAX and oxla transpose the
real-to-complex conversion by taking the real part; no conjugation).
"""

import json
import os
import platform
import sys

os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

SEED = 20240607
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "vjp_gradient.json")


def enc(a):
    a = np.asarray(a)
    dtype = "complex128" if np.iscomplexobj(a) else "float64"
    a = np.array(a, dtype="<c16" if dtype == "complex128" else "<f8", order="C")
    # (np.array, not ascontiguousarray: that one makes 0-d arrays 1-d)
    return {"dtype": dtype, "shape": list(a.shape), "hex": a.tobytes().hex()}


def float_bits(h):
    return np.float64(h).view("<u8").item().to_bytes(8, "big").hex()


def coords(rng, n, decreasing=False):
    """Non-uniform coordinates: steps in [0.5, 1.5] * scale, one sign."""
    steps = rng.uniform(0.5, 1.5, n - 1) * rng.uniform(0.2, 3.0)
    x = np.concatenate([[rng.uniform(-2.0, 2.0)], steps]).cumsum()
    return -x if decreasing else x


def random_like(rng, shape, complex_):
    if complex_:
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return rng.standard_normal(shape)


def axes_of(ndim, axis):
    if axis is None:
        return list(range(ndim))
    if isinstance(axis, int):
        return [axis % ndim]
    return [a % ndim for a in axis]


def as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def spacing_json(spacing):
    out = []
    for kind, value in spacing:
        if kind == "float":
            out.append({"float": float_bits(value)})
        else:
            out.append({kind: enc(value)})
    return out


def jax_case(name, f, spacing, axis, wrt_spacing, rng):
    """`jax.vjp` of jnp.gradient; `spacing` is [(kind, value)] with kind in float/step/coords."""
    arrays = [i for i, (kind, _) in enumerate(spacing) if kind != "float"]
    traced = arrays if wrt_spacing else []

    def fun(f, *traced_values):
        args = []
        for i, (kind, value) in enumerate(spacing):
            if i in traced:
                args.append(traced_values[traced.index(i)])
            elif kind == "float":
                args.append(float(value))
            else:
                args.append(jnp.asarray(value))
        return as_list(jnp.gradient(f, *args, axis=axis))

    primals = [jnp.asarray(f)] + [jnp.asarray(spacing[i][1]) for i in traced]
    outs, pullback = jax.vjp(fun, *primals)
    cts = [random_like(rng, o.shape, np.iscomplexobj(f)) for o in outs]
    grads = pullback([jnp.asarray(c) for c in cts])
    ct_spacing = [None] * len(spacing)
    for k, i in enumerate(traced):
        ct_spacing[i] = enc(grads[1 + k])
    return {
        "name": name,
        "source": "jax.vjp",
        "f": enc(f),
        "spacing": spacing_json(spacing),
        "axis": list(axis) if isinstance(axis, tuple) else axis,
        "edge_order": 1,
        "wrt_spacing": wrt_spacing,
        "cotangents": [enc(c) for c in cts],
        "ct_f": enc(grads[0]),
        "ct_spacing": ct_spacing,
    }


def numpy_case(name, f, spacing, axis, edge_order, rng):
    """`J^T v` with `J` the explicit Jacobian of numpy.gradient in `f`."""
    args = [float(v) if kind == "float" else np.asarray(v) for kind, v in spacing]
    n_out = len(axes_of(f.ndim, axis))
    cts = [random_like(rng, f.shape, np.iscomplexobj(f)) for _ in range(n_out)]
    jacobians = [np.empty((f.size, f.size)) for _ in range(n_out)]  # real: G has real coefficients
    for j in range(f.size):
        e = np.zeros(f.size)
        e[j] = 1.0
        cols = as_list(np.gradient(e.reshape(f.shape), *args, axis=axis, edge_order=edge_order))
        for k in range(n_out):
            jacobians[k][:, j] = cols[k].ravel()
    ct_f = sum(jac.T @ c.ravel() for jac, c in zip(jacobians, cts)).reshape(f.shape)
    return {
        "name": name,
        "source": "numpy.jacobian",
        "f": enc(f),
        "spacing": spacing_json(spacing),
        "axis": list(axis) if isinstance(axis, tuple) else axis,
        "edge_order": edge_order,
        "wrt_spacing": False,
        "cotangents": [enc(c) for c in cts],
        "ct_f": enc(ct_f),
        "ct_spacing": [None] * len(spacing),
    }


def main():
    rng = np.random.default_rng(SEED)
    cases = []
    shapes = [(7,), (5, 6), (4, 3, 5)]
    for shape in shapes:
        nd = len(shape)
        tag = "x".join(map(str, shape))

        def data():
            return rng.standard_normal(shape)

        def all_coords(decreasing=False):
            return [("coords", coords(rng, n, decreasing)) for n in shape]

        # -- jax.vjp, edge order 1 ---------------------------------------------
        cases.append(jax_case(f"jax {tag} unit spacing", data(), [], None, False, rng))
        cases.append(jax_case(f"jax {tag} float step", data(), [("float", 0.7)], None, False, rng))
        cases.append(
            jax_case(f"jax {tag} 0-d step wrt step", data(), [("step", np.float64(1.3))], None, True, rng)
        )
        cases.append(jax_case(f"jax {tag} coords", data(), all_coords(), None, False, rng))
        cases.append(jax_case(f"jax {tag} coords wrt coords", data(), all_coords(), None, True, rng))
        cases.append(
            jax_case(f"jax {tag} decreasing coords wrt coords", data(), all_coords(True), None, True, rng)
        )
        cases.append(
            jax_case(
                f"jax {tag} axis -1 coords wrt coords",
                data(),
                [("coords", coords(rng, shape[-1]))],
                -1,
                True,
                rng,
            )
        )
        if nd >= 2:
            mixed = [("coords", coords(rng, shape[-1])), ("float", -0.4)]
            cases.append(jax_case(f"jax {tag} axis (-1, 0) mixed wrt coords", data(), mixed, (-1, 0), True, rng))
            steps = [("step", np.float64(0.6)), ("coords", coords(rng, shape[1]))]
            cases.append(jax_case(f"jax {tag} axis (0, 1) step and coords wrt both", data(), steps, (0, 1), True, rng))

        # -- numpy Jacobian, edge order 2 (and 1 as a cross-check) ----------------
        for eo in (2, 1):
            cases.append(numpy_case(f"numpy eo{eo} {tag} unit spacing", data(), [], None, eo, rng))
            cases.append(numpy_case(f"numpy eo{eo} {tag} coords", data(), all_coords(), None, eo, rng))
        cases.append(numpy_case(f"numpy eo2 {tag} float step", data(), [("float", 0.3)], None, 2, rng))
        cases.append(numpy_case(f"numpy eo2 {tag} 0-d step", data(), [("step", np.float64(2.5))], None, 2, rng))
        uniform = [("coords", -1.0 + 0.25 * np.arange(n)) for n in shape]
        cases.append(numpy_case(f"numpy eo2 {tag} uniform coords", data(), uniform, None, 2, rng))
        cases.append(numpy_case(f"numpy eo2 {tag} decreasing coords", data(), all_coords(True), None, 2, rng))
        if nd >= 2:
            mixed = [("float", 0.9), ("coords", coords(rng, shape[0]))]
            cases.append(numpy_case(f"numpy eo2 {tag} axis (-1, 0) mixed", data(), mixed, (-1, 0), 2, rng))

    # -- complex f (bilinear, not conjugated) ---------------------------------------
    for shape in [(6,), (4, 5)]:
        tag = "x".join(map(str, shape))

        def cdata():
            return random_like(rng, shape, True)

        cs = [("coords", coords(rng, n)) for n in shape]
        cases.append(jax_case(f"jax complex {tag} coords wrt coords", cdata(), cs, None, True, rng))
        cases.append(jax_case(f"jax complex {tag} 0-d step wrt step", cdata(), [("step", np.float64(0.8))], None, True, rng))
        cs = [("coords", coords(rng, n)) for n in shape]
        cases.append(numpy_case(f"numpy eo2 complex {tag} coords", cdata(), cs, None, 2, rng))

    doc = {
        "format": 1,
        "jax_version": jax.__version__,
        "jaxlib_version": jax.lib.__version__ if hasattr(jax.lib, "__version__") else None,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "machine": platform.machine(),
        "seed": SEED,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        head = json.dumps(doc, sort_keys=True)
        fh.write(head[:-1] + ', "cases": [\n')
        fh.write(",\n".join(json.dumps(c, sort_keys=True) for c in cases))
        fh.write("\n]}\n")
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()

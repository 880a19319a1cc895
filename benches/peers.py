#!/usr/bin/env python3
"""Time oxla, NumPy and jax.jit on the same cases in one run; print a table of ratios.

    python3 benches/peers.py                 # the default cases of `oxla bench`
    python3 benches/peers.py --quick         # a few cases, shorter timings
    python3 benches/peers.py --sweep         # also the throughput-vs-size plot (docs/perf/throughput.svg)

oxla's numbers come from `oxla bench --json` (run as a subprocess, built with
`cargo build --release -p oxla-cli` unless --oxla names a binary); NumPy's and
JAX's are measured here, right after, on arrays of the same shapes and dtypes.
Each time is a median over repeated runs after a warm-up; JAX calls are
compiled once (jax.jit) and synchronized with block_until_ready.

Needs numpy and jax (pip install numpy jax). Nothing in the build or the
tests depends on this script.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

os.environ.setdefault("JAX_ENABLE_X64", "1")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median_time(fn, min_time, min_runs=5, max_runs=200):
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - start < min_time and len(times) < max_runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def run_oxla(binary, cases, min_time):
    cmd = [binary, "bench", "--json", "--min-time", str(min_time)]
    for c in cases:
        cmd += ["--case", c]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {r["case"]: r for r in (json.loads(line) for line in out.splitlines() if line.strip())}


def parse_case(name):
    for op in ("first-call-gradient-all", "tv-loss-value-and-grad", "compile-gradient-all", "vjp-gradient-all",
               "gradient-all",
               "gradient-axis0", "value-and-grad"):
        if name.startswith(op + "-"):
            dtype, shape = name[len(op) + 1:].split("-", 1)
            return op, {"f32": np.float32, "f64": np.float64}[dtype], tuple(int(d) for d in shape.split("x"))
    raise ValueError(name)


def field(shape, dtype, seed=0):
    return np.random.default_rng(seed).random(shape).astype(dtype)


def smoothness(x):
    return sum(jnp.sum(g * g) for g in _as_list(jnp.gradient(x)))


TV_EPS = 1e-6  # crates/cli/src/tv.rs EPS


def total_variation(u):
    """oxla's crates/cli/src/tv.rs total_variation, term for term."""
    gx = jnp.pad(u[:, 1:] - u[:, :-1], ((0, 0), (0, 1)))
    gy = jnp.pad(u[1:, :] - u[:-1, :], ((0, 1), (0, 0)))
    return jnp.sum(jnp.sqrt(gx * gx + gy * gy + TV_EPS))


def _as_list(g):
    return list(g) if isinstance(g, (list, tuple)) else [g]


def peers(name, min_time):
    """(numpy_s, jax_s) for a case; None where the peer has no such op."""
    op, dtype, shape = parse_case(name)
    f = field(shape, dtype)
    fj = jax.device_put(f)
    block = jax.block_until_ready
    if op == "gradient-all":
        jg = jax.jit(jnp.gradient)
        return median_time(lambda: np.gradient(f), min_time), median_time(lambda: block(jg(fj)), min_time)
    if op == "gradient-axis0":
        jg = jax.jit(lambda x: jnp.gradient(x, axis=0))
        return median_time(lambda: np.gradient(f, axis=0), min_time), median_time(lambda: block(jg(fj)), min_time)
    if op == "vjp-gradient-all":
        cts = [jax.device_put(field(shape, dtype, seed=i + 1)) for i in range(len(shape))]

        def pullback(x, cts):
            out, vjp = jax.vjp(jnp.gradient, x)
            return vjp(type(out)(cts) if isinstance(out, (list, tuple)) else cts[0])

        jv = jax.jit(pullback)
        return None, median_time(lambda: block(jv(fj, cts)), min_time)
    if op == "value-and-grad":
        jvg = jax.jit(jax.value_and_grad(smoothness))
        return None, median_time(lambda: block(jvg(fj)), min_time)
    if op == "first-call-gradient-all":
        return first_calls(dtype, shape)
    if op == "tv-loss-value-and-grad":
        jvg = jax.jit(jax.value_and_grad(total_variation))
        return None, median_time(lambda: block(jvg(fj)), min_time)
    if op == "compile-gradient-all":
        def compile_once():
            jax.jit(lambda x: jnp.gradient(x)).lower(jax.ShapeDtypeStruct(shape, dtype)).compile()
        return None, median_time(compile_once, min_time, min_runs=3, max_runs=10)
    raise ValueError(name)


FIRST_CALL = """
import sys, time, numpy as np
shape, dtype = tuple(int(d) for d in sys.argv[2].split("x")), np.dtype(sys.argv[3])
f = np.random.default_rng(0).random(shape).astype(dtype)
if sys.argv[1] == "jax":
    import jax, jax.numpy as jnp
    f = jax.device_put(f)
    t = time.perf_counter(); jax.block_until_ready(jax.jit(jnp.gradient)(f))
else:
    t = time.perf_counter(); np.gradient(f)
print(time.perf_counter() - t)
"""


def first_calls(dtype, shape, rounds=3):
    """The peers' first gradient call in a fresh process (imports and data excluded, JAX's trace and
    compile included), median of a few processes: what a one-shot script pays."""
    dims = "x".join(str(d) for d in shape)
    out = []
    for peer in ("numpy", "jax"):
        times = sorted(
            float(subprocess.run([sys.executable, "-c", FIRST_CALL, peer, dims, np.dtype(dtype).name],
                                 check=True, capture_output=True, text=True,
                                 env=dict(os.environ, JAX_ENABLE_X64="1")).stdout)
            for _ in range(rounds))
        out.append(times[len(times) // 2])
    return tuple(out)


def fmt(seconds):
    if seconds is None:
        return "-"
    return f"{seconds * 1e6:.2f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def table(rows):
    """Markdown table. "floor" is `oxla bench`'s honest floor: the case's traffic (read once + written
    once) moved by a copy on as many threads as the op used, the faster of memcpy and a non-temporal
    copy (both shown); for a first-call case it is the warm call."""
    head = ("case", "oxla", "floor", "oxla/floor", "GB/s", "memcpy / non-temporal", "1-thread copy",
            "numpy", "jax.jit", "numpy/oxla", "jax/oxla")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, ox, np_s, jax_s in rows:
        gbps = ox.get("gbps")
        lines.append("| " + " | ".join([
            f"`{name}`", fmt(ox["median_s"]), fmt(ox["floor_s"] if ox["floor_s"] is not None else ox.get("warm_s")),
            "-" if ox["ratio_to_floor"] is None else f"{ox['ratio_to_floor']:.2f}",
            "-" if gbps is None else f"{gbps:.1f}",
            "-" if ox.get("floor_memcpy_s") is None
            else f"{fmt(ox['floor_memcpy_s'])} / {fmt(ox['floor_streaming_s'])}",
            fmt(ox.get("floor_1thread_s")),
            fmt(np_s), fmt(jax_s), ratio(np_s, ox["median_s"]), ratio(jax_s, ox["median_s"]),
        ]) + " |")
    return "\n".join(lines)


def svg_plot(series, path, title):
    """A log-x line chart of throughput (GB/s) against array size, as plain SVG."""
    import math
    w, h, left, right, top, bottom = 720, 420, 70, 170, 40, 60
    xs = sorted({x for pts in series.values() for x, _ in pts})
    ymax = max(y for pts in series.values() for _, y in pts) * 1.1
    lx0, lx1 = math.log10(xs[0]), math.log10(xs[-1])
    sx = lambda x: left + (math.log10(x) - lx0) / max(lx1 - lx0, 1e-9) * (w - left - right)
    sy = lambda y: h - bottom - y / ymax * (h - top - bottom)
    colors = ["#1b9e77", "#d95f02", "#7570b3", "#666666", "#e7298a"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>',
           f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="black"/>',
           f'<text x="{(left + w - right) / 2}" y="{h - 15}" text-anchor="middle">array size (MB of f64 input)</text>',
           f'<text x="18" y="{(top + h - bottom) / 2}" transform="rotate(-90 18 {(top + h - bottom) / 2})" text-anchor="middle">GB/s (bytes read once + written once)</text>']
    for x in xs:
        out.append(f'<line x1="{sx(x):.1f}" y1="{h - bottom}" x2="{sx(x):.1f}" y2="{h - bottom + 5}" stroke="black"/>')
        out.append(f'<text x="{sx(x):.1f}" y="{h - bottom + 18}" text-anchor="middle">{x:g}</text>')
    for i in range(6):
        y = ymax * i / 5
        out.append(f'<line x1="{left - 5}" y1="{sy(y):.1f}" x2="{w - right}" y2="{sy(y):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{sy(y) + 4:.1f}" text-anchor="end">{y:.0f}</text>')
    for i, (name, pts) in enumerate(series.items()):
        c = colors[i % len(colors)]
        d = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in sorted(pts))
        out.append(f'<polyline points="{d}" fill="none" stroke="{c}" stroke-width="2"/>')
        for x, y in pts:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{c}"/>')
        out.append(f'<rect x="{w - right + 15}" y="{top + 20 * i}" width="12" height="12" fill="{c}"/>')
        out.append(f'<text x="{w - right + 32}" y="{top + 20 * i + 11}">{name}</text>')
    out.append("</svg>")
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--oxla", help="path of the oxla binary (default: build it with cargo)")
    ap.add_argument("--case", action="append", help="a case (repeatable); default: oxla's default set")
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--quick", action="store_true", help="a few representative cases, 0.3 s each")
    ap.add_argument("--sweep", action="store_true", help="also sweep sizes for docs/perf/throughput.svg")
    args = ap.parse_args()
    binary = args.oxla
    if binary is None:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "oxla-cli"], cwd=ROOT, check=True)
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        binary = os.path.join(target, "release", "oxla")
    if args.quick:
        cases = ["gradient-all-f64-4096x4096", "gradient-all-f64-256x256x256", "vjp-gradient-all-f64-4096x4096",
                 "value-and-grad-f64-4096x4096", "gradient-all-f64-6"]
        args.min_time = 0.3
    elif args.case:
        cases = args.case
    else:
        cases = subprocess.run([binary, "bench", "--list"], check=True, capture_output=True, text=True).stdout.split()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus; "
          f"numpy {np.__version__}, jax {jax.__version__}, python {platform.python_version()}", file=sys.stderr)
    ox = run_oxla(binary, cases, args.min_time)
    rows = []
    for name in cases:
        np_s, jax_s = peers(name, args.min_time)
        rows.append((name, ox[name], np_s, jax_s))
        print(f"  {name}: oxla {fmt(ox[name]['median_s'])}, numpy {fmt(np_s)}, jax {fmt(jax_s)}", file=sys.stderr)
    print(table(rows))
    if args.sweep:
        sizes = [128, 256, 512, 1024, 2048, 4096]
        sweep = [f"gradient-all-f64-{n}x{n}" for n in sizes]
        oxs = run_oxla(binary, sweep, args.min_time / 2)
        series = {"oxla": [], "numpy": [], "jax.jit": [], "memcpy (floor)": []}
        for n, name in zip(sizes, sweep):
            r = oxs[name]
            moved = 3 * n * n * 8 / 1e9
            np_s, jax_s = peers(name, args.min_time / 2)
            mb = n * n * 8 / 1e6
            series["oxla"].append((mb, moved / r["median_s"]))
            series["numpy"].append((mb, moved / np_s))
            series["jax.jit"].append((mb, moved / jax_s))
            series["memcpy (floor)"].append((mb, moved / r["floor_s"]))
        os.makedirs(os.path.join(ROOT, "docs", "perf"), exist_ok=True)
        path = os.path.join(ROOT, "docs", "perf", "throughput.svg")
        svg_plot(series, path, "gradient over both axes of an n x n f64 array")
        print(f"\nwrote {os.path.relpath(path, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The speed figure of `oxla::fd` against findiff, in one run.

    python3 benches/fd_peers.py                # 4096 x 4096, the issue's case
    python3 benches/fd_peers.py --n 2048 --runs 20

The case: the 4th-order-accurate second derivative along each axis of a
float64 array (`findiff.Diff(axis, h, acc=4) ** 2` for both axes). The
array is written to a temporary `.npy` file; oxla's time and its floor (a
copy of the same traffic on as many threads as the op uses) come from
`examples/fd_speed.rs --json --input` (built with `cargo build --release
--example fd_speed` unless --binary names it), findiff's are measured
here right after, on the same array. Each time is a median after a
warm-up; the results of both are compared too.

Needs numpy and findiff 0.16. Nothing in the build or the tests depends on
this script.
"""

import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import findiff

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median_time(fn, runs):
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2], times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--runs", type=int, default=30, help="oxla's runs (findiff gets a third)")
    ap.add_argument("--binary", default=None)
    args = ap.parse_args()
    binary = args.binary or os.path.join(ROOT, "target", "release", "examples", "fd_speed")
    if args.binary is None:
        subprocess.run(["cargo", "build", "--release", "--example", "fd_speed"], cwd=ROOT, check=True)
    n = args.n
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    f = np.sin(i / 500.0) * np.cos(j / 700.0) + ((i * 31 + j * 17) % 101) * 1e-9
    h = 1.0 / n
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "f.npy")
        np.save(path, f)
        out = subprocess.run(
            [binary, "--json", "--input", path, "--runs", str(args.runs)],
            check=True, capture_output=True, text=True,
        ).stdout
    oxla = json.loads(out.strip().splitlines()[-1])
    d0 = findiff.Diff(0, h, acc=4) ** 2
    d1 = findiff.Diff(1, h, acc=4) ** 2
    result = {}

    def both():
        result["d0"] = d0(f)
        result["d1"] = d1(f)

    findiff_s, findiff_runs = median_time(both, max(5, args.runs // 3))
    print(f"case: d2/dx0^2 and d2/dx1^2, accuracy 4, {n}x{n} float64, one-sided ends")
    print(f"oxla     {oxla['median_s'] * 1e3:9.2f} ms  ({oxla['threads']} threads, median of {oxla['runs']})")
    print(f"floor    {oxla['floor_s'] * 1e3:9.2f} ms  (copy of {oxla['traffic_bytes'] // 2 // 10**6} MB on {oxla['threads']} threads,"
          f" the faster of memcpy {oxla['floor_memcpy_s'] * 1e3:.2f} and streaming {oxla['floor_streaming_s'] * 1e3:.2f})")
    print(f"findiff  {findiff_s * 1e3:9.2f} ms  (median of {len(findiff_runs)})")
    print(f"oxla / floor   {oxla['ratio_to_floor']:.3f}")
    print(f"findiff / oxla {findiff_s / oxla['median_s']:.2f}")
    print("oxla runs (ms):  " + " ".join(f"{t * 1e3:.1f}" for t in oxla["op_s"]))
    print("floor runs (ms): " + " ".join(f"{t * 1e3:.1f}" for t in oxla["floor_runs_s"]))
    print("findiff runs (ms): " + " ".join(f"{t * 1e3:.1f}" for t in findiff_runs))


if __name__ == "__main__":
    main()

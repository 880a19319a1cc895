#!/usr/bin/env python3
"""Time whole `oxla gradient` runs (a fresh process each), for docs/PERFORMANCE.md.

    python3 benches/cli_runs.py --oxla target/release/oxla out-of-core --gib 1 --limit 128MiB
    python3 benches/cli_runs.py --oxla target/release/oxla out-of-core --gib 28 --limit 2GiB --shape 1d --rounds 1 --no-in-memory
    python3 benches/cli_runs.py --oxla target/release/oxla end-to-end

`out-of-core` writes a float32 .npy of the given size (2-d, 16384 columns, or
1-d), then alternates the in-memory run with the `--memory-limit` run
(`/usr/bin/time -v` for the peak RSS), checks their outputs are the same
bytes, and deletes every file. `end-to-end` alternates `oxla gradient` on a
4096x4096 float64 .npy with the NumPy script doing the same thing
(`np.save` of each `np.gradient` output of `np.load`), both from a fresh
process. Each round's figures are printed; the medians come last.

Needs numpy. Files go to --dir (default: a directory under the system's
temporary one, which should be a disk, not tmpfs, for the RSS figure).
"""

import argparse
import filecmp
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

NUMPY_SCRIPT = """
import sys, numpy as np
f = np.load(sys.argv[1])
for a, g in enumerate(np.gradient(f)):
    np.save(f"{sys.argv[2]}/grad_axis{a}.npy", g)
"""


def timed(cmd):
    """(wall seconds, peak RSS in MiB) of one fresh process."""
    t = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-v"] + cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t
    rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    return wall, rss_kib / 1024


def write_input(path, gib, shape):
    n = int(gib * 2**30) // 4
    shape = (n,) if shape == "1d" else (n // 16384, 16384)
    arr = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
    rng = np.random.default_rng(0)
    flat = arr.reshape(-1)
    step = 1 << 26
    for start in range(0, flat.size, step):
        flat[start:start + step] = rng.random(min(step, flat.size - start), dtype=np.float32)
    arr.flush()
    del arr
    return shape


def same_outputs(a, b):
    names = sorted(os.listdir(a))
    return names == sorted(os.listdir(b)) and all(filecmp.cmp(f"{a}/{n}", f"{b}/{n}", shallow=False) for n in names)


def out_of_core(args, work):
    src = f"{work}/input.npy"
    shape = write_input(src, args.gib, args.shape)
    size = os.path.getsize(src)
    print(f"input {src}: float32 {shape}, {size / 2**30:.2f} GiB")
    runs = {"in-memory": [], "streamed": []}
    for r in range(args.rounds):
        for kind in (["in-memory"] if not args.no_in_memory else []) + ["streamed"]:
            out = f"{work}/{kind}"
            shutil.rmtree(out, ignore_errors=True)
            cmd = [args.oxla, "gradient", src, "--out-dir", out]
            if kind == "streamed":
                cmd += ["--memory-limit", args.limit]
            wall, rss = timed(cmd)
            runs[kind].append((wall, rss))
            print(f"round {r + 1} {kind}: {wall:.2f} s, peak RSS {rss:.0f} MiB, {size / wall / 1e9:.2f} GB/s of input")
        if not args.no_in_memory:
            assert same_outputs(f"{work}/in-memory", f"{work}/streamed"), "outputs differ"
            shutil.rmtree(f"{work}/in-memory")
        shutil.rmtree(f"{work}/streamed")
    for kind, rs in runs.items():
        if rs:
            print(f"median {kind}: {statistics.median(w for w, _ in rs):.2f} s, "
                  f"max peak RSS {max(m for _, m in rs):.0f} MiB")
    if runs["in-memory"]:
        ratios = [s[0] / m[0] for s, m in zip(runs["streamed"], runs["in-memory"])]
        print("streamed / in-memory per round: " + ", ".join(f"{x:.2f}" for x in ratios))


def end_to_end(args, work):
    src = f"{work}/f.npy"
    np.save(src, np.random.default_rng(0).standard_normal((4096, 4096)))
    times = {"oxla": [], "numpy": []}
    for r in range(args.rounds):
        for kind in ("oxla", "numpy"):
            out = f"{work}/{kind}"
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(out)
            cmd = ([args.oxla, "gradient", src, "--out-dir", out] if kind == "oxla"
                   else [sys.executable, "-c", NUMPY_SCRIPT, src, out])
            wall, _ = timed(cmd)
            times[kind].append(wall)
            print(f"round {r + 1} {kind}: {wall:.3f} s")
        assert same_outputs(f"{work}/oxla", f"{work}/numpy"), "outputs differ"
    o, n = statistics.median(times["oxla"]), statistics.median(times["numpy"])
    print(f"median oxla {o:.3f} s, numpy script {n:.3f} s: numpy/oxla {n / o:.2f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--oxla", default="target/release/oxla")
    p.add_argument("--dir", default=None)
    p.add_argument("--rounds", type=int, default=3)
    sub = p.add_subparsers(dest="mode", required=True)
    ooc = sub.add_parser("out-of-core")
    ooc.add_argument("--gib", type=float, default=1.0)
    ooc.add_argument("--limit", default="128MiB")
    ooc.add_argument("--shape", choices=("1d", "2d"), default="2d")
    ooc.add_argument("--no-in-memory", action="store_true", help="only the streamed run (input larger than RAM)")
    sub.add_parser("end-to-end")
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="oxla-cli-runs-", dir=args.dir)
    try:
        (out_of_core if args.mode == "out-of-core" else end_to_end)(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

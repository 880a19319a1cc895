#!/usr/bin/env python3
"""The Python package's figures (docs/PERFORMANCE.md, "Python"):

    python benches/python_bench.py numpy  [--rounds 5] [--calls 9] [--keep]
        oxla.gradient against numpy.gradient from Python, 4096x4096
        float64, all axes, conversions included: rounds alternate the two,
        each the median of --calls calls (after a warm-up call each).
        Results are dropped before the next call (oxla then reuses their
        memory); --keep keeps them all, so every call's results are fresh
        memory, for both.
    python benches/python_bench.py dask   [--rounds 3]
        oxla.dask.gradient against dask.array.gradient on one
        LocalCluster of 2 worker processes (1 thread each), 8192x8192
        float64 in 2048x2048 chunks, every axis computed: rounds alternate
        the two. "persist": results computed and kept on the workers
        (distributed.wait); "gather": results also sent to this process.
    python benches/python_bench.py import [--runs 10]
        `python -X importtime -c "import oxla"`: the cumulative import time
        of oxla, each run in a fresh interpreter.

Run it with the interpreter that has the package (./test.sh makes .venv):
.venv/bin/python benches/python_bench.py numpy. Every run is printed; the
VM is noisy, so compare ratios within one round.
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import time


def median_time(fn, calls, keep=False):
    """The median time of ``calls`` calls after a warm-up call. Results are
    dropped before the next call, or, with ``keep``, all kept until the
    end (so no call can reuse the memory of an earlier result)."""
    fn()  # warm-up: compile (oxla), first-touch (both)
    times, kept = [], []
    for _ in range(calls):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        if keep:
            kept.append(result)
        del result
    del kept
    return statistics.median(times)


def bench_numpy(args):
    import numpy as np

    import oxla

    f = np.random.default_rng(0).standard_normal((4096, 4096))
    assert all(
        a.tobytes() == b.tobytes() for a, b in zip(oxla.gradient(f), np.gradient(f))
    ), "oxla.gradient differs from numpy.gradient"
    rows = []
    for r in range(args.rounds):
        t_oxla = median_time(lambda: oxla.gradient(f), args.calls, args.keep)
        t_numpy = median_time(lambda: np.gradient(f), args.calls, args.keep)
        rows.append({"round": r + 1, "oxla_ms": t_oxla * 1e3, "numpy_ms": t_numpy * 1e3,
                     "ratio": t_numpy / t_oxla, "keep": args.keep})
        print(f"round {r + 1}{' (results kept)' if args.keep else ''}: "
              f"oxla.gradient {t_oxla * 1e3:7.2f} ms   "
              f"numpy.gradient {t_numpy * 1e3:7.2f} ms   numpy/oxla {t_numpy / t_oxla:5.2f}x",
              flush=True)
    return rows


def bench_dask(args):
    import dask.array as da
    import numpy as np
    from distributed import Client, LocalCluster, wait

    import oxla.dask

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        x = da.random.default_rng(0).standard_normal((8192, 8192), chunks=2048)
        x = client.persist(x)
        wait(x)
        small = x[:1000, :1000].rechunk(250)
        check = [a.tobytes() for a in client.compute(list(oxla.dask.gradient(small)), sync=True)]
        want = [a.tobytes() for a in np.gradient(small.compute())]
        assert check == want, "oxla.dask.gradient differs from numpy.gradient"

        def persist(make):
            t0 = time.perf_counter()
            outs = client.persist(list(make(x)))
            wait(outs)
            elapsed = time.perf_counter() - t0
            del outs
            return elapsed

        def gather(make):
            t0 = time.perf_counter()
            outs = client.compute(list(make(x)), sync=True)
            elapsed = time.perf_counter() - t0
            del outs
            return elapsed

        rows = []
        for mode, run in (("persist", persist), ("gather", gather)):
            run(oxla.dask.gradient)  # warm-up: imports and compiles on the workers
            run(da.gradient)
            for r in range(args.rounds):
                t_oxla = run(oxla.dask.gradient)
                t_dask = run(da.gradient)
                rows.append({"mode": mode, "round": r + 1, "oxla_s": t_oxla, "dask_s": t_dask,
                             "ratio": t_dask / t_oxla})
                print(f"{mode} round {r + 1}: oxla.dask.gradient {t_oxla:6.2f} s   "
                      f"dask.array.gradient {t_dask:6.2f} s   dask/oxla {t_dask / t_oxla:5.2f}x",
                      flush=True)
    return rows


def bench_import(args):
    rows = []
    for r in range(args.runs):
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import oxla"],
                             capture_output=True, text=True, check=True).stderr
        cumulative = {}
        for line in out.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
            if m:
                cumulative[m.group(4)] = int(m.group(2))
        ms = cumulative["oxla"] / 1e3
        rows.append({"run": r + 1, "import_oxla_ms": ms,
                     "numpy_imported": "numpy" in cumulative, "dask_imported": "dask" in cumulative})
        print(f"run {r + 1}: import oxla {ms:6.2f} ms (cumulative; numpy imported: "
              f"{'numpy' in cumulative}, dask imported: {'dask' in cumulative})", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["numpy", "dask", "import"])
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--calls", type=int, default=9)
    parser.add_argument("--keep", action="store_true",
                        help="numpy: keep every result of a round (fresh memory for each call)")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON at the end")
    args = parser.parse_args()
    if args.rounds is None:
        args.rounds = 3 if args.what == "dask" else 5
    rows = {"numpy": bench_numpy, "dask": bench_dask, "import": bench_import}[args.what](args)
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()

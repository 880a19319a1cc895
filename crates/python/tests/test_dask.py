"""``oxla.dask.gradient`` against ``numpy.gradient`` of the whole computed
array, byte for byte: random chunkings (chunks of one element included),
every dtype, both edge orders, every spacing kind (dask-array coordinates
included), on the threaded scheduler and on a ``LocalCluster`` with two
worker processes; the graph's shape; pickling; errors raised eagerly."""

import pickle

import dask
import dask.array as da
import numpy as np
import pytest
from conftest import as_list, same_bytes
from numpy.exceptions import AxisError

import oxla
import oxla.dask

DTYPES = ["f2", "f4", "f8", "c8", "c16", "i2", "u8", ">f8", ">c8", ">i4"]


def random_chunks(rng, n):
    """A random chunking of an axis of ``n`` cells: ones, pieces of every
    size, or one chunk."""
    style = rng.integers(4)
    if style == 0:
        return (1,) * n
    if style == 1 or n == 0:
        return (n,)
    sizes = []
    left = n
    while left:
        s = int(min(left, rng.integers(1, max(2, n // 2 + 1))))
        sizes.append(s)
        left -= s
    return tuple(sizes)


def random_data(rng, dtype, shape):
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        return rng.integers(-50 if dtype.kind == "i" else 0, 100, size=shape).astype(dtype)
    a = rng.standard_normal(shape) * 5
    if dtype.kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def random_case(rng):
    """A random call: array, chunking, spacing (weak, strong, NumPy and dask
    coordinates, evenly spaced or not), axes and edge order."""
    ndim = int(rng.integers(1, 4))
    edge_order = int(rng.integers(1, 3))
    shape = tuple(int(n) for n in rng.integers(edge_order + 1, 8, size=ndim))
    dtype = DTYPES[int(rng.integers(len(DTYPES)))]
    a = random_data(rng, dtype, shape)
    x = da.from_array(a, chunks=tuple(random_chunks(rng, n) for n in shape))
    k = int(rng.integers(1, ndim + 1))
    axes = [int(v) for v in rng.permutation(ndim)[:k]]
    axis = None if rng.random() < 0.3 else tuple(axes)
    selected = list(range(ndim)) if axis is None else axes
    spacing, whole = [], []
    mode = int(rng.integers(3))
    if mode == 1:
        spacing = whole = [float(rng.random() + 0.2)]
    elif mode == 2:
        for ax in selected:
            r = rng.random()
            if r < 0.2:
                s = w = float(rng.random() + 0.2)
            elif r < 0.35 and np.dtype(dtype).kind != "c":
                s = w = np.float32(rng.random() + 0.2)
            else:
                n = shape[ax]
                if rng.random() < 0.3:
                    # evenly spaced: NumPy's single step, decided globally
                    c = np.arange(n) * 0.5 + 1.0
                else:
                    c = np.cumsum(rng.random(n) + 0.05)
                    if n > 3 and rng.random() < 0.5:
                        # evenly spaced in places, so a block's own slice may be
                        c[: n // 2] = np.arange(n // 2) * 0.25
                        c[n // 2 :] = c[n // 2 - 1] + np.cumsum(rng.random(n - n // 2) + 0.1)
                w = c
                s = da.from_array(c, chunks=random_chunks(rng, n)) if rng.random() < 0.6 else c
            spacing.append(s)
            whole.append(w)
    return a, x, spacing, whole, axis, edge_order


def expected(a, whole, axis, edge_order):
    return as_list(np.gradient(a, *whole, axis=axis, edge_order=edge_order))


def test_random_chunkings_match_numpy_on_threads(rng):
    for _ in range(150):
        a, x, spacing, whole, axis, edge_order = random_case(rng)
        result = oxla.dask.gradient(x, *spacing, axis=axis, edge_order=edge_order)
        want = expected(a, whole, axis, edge_order)
        got = dask.compute(*as_list(result), scheduler="threads")
        assert type(result) is (tuple if len(want) > 1 else da.Array)
        for r, g, w in zip(as_list(result), got, want):
            assert r.chunks == x.chunks and r.dtype == w.dtype
            assert same_bytes(g, w), (x.chunks, spacing, axis, edge_order)


def test_random_chunkings_match_numpy_on_a_cluster_of_processes(rng, cluster_client):
    results, wants = [], []
    for _ in range(25):
        a, x, spacing, whole, axis, edge_order = random_case(rng)
        results += as_list(oxla.dask.gradient(x, *spacing, axis=axis, edge_order=edge_order))
        wants += expected(a, whole, axis, edge_order)
    got = cluster_client.gather(cluster_client.compute(results))
    assert all(same_bytes(g, w) for g, w in zip(got, wants))


def test_the_cluster_has_two_worker_processes(cluster_client):
    import os

    pids = cluster_client.run(os.getpid)
    assert len(pids) == 2 and os.getpid() not in pids.values()


def test_chunks_of_one_element_with_edge_order_two(rng):
    # dask.array.gradient refuses chunks shorter than edge_order + 2
    a = random_data(rng, "f8", (5, 4))
    x = da.from_array(a, chunks=1)
    for g, w in zip(oxla.dask.gradient(x, 0.5, [0.0, 1.0, 3.0, 3.5], edge_order=2),
                    np.gradient(a, 0.5, [0.0, 1.0, 3.0, 3.5], edge_order=2)):
        assert same_bytes(g.compute(scheduler="sync"), w)
    with pytest.raises(ValueError, match="Chunk size must be larger"):
        da.gradient(x, edge_order=2)


def test_coordinates_evenly_spaced_in_a_block_are_not_a_step_there(rng):
    # the whole axis is unevenly spaced, but the block 0..4 has even steps:
    # NumPy uses the coordinate formula everywhere, and so must every block
    c = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.9, 1.7, 1.8])
    a = random_data(rng, "f8", (8,))
    want = np.gradient(a, c, edge_order=2)
    for coords in (c, da.from_array(c, chunks=3)):
        got = oxla.dask.gradient(da.from_array(a, chunks=4), coords, edge_order=2)
        assert same_bytes(got.compute(scheduler="threads"), want)


def test_one_layer_computes_every_axis(rng):
    a = random_data(rng, "f8", (6, 8))
    x = da.from_array(a, chunks=(3, 4))
    dy, dx = oxla.dask.gradient(x)
    graph = dx.__dask_graph__()
    kernel = [name for name in graph.layers if name.startswith("oxla-gradient-") and "axis" not in name]
    assert len(kernel) == 1
    assert set(dy.__dask_graph__().layers) >= set(kernel)
    tasks = [k for k in graph if k[0] == kernel[0]]
    assert len(tasks) == x.npartitions
    # halo slices are tasks of their own, next to the blocks they come from
    halos = [k for k in graph if k[0].startswith("oxla-halo-")]
    assert len(halos) == 4 * 3  # each of 4 blocks reads 3 neighbours
    assert dx.chunks == dy.chunks == x.chunks


def test_kernel_runs_once_per_block_for_all_axes(rng, monkeypatch):
    calls = []
    real = oxla._oxla.gradient_block

    def counting(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(oxla.dask._oxla, "gradient_block", counting)
    a = random_data(rng, "f4", (6, 6, 4))
    x = da.from_array(a, chunks=(2, 3, 4))
    outs = oxla.dask.gradient(x)
    got = dask.compute(*outs, scheduler="threads")
    assert len(calls) == x.npartitions
    assert all(same_bytes(g, w) for g, w in zip(got, np.gradient(a)))


def test_graph_is_lazy():
    def fail(block):
        raise RuntimeError("computed too early")

    x = da.ones((6, 6), chunks=3).map_blocks(fail, dtype="f8")
    coords = da.arange(6, chunks=2).map_blocks(fail, dtype="f8")
    out = oxla.dask.gradient(x, 1.0, coords)
    with pytest.raises(RuntimeError, match="computed too early"):
        out[0].compute(scheduler="sync")


def test_the_kernel_and_its_arguments_pickle(rng):
    a = random_data(rng, "f8", (4, 5))
    dy, dx = oxla.dask.gradient(da.from_array(a, chunks=2), 0.5, np.arange(5.0) ** 2)
    graph = dict(dx.__dask_graph__())
    restored = pickle.loads(pickle.dumps(graph))
    assert set(restored) == set(graph)
    assert pickle.loads(pickle.dumps(oxla.dask._block_task)) is oxla.dask._block_task
    got = dask.get(restored, list(dx.__dask_keys__()[0]))
    assert same_bytes(np.concatenate(got, axis=1), np.gradient(a, 0.5, np.arange(5.0) ** 2)[1][:2])


def test_return_shapes_and_dtypes(rng):
    x = da.from_array(random_data(rng, "i2", (4, 5)), chunks=2)
    one = oxla.dask.gradient(x, axis=-1)
    assert isinstance(one, da.Array) and one.dtype == np.float64
    assert oxla.dask.gradient(da.from_array(np.array(1.0))) == ()
    assert oxla.dask.gradient(x, axis=()) == ()
    big = oxla.dask.gradient(da.from_array(random_data(rng, ">f4", (4, 5)), chunks=2))
    assert [b.dtype for b in big] == [np.dtype(">f4")] * 2


def test_numpy_inputs_become_one_chunk(rng):
    a = random_data(rng, "f8", (4, 5))
    got = oxla.dask.gradient(a, axis=0)
    assert got.chunks == ((4,), (5,))
    assert same_bytes(got.compute(), np.gradient(a, axis=0))


def test_empty_blocks(rng):
    a = random_data(rng, "f8", (5, 0))
    got = oxla.dask.gradient(da.from_array(a, chunks=2), axis=0)
    assert same_bytes(got.compute(scheduler="sync"), np.gradient(a, axis=0))


ERRORS = [
    (lambda x: oxla.dask.gradient(x, axis=2), AxisError, "axis 2 is out of bounds"),
    (lambda x: oxla.dask.gradient(x, axis=(0, -2)), ValueError, "repeated axis"),
    (lambda x: oxla.dask.gradient(x, 1.0, 2.0, 3.0), TypeError, "invalid number of arguments"),
    (lambda x: oxla.dask.gradient(x, da.ones(3), 1.0), ValueError, "when 1d, distances must match"),
    (lambda x: oxla.dask.gradient(x, da.ones((4, 5)), 1.0), ValueError, "distances must be either scalars or 1d"),
    (lambda x: oxla.dask.gradient(x[:2], edge_order=2), ValueError, "Shape of array too small"),
    (lambda x: oxla.dask.gradient(x, 0.0, edge_order=2), ZeroDivisionError, "float division by zero"),
    (lambda x: oxla.dask.gradient(x > 0), TypeError, "boolean arrays are not supported"),
    (lambda x: oxla.dask.gradient(x, edge_order=3), ValueError, "'edge_order' must be 1 or 2"),
    (lambda x: oxla.dask.gradient(x, da.ones(4) * 1j, 1.0), ValueError, "distances must be real"),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_are_raised_before_anything_is_computed(case):
    x = da.ones((4, 5), chunks=2)
    call, cls, words = ERRORS[case]
    with pytest.raises(cls, match=words):
        call(x)


def test_unknown_chunk_sizes_are_refused():
    x = da.ones(10, chunks=3)
    y = x[x > 0]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        oxla.dask.gradient(y)


def test_oxla_dask_is_imported_on_use():
    assert oxla.dask is __import__("oxla.dask").dask

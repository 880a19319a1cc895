"""``oxla.dask.gradient``: ``numpy.gradient`` of a dask array, lazily, on
any chunking, byte for byte what NumPy gives for the whole array.

The graph has one layer that does the work: for each block of ``x``, one
task reads the block and the halo cells its stencils need (sliced out of
however many neighbouring blocks they lie in, even blocks of one
element), and computes every requested axis at the block's own cells with
oxla's block evaluation, which computes each cell exactly as the whole
array's evaluation does. One small layer per axis then picks that axis out
of each task's result. Nothing is rechunked: the results have ``x``'s
chunks.

The kernel is a module-level function whose arguments are NumPy arrays,
floats and tuples, so graphs run on ``dask.distributed`` clusters with
worker processes as well as on the threaded scheduler (the extension
releases the GIL while it computes).
"""

import itertools
import operator

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from oxla import _oxla
from oxla._api import (
    _axes,
    _edge_order,
    _in_byte_order,
    _native,
    _numpy_result,
    _spacing,
)

__all__ = ["gradient"]


def gradient(x, *varargs, axis=None, edge_order=1):
    """Return the gradient of a dask array, as ``numpy.gradient`` would of
    the whole computed array.

    The same contract as :func:`oxla.gradient` (and ``numpy.gradient``):
    the same argument rules and exceptions (raised here, before anything is
    computed), the same return shape (a bare array for one axis, a tuple
    otherwise), dtypes and values, byte for byte, for any chunking of
    ``x``, chunks of one element included. The results are lazy dask
    arrays with ``x``'s chunks.

    Parameters
    ----------
    x : dask array or array_like
        The array to differentiate (array-likes become one-chunk dask
        arrays).
    *varargs : scalars, array_like or dask arrays, optional
        The spacing, as for :func:`oxla.gradient`; coordinates may be dask
        arrays (of known length). Whether evenly spaced coordinates count
        as one step is decided once, on the whole coordinate array, as
        NumPy does.
    axis : None, int or tuple of ints, optional
        The axes to differentiate along (default: all).
    edge_order : {1, 2}, optional
        The order of the one-sided differences at the boundaries.

    Returns
    -------
    dask array or tuple of dask arrays

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> import oxla.dask
    >>> x = da.from_array(np.arange(12.0).reshape(3, 4) ** 2, chunks=(1, 3))
    >>> dy, dx = oxla.dask.gradient(x, edge_order=2)
    >>> dx.chunks
    ((1, 1, 1), (3, 1))
    >>> dx.compute()
    array([[ 0.,  2.,  4.,  6.],
           [ 8., 10., 12., 14.],
           [16., 18., 20., 22.]])
    """
    x = da.asarray(x)
    _require_known_chunks(x, "x")
    spacing, placeholders, spacing_arrays = _spacings(varargs)
    axes_arg = _axes(axis)
    order = _edge_order(edge_order)
    axes, computed = _oxla.check(
        list(x.shape), x.dtype.newbyteorder("="), placeholders, axes_arg, order
    )
    if not axes:
        return ()
    out_dtype = np.dtype(computed)
    if not x.dtype.isnative and x.dtype.kind in "fc":
        out_dtype = out_dtype.newbyteorder(x.dtype.byteorder)
    token = tokenize(x, spacing, axes, order, *spacing_arrays)
    name = f"oxla-gradient-{token}"
    layer = _kernel_layer(x, name, spacing, axes, order, out_dtype)
    graph = HighLevelGraph.from_collections(name, layer, dependencies=[x, *spacing_arrays])
    meta = np.empty((0,) * x.ndim, dtype=out_dtype)
    results = []
    for k in range(len(axes)):
        out_name = f"oxla-gradient-axis{axes[k]}-{token}"
        pick = {
            (out_name, *idx): (operator.getitem, (name, *idx), k)
            for idx in itertools.product(*(range(len(c)) for c in x.chunks))
        }
        layers = dict(graph.layers)
        layers[out_name] = pick
        dependencies = dict(graph.dependencies)
        dependencies[out_name] = {name}
        results.append(
            da.Array(HighLevelGraph(layers, dependencies), out_name, x.chunks, meta=meta)
        )
    return _numpy_result(results)


def _require_known_chunks(a, what):
    if any(np.isnan(c) for c in itertools.chain.from_iterable(a.chunks)):
        raise ValueError(
            f"oxla.dask.gradient needs the chunk sizes of {what}: "
            "call compute_chunk_sizes() on it first"
        )


def _spacings(varargs):
    """The spacing arguments for the block tasks (floats, or the keys of
    one-chunk dask arrays), placeholders of the same shapes and dtypes to
    check them with, and those dask arrays."""
    spacing, placeholders, arrays = [], [], []
    for v in varargs:
        if not isinstance(v, da.Array):
            s = _spacing(np, v)
            if isinstance(s, float):
                spacing.append(s)
                placeholders.append(s)
                continue
            v = da.from_array(s, chunks=s.shape)
        _require_known_chunks(v, "a spacing argument")
        if v.ndim <= 1:
            # one chunk, so that every block task gets the whole coordinates
            v = v.rechunk(v.shape)
        placeholders.append(np.broadcast_to(np.zeros((), v.dtype.newbyteorder("=")), v.shape))
        spacing.append((v.name,) + (0,) * v.ndim)
        arrays.append(v)
    return spacing, placeholders, arrays


def _kernel_layer(x, name, spacing, axes, edge_order, out_dtype):
    """One task per block of ``x``: the block and its halo in, every
    requested axis of ``gradient`` at the block's own cells out (a tuple).
    Halo cells are sliced out of the neighbouring blocks by tasks of their
    own, which run where those blocks are."""
    bounds = [list(itertools.accumulate(c, initial=0)) for c in x.chunks]
    shape = x.shape
    differentiated = set(axes)
    dtype_str = x.dtype.str
    layer = {}
    for idx in itertools.product(*(range(len(c)) for c in x.chunks)):
        own = [(b[i], b[i + 1]) for b, i in zip(bounds, idx)]
        key = (name, *idx)
        if any(lo == hi for lo, hi in own):
            empty = np.empty([hi - lo for lo, hi in own], dtype=out_dtype)
            layer[key] = (tuple, [empty] * len(axes))
            continue
        need = [
            _oxla.block_input_rows(shape[d], edge_order, lo, hi) if d in differentiated else (lo, hi)
            for d, (lo, hi) in enumerate(own)
        ]
        # per dimension: (chunk index, slice of that chunk, offset in the box)
        pieces = [_pieces(bounds[d], need[d]) for d in range(x.ndim)]
        sources, offsets = [], []
        for n, combo in enumerate(itertools.product(*pieces)):
            block = (x.name, *(j for j, _, _ in combo))
            window = tuple(s for _, s, _ in combo)
            whole = all(
                s.start == 0 and s.stop == bounds[d][j + 1] - bounds[d][j]
                for d, (j, s, _) in enumerate(combo)
            )
            if whole:
                sources.append(block)
            else:
                halo = (f"oxla-halo-{name}", *idx, n)
                layer[halo] = (operator.getitem, block, window)
                sources.append(halo)
            offsets.append(tuple(o for _, _, o in combo))
        windows = [
            (shape[d], need[d][0], need[d][1], own[d][0], own[d][1]) for d in range(x.ndim)
        ]
        box = [hi - lo for lo, hi in need]
        layer[key] = (
            _block_task,
            sources,
            offsets,
            box,
            windows,
            list(spacing),
            list(axes),
            edge_order,
            dtype_str,
        )
    return layer


def _pieces(bounds, rows):
    """The chunks that rows ``[start, stop)`` of an axis with chunk
    boundaries ``bounds`` lie in: (chunk index, slice within the chunk,
    offset of the slice within the rows)."""
    start, stop = rows
    out = []
    for j in range(len(bounds) - 1):
        lo, hi = max(start, bounds[j]), min(stop, bounds[j + 1])
        if lo < hi:
            out.append((j, slice(lo - bounds[j], hi - bounds[j]), lo - start))
    return out


def _block_task(sources, offsets, box, windows, spacing, axes, edge_order, dtype_str):
    """One block's ``gradient`` along ``axes``, from the pieces of its input
    (the block and its halo); runs on a worker."""
    parts = [(_native(np.asarray(s)), list(o)) for s, o in zip(sources, offsets)]
    spacing = [s if isinstance(s, float) else _native(np.asarray(s)) for s in spacing]
    outs = _oxla.gradient_block(parts, box, windows, spacing, axes, edge_order)
    return tuple(_in_byte_order(outs, np.dtype(dtype_str)))

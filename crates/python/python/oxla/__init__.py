"""oxla: ``numpy.gradient``, bit for bit and faster, its VJP, and on dask.

``oxla.gradient`` is a drop-in replacement for ``numpy.gradient``: the same
arguments, return types, dtypes, layouts, values (byte for byte) and
exception classes, computed by oxla's fused Rust kernels with the GIL
released. ``oxla.gradient_vjp`` is its adjoint (for JAX, PyTorch or
hand-written optimizers), and ``oxla.dask.gradient`` runs it on dask
arrays, on any chunking, on a ``dask.distributed`` cluster.

>>> import numpy as np
>>> import oxla
>>> f = np.array([1, 2, 4, 7, 11])
>>> oxla.gradient(f)
array([1. , 1.5, 2.5, 3.5, 4. ])
>>> dy, dx = oxla.gradient(np.array([[1.0, 2.0, 6.0], [3.0, 4.0, 5.0]]), 2.0, [0.0, 1.0, 1.5])
>>> dx
array([[1.        , 5.66666667, 8.        ],
       [1.        , 1.66666667, 2.        ]])

``import oxla`` imports neither NumPy (until the first call) nor dask
(until ``oxla.dask`` is used).
"""

from oxla._api import gradient, gradient_vjp

__all__ = ["gradient", "gradient_vjp", "dask"]
__version__ = "0.1.0"


def __getattr__(name):
    # `oxla.dask` is imported on first use, so `import oxla` does not
    # import dask.
    if name == "dask":
        import importlib

        return importlib.import_module("oxla.dask")
    raise AttributeError(f"module 'oxla' has no attribute {name!r}")

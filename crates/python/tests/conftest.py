"""Shared fixtures of the oxla Python tests.

Seeds are fixed (every random test draws from ``numpy.random.default_rng``
with a seed of its own); set ``OXLA_TEST_SEED`` to explore other draws.
"""

import logging
import os

import numpy as np
import pytest

SEED = int(os.environ.get("OXLA_TEST_SEED", "20261203"))


@pytest.fixture
def rng(request):
    """A generator seeded from the base seed and the test's name."""
    return np.random.default_rng([SEED, sum(map(ord, request.node.name))])


def same_bytes(got, want):
    """True if two arrays have the same dtype (byte order included), shape
    and bytes (in C order)."""
    return got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == want.tobytes()


def as_list(result):
    """``gradient``'s result as a list (NumPy returns a bare array for one axis)."""
    return list(result) if isinstance(result, tuple) else [result]


@pytest.fixture(scope="session")
def cluster_client():
    """A ``dask.distributed`` client of a ``LocalCluster`` with two worker
    processes (one thread each), shared by the tests that need one."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster, distributed.Client(cluster) as client:
        yield client

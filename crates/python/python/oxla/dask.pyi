"""Typing stubs of ``oxla.dask``."""

from collections.abc import Sequence
from typing import SupportsIndex, overload

import dask.array as da
from numpy.typing import ArrayLike

__all__: list[str]

@overload
def gradient(
    x: da.Array | ArrayLike,
    *varargs: da.Array | ArrayLike,
    axis: SupportsIndex,
    edge_order: SupportsIndex = 1,
) -> da.Array: ...
@overload
def gradient(
    x: da.Array | ArrayLike,
    *varargs: da.Array | ArrayLike,
    axis: Sequence[SupportsIndex] | None = None,
    edge_order: SupportsIndex = 1,
) -> da.Array | tuple[da.Array, ...]: ...

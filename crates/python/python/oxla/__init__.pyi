"""Typing stubs of the ``oxla`` package."""

from collections.abc import Sequence
from typing import Any, SupportsIndex, overload

from numpy.typing import ArrayLike, NDArray

from oxla import dask as dask

__version__: str
__all__: list[str]

@overload
def gradient(
    f: ArrayLike,
    *varargs: ArrayLike,
    axis: SupportsIndex,
    edge_order: SupportsIndex = 1,
) -> NDArray[Any]: ...
@overload
def gradient(
    f: ArrayLike,
    *varargs: ArrayLike,
    axis: Sequence[SupportsIndex] | None = None,
    edge_order: SupportsIndex = 1,
) -> NDArray[Any] | tuple[NDArray[Any], ...]: ...
def gradient_vjp(
    cotangents: ArrayLike | Sequence[ArrayLike],
    f_shape: Sequence[SupportsIndex],
    *varargs: ArrayLike,
    axis: SupportsIndex | Sequence[SupportsIndex] | None = None,
    edge_order: SupportsIndex = 1,
) -> NDArray[Any]: ...

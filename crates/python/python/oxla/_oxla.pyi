"""Typing stubs of the extension module ``oxla._oxla`` (private: use
``oxla.gradient``, ``oxla.gradient_vjp`` and ``oxla.dask.gradient``)."""

from typing import Any, final

import numpy as np
from numpy.typing import NDArray

_Spacing = float | NDArray[Any]

def gradient(
    f: NDArray[Any], spacing: list[_Spacing], axis: list[int] | None, edge_order: int
) -> list[NDArray[Any]]: ...
def check(
    shape: list[int],
    dtype: np.dtype[Any],
    spacing: list[_Spacing],
    axis: list[int] | None,
    edge_order: int,
) -> tuple[list[int], str]: ...
def gradient_block(
    parts: list[tuple[NDArray[Any], list[int]]],
    box_shape: list[int],
    windows: list[tuple[int, int, int, int, int]],
    spacing: list[_Spacing],
    axis: list[int] | None,
    edge_order: int,
) -> list[NDArray[Any]]: ...
def gradient_vjp(
    cotangents: list[NDArray[Any]],
    f_shape: list[int],
    spacing: list[_Spacing],
    axis: list[int] | None,
    edge_order: int,
) -> NDArray[Any]: ...
def block_input_rows(len: int, edge_order: int, start: int, stop: int) -> tuple[int, int]: ...
@final
class Buffer:
    """Owner of a result's memory (the ``base`` of arrays oxla returns)."""

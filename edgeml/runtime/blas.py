"""Keep numpy's OpenBLAS on one thread while edgeml's kernels run.

The matrices of microcontroller models are small: a second BLAS thread saves microseconds when the
machine is idle, and costs milliseconds when another process holds the other core (the worker
thread is not scheduled and the call waits for it). edgeml runs single-threaded, as the references
it is compared with do. openblas_set_num_threads_local changes only the calling thread's setting and
returns the previous one, which is restored afterwards. Without OpenBLAS (another BLAS, another
platform) this does nothing.
"""

from __future__ import annotations

import ctypes
import glob
import os
from collections.abc import Callable

import numpy as np

_SetThreads = Callable[[int], int]


def _find_local_thread_setter() -> _SetThreads | None:
    libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libs, "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)  # already loaded by numpy: the same handle comes back
        except OSError:
            continue
        setter = getattr(lib, "openblas_set_num_threads_local", None)
        if setter is not None:
            setter.argtypes = [ctypes.c_int]
            setter.restype = ctypes.c_int
            return setter
    return None


_SETTER = _find_local_thread_setter()


class OneBlasThread:
    """Context manager: BLAS calls made by this thread inside the block use one thread."""

    def __enter__(self) -> OneBlasThread:
        self._previous = _SETTER(1) if _SETTER is not None else 0
        return self

    def __exit__(self, *exc) -> None:
        if _SETTER is not None and self._previous > 0:
            _SETTER(self._previous)

"""Generated C on the host: compile with gcc into shared libraries and run them through ctypes.

The kernels and runtime are compiled once per firmware/ content into libedgeml_kernels.so; each
generated model is a small library linked against it. Both are cached by a hash of their sources
and flags, so tests and `edgeml compare --against c` pay for gcc only when something changed.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edgeml.codegen.model_c import GeneratedModel
from edgeml.errors import EdgemlError
from edgeml.firmware import INCLUDE_DIR, KERNEL_DIR, SOURCE_DIR
from edgeml.ir.graph import Graph

WARNINGS = ("-Wall", "-Wextra", "-Werror", "-Wconversion", "-Wno-sign-conversion")
# Float arithmetic exactly as written (onnxruntime's float32 requantization rounds each product once;
# a fused multiply-add would round differently).
FLOAT_FLAGS = ("-ffp-contract=off",)
HOST_CFLAGS = ("-std=c99", "-O2", "-fPIC", *FLOAT_FLAGS, *WARNINGS)
RUNTIME_SOURCES = ("edg_model.c",)


def cache_dir() -> Path:
    root = Path(os.environ.get("EDGEML_CACHE", Path.home() / ".cache" / "edgeml"))
    path = root / "host"
    path.mkdir(parents=True, exist_ok=True)
    return path


def host_compiler() -> str:
    cc = os.environ.get("CC", "gcc")
    if shutil.which(cc) is None:
        raise EdgemlError(f"no C compiler `{cc}` on PATH: install gcc (apt-get install gcc) or set CC")
    return cc


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:20]


def _compile(args: list[str], target: Path) -> None:
    """Run the compiler into a temporary file, then rename: a failed build leaves nothing behind."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    proc = subprocess.run([*args, "-o", str(tmp)], capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise EdgemlError(f"host C build of {target.name} failed:\n{proc.stderr.strip()}")
    os.replace(tmp, target)


def kernel_sources() -> list[Path]:
    return sorted([SOURCE_DIR / s for s in RUNTIME_SOURCES] + list(KERNEL_DIR.glob("*.c")))


def kernels_library(extra_flags: Sequence[str] = ()) -> Path:
    """libedgeml_kernels.so with the runtime and every kernel, built once per source content."""
    sources = kernel_sources()
    headers = sorted(INCLUDE_DIR.glob("*.h")) + sorted(KERNEL_DIR.glob("*.h"))
    flags = [*HOST_CFLAGS, *extra_flags]
    key = _digest(" ".join(flags).encode(), *(p.name.encode() + p.read_bytes() for p in sources + headers))
    target = cache_dir() / f"libedgeml_kernels-{key}.so"
    if not target.exists():
        _compile([host_compiler(), *flags, "-shared", f"-I{INCLUDE_DIR}", f"-I{KERNEL_DIR}",
                  *map(str, sources), "-lm"], target)
    return target


def model_library(model: GeneratedModel, extra_flags: Sequence[str] = ()) -> tuple[Path, Path]:
    """(model library, kernels library) for one generated model."""
    kernels = kernels_library(extra_flags)
    flags = [*HOST_CFLAGS, *extra_flags]
    key = _digest(model.source.encode(), model.header.encode(), kernels.name.encode(), " ".join(flags).encode())
    target = cache_dir() / f"{model.prefix}-{key}.so"
    if not target.exists():
        with tempfile.TemporaryDirectory(prefix="edgeml-c-") as tmp:
            src = Path(tmp) / f"{model.prefix}.c"
            src.write_text(model.source)
            (Path(tmp) / f"{model.prefix}.h").write_text(model.header)
            _compile([host_compiler(), *flags, "-shared", f"-I{tmp}", f"-I{INCLUDE_DIR}", f"-I{KERNEL_DIR}",
                      str(src), str(kernels), f"-Wl,-rpath,{kernels.parent}"], target)
    return target, kernels


TRACE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint16, ctypes.c_void_p)


class _Op(ctypes.Structure):
    _fields_ = [("run", ctypes.c_void_p), ("params", ctypes.c_void_p), ("inp", ctypes.c_void_p),
                ("out", ctypes.c_void_p), ("scratch", ctypes.c_void_p), ("trace_data", ctypes.c_void_p),
                ("trace_bytes", ctypes.c_uint32), ("node", ctypes.c_uint16)]


class HostModel:
    """A generated model compiled for the host, run through ctypes on numpy arrays."""

    def __init__(self, graph: Graph, model: GeneratedModel, extra_flags: Sequence[str] = ()):
        self.graph = graph
        path, kernels = model_library(model, extra_flags)
        self._kernels = ctypes.CDLL(str(kernels))  # kept alive for the model library
        self._lib = ctypes.CDLL(str(path))
        self._model = ctypes.c_char.in_dll(self._lib, f"{model.prefix}_model")
        self._invoke = self._kernels.edg_invoke
        self._invoke.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        self._invoke.restype = None
        for name in ("edg_input_data", "edg_output_data"):
            fn = getattr(self._kernels, name)
            fn.argtypes, fn.restype = [ctypes.c_void_p, ctypes.c_uint32], ctypes.c_void_p
        address = ctypes.addressof(self._model)
        self._inputs = [self._view(self._kernels.edg_input_data(address, k), t) for k, t in enumerate(graph.inputs)]
        self._outputs = [self._view(self._kernels.edg_output_data(address, k), t)
                         for k, t in enumerate(graph.outputs)]

    def _view(self, pointer: int, tensor_index: int) -> np.ndarray:
        tensor = self.graph.tensors[tensor_index]
        buffer = (ctypes.c_uint8 * tensor.nbytes).from_address(pointer)
        return np.frombuffer(buffer, dtype=tensor.dtype.np).reshape(tensor.shape)

    def run(self, inputs: Sequence[np.ndarray], trace: bool = False) -> tuple[list[np.ndarray], dict[int, bytes]]:
        """Outputs, and with trace the bytes of each op's first output keyed by node index."""
        for view, array in zip(self._inputs, inputs, strict=True):
            view[...] = array
        traced: dict[int, bytes] = {}
        callback = None
        if trace:
            def record(_context, _step, op_pointer) -> None:
                op = _Op.from_address(op_pointer)
                traced[op.node] = ctypes.string_at(op.trace_data, op.trace_bytes)

            callback = TRACE_FN(record)
        pointer = ctypes.cast(callback, ctypes.c_void_p) if callback is not None else None
        self._invoke(ctypes.addressof(self._model), pointer, None)
        return [view.copy() for view in self._outputs], traced

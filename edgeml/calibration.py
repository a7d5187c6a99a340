"""Calibration data for float models: .npy, .npz or a directory of them, checked against the model's
inputs. Random data only when the user asks for none, and then with a loud warning."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeml.errors import InputError

RANDOM_SAMPLES = 64
LABELS = "labels"  # in a held-out .npz: the class of every sample


@dataclass(frozen=True)
class InputSpec:
    name: str
    shape: tuple[int, ...]  # one sample, batch axis included as 1


@dataclass(frozen=True, eq=False)
class Calibration:
    samples: list[list[np.ndarray]]  # per sample, one float32 array per input (batch axis of 1)
    source: str  # the path, or "random"

    def __len__(self) -> int:
        return len(self.samples)


def load_calibration(path: str | Path | None, specs: Sequence[InputSpec], seed: int = 0) -> Calibration:
    """The samples in PATH (a .npy for one input, a .npz with one array per input by name or order,
    or a directory of such files, concatenated in name order); random normal samples if PATH is None."""
    if path is None:
        return random_calibration(specs, seed)
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such calibration file or directory")
    files = sorted(f for f in path.iterdir() if f.suffix in (".npy", ".npz")) if path.is_dir() else [path]
    if not files:
        raise InputError(f"{path}: no .npy or .npz files in this directory")
    per_file = [_read(f, specs) for f in files]
    columns = [np.concatenate([arrays[k] for arrays in per_file]) for k in range(len(specs))]
    count = len(columns[0])
    samples = [[c[i:i + 1] for c in columns] for i in range(count)]
    return Calibration(samples, str(path))


def load_labels(path: str | Path, count: int) -> np.ndarray | None:
    """The "labels" array of a held-out .npz (one class index per sample), or None."""
    path = Path(path)
    if path.suffix != ".npz":
        return None
    with np.load(path, allow_pickle=False) as loaded:
        if LABELS not in loaded.files:
            return None
        labels = np.asarray(loaded[LABELS]).reshape(-1)
    if len(labels) != count or not np.issubdtype(labels.dtype, np.integer):
        raise InputError(f"{path}: 'labels' must be {count} integer class indices, got {labels.dtype} "
                         f"{list(labels.shape)}")
    return labels


def random_calibration(specs: Sequence[InputSpec], seed: int = 0, count: int = RANDOM_SAMPLES) -> Calibration:
    print("edgeml: WARNING: no --calibration data: quantizing with RANDOM inputs. Scales fitted to noise "
          "can lose most of the model's accuracy; pass real samples (.npy/.npz or a directory of them).",
          file=sys.stderr)
    rng = np.random.default_rng(seed)
    samples = [[rng.standard_normal(s.shape).astype(np.float32) for s in specs] for _ in range(count)]
    return Calibration(samples, "random")


def _read(path: Path, specs: Sequence[InputSpec]) -> list[np.ndarray]:
    """One file's arrays, one per input, each (N, *sample shape without its batch axis)."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"{path}: not a readable .npy/.npz file ({exc})") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        names = [n for n in loaded.files if n != LABELS]
        by_name = all(s.name in names for s in specs)
        if not by_name and len(names) != len(specs):
            raise InputError(f"{path}: has arrays {names}; the model has {len(specs)} input(s) "
                             f"({', '.join(s.name for s in specs)}): name them so, or give one per input in order")
        arrays = [loaded[s.name] if by_name else loaded[names[k]] for k, s in enumerate(specs)]
    else:
        if len(specs) != 1:
            raise InputError(f"{path}: one array, but the model has {len(specs)} inputs: use a .npz")
        arrays = [loaded]
    return [_check(path, a, s) for a, s in zip(arrays, specs, strict=True)]


def _check(path: Path, array: np.ndarray, spec: InputSpec) -> np.ndarray:
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise InputError(f"{path}: calibration data for input {spec.name!r} is {array.dtype}, not numbers")
    sample = spec.shape[1:]
    if tuple(array.shape[1:]) != sample:
        if tuple(array.shape) == sample:
            array = array[None]  # a single sample without its batch axis
        else:
            raise InputError(f"{path}: calibration data for input {spec.name!r} has shape {list(array.shape)}; "
                             f"expected [N, {', '.join(map(str, sample))}] (N samples of {list(spec.shape)})")
    if len(array) == 0:
        raise InputError(f"{path}: no samples for input {spec.name!r}")
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise InputError(f"{path}: calibration data for input {spec.name!r} has NaN or infinite values")
    return array

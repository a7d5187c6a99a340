"""The `edgeml` command line."""

from __future__ import annotations

import functools
import json
import sys

import click
import numpy as np

from edgeml import __version__
from edgeml.errors import EdgemlError, InputError

REFERENCES = click.Choice(["tflite", "tflm"])


def user_errors(func):
    """Print EdgemlErrors as one clear message and exit 2: no traceback for bad input."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except EdgemlError as exc:
            click.echo(f"edgeml: error: {exc}", err=True)
            sys.exit(2)

    return wrapper


@click.group()
@click.version_option(__version__, prog_name="edgeml")
def main() -> None:
    """Convert trained models into int8 programs for microcontrollers, bit-exact with the host."""


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@user_errors
def inspect(model: str, as_json: bool) -> None:
    """Ops, tensors, shapes, quantization, parameter bytes and MACs of MODEL."""
    from edgeml.api import load
    from edgeml.inspect import describe, format_text

    info = describe(load(model))
    click.echo(json.dumps(info, indent=2) if as_json else format_text(info))


def _load_inputs(path: str, program) -> list[np.ndarray]:
    from edgeml.runtime.executor import check_inputs

    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read as .npy/.npz: {exc}") from None
    arrays = [loaded[k] for k in loaded.files] if isinstance(loaded, np.lib.npyio.NpzFile) else [loaded]
    return check_inputs(program, arrays)


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--input", "input_path", type=click.Path(dir_okay=False), help=".npy (or .npz for several inputs).")
@click.option("--output", "output_path", type=click.Path(dir_okay=False), help="Write outputs to .npy/.npz.")
@click.option("--reference", type=REFERENCES, default="tflite", show_default=True,
              help="Whose integer arithmetic to reproduce.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random input when no --input.")
@user_errors
def run(model: str, input_path: str | None, output_path: str | None, reference: str, seed: int) -> None:
    """Run MODEL on the host with edgeml's kernels."""
    from edgeml.api import compile_model
    from edgeml.compare import random_inputs
    from edgeml.runtime.executor import run as execute

    program = compile_model(model, reference)
    inputs = _load_inputs(input_path, program) if input_path else random_inputs(program.graph, 1, seed)[0]
    outputs = execute(program, inputs).outputs
    if output_path:
        if len(outputs) == 1 and not output_path.endswith(".npz"):
            np.save(output_path, outputs[0])
        else:
            np.savez(output_path, *outputs)
        click.echo(f"wrote {len(outputs)} output(s) to {output_path}")
    else:
        for k, out in enumerate(outputs):
            click.echo(f"output {k} {out.dtype} {list(out.shape)}: {np.array2string(out, threshold=64)}")


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--against", type=REFERENCES, required=True, help="The reference runtime.")
@click.option("-n", "count", type=click.IntRange(min=1), default=10, show_default=True, help="Random inputs.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--input", "input_path", type=click.Path(dir_okay=False), help="Compare on this input instead.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@user_errors
def compare(model: str, against: str, count: int, seed: int, input_path: str | None, as_json: bool) -> None:
    """Run MODEL through edgeml and a reference; exit 0 only if every output is byte-identical."""
    from edgeml.api import compile_model
    from edgeml.compare import compare as do_compare
    from edgeml.compare import random_inputs

    program = compile_model(model, against)
    graph = program.graph
    inputs = [_load_inputs(input_path, program)] if input_path else random_inputs(graph, count, seed)
    show = not as_json and sys.stderr.isatty()
    with click.progressbar(length=len(inputs), label="comparing", file=sys.stderr) if show else _nullbar() as bar:
        report = do_compare(graph, against, inputs, progress=lambda k: bar.update(1))
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        verdict = "bit-exact" if report.mismatched_inputs == 0 else "MISMATCH"
        click.echo(f"{model} vs {against}: {report.inputs - report.mismatched_inputs}/{report.inputs} "
                   f"inputs identical: {verdict}")
        if report.mismatched_inputs:
            click.echo(f"  max abs diff {report.max_abs_diff}")
            op = report.first_divergent_op
            if op:
                click.echo(f"  first divergent op: #{op.index} {op.type} ({op.name})")
    sys.exit(0 if report.mismatched_inputs == 0 else 1)


class _nullbar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, _n: int) -> None:
        pass


if __name__ == "__main__":
    main()

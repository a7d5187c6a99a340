"""The `edgeml` command line."""

from __future__ import annotations

import functools
import json
import sys
import tempfile
from pathlib import Path

import click
import numpy as np

from edgeml import __version__
from edgeml.errors import EdgemlError, InputError

REFERENCES = click.Choice(["tflite", "tflm", "onnxruntime"])


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
@click.argument("model", type=click.Path())
@click.option("--calibration", type=click.Path(exists=True), default=None,
              help="Float sources (.keras, SavedModel): samples to quantize with (.npy/.npz or a directory).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@user_errors
def inspect(model: str, calibration: str | None, as_json: bool) -> None:
    """Ops, tensors, shapes, quantization, parameter bytes and MACs of MODEL."""
    from edgeml.api import load
    from edgeml.inspect import describe, format_text

    info = describe(load(model, calibration))
    click.echo(json.dumps(info, indent=2) if as_json else format_text(info))


def _load_inputs(path: str, program) -> list[np.ndarray]:
    from edgeml.runtime.executor import check_inputs

    if not Path(path).is_file():
        raise InputError(f"{path}: no such file")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        raise InputError(f"{path}: not a .npy/.npz file (save inputs with numpy.save or numpy.savez)") from None
    arrays = [loaded[k] for k in loaded.files] if isinstance(loaded, np.lib.npyio.NpzFile) else [loaded]
    return check_inputs(program, arrays)


def _save_outputs(path: str, outputs: list[np.ndarray]) -> None:
    """Exactly at `path` (numpy would add an extension): one array as .npy, several as .npz."""
    try:
        with open(path, "wb") as f:
            if len(outputs) == 1:
                np.save(f, outputs[0])
            else:
                np.savez(f, *outputs)
    except OSError as exc:
        raise EdgemlError(f"{path}: cannot write the outputs: {exc.strerror}") from None


@main.command()
@click.argument("model", type=click.Path())
@click.option("--input", "input_path", type=click.Path(dir_okay=False), help=".npy (or .npz for several inputs).")
@click.option("--output", "output_path", type=click.Path(dir_okay=False), help="Write outputs to .npy/.npz.")
@click.option("--reference", type=REFERENCES, default=None,
              help="Whose integer arithmetic to reproduce [default: onnxruntime for .onnx, else tflite].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random input when no --input.")
@click.option("--calibration", type=click.Path(exists=True), default=None,
              help="Float sources (.keras, SavedModel): samples to quantize with (.npy/.npz or a directory).")
@user_errors
def run(model: str, input_path: str | None, output_path: str | None, reference: str | None, seed: int,
        calibration: str | None) -> None:
    """Run MODEL on the host with edgeml's kernels."""
    from edgeml.api import compile_model
    from edgeml.compare import random_inputs
    from edgeml.runtime.executor import run as execute

    program = compile_model(model, reference, calibration)
    inputs = _load_inputs(input_path, program) if input_path else random_inputs(program.graph, 1, seed)[0]
    outputs = execute(program, inputs).outputs
    if output_path:
        _save_outputs(output_path, outputs)
        click.echo(f"wrote {len(outputs)} output(s) to {output_path}")
    else:
        for k, out in enumerate(outputs):
            click.echo(f"output {k} {out.dtype} {list(out.shape)}: {np.array2string(out, threshold=64)}")


@main.command()
@click.argument("model", type=click.Path())
@click.option("--against", type=REFERENCES, required=True, help="The reference runtime.")
@click.option("-n", "count", type=click.IntRange(min=1), default=10, show_default=True, help="Random inputs.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--input", "input_path", type=click.Path(dir_okay=False), help="Compare on this input instead.")
@click.option("--calibration", type=click.Path(exists=True), default=None,
              help="Float sources (.keras, SavedModel): samples to quantize with (.npy/.npz or a directory).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@user_errors
def compare(model: str, against: str, count: int, seed: int, input_path: str | None, calibration: str | None,
            as_json: bool) -> None:
    """Run MODEL through edgeml and a reference; exit 0 only if every output is byte-identical."""
    from edgeml.api import compile_model
    from edgeml.compare import compare as do_compare
    from edgeml.compare import random_inputs

    program = compile_model(model, against, calibration)
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


@main.command()
@click.argument("model", type=click.Path())
@click.option("--target", "target", required=True, help="Board name (see `edgeml targets`).")
@click.option("--vs-tflm", is_flag=True, help="Also find the smallest arena TFLite Micro runs the model with.")
@click.option("--scheduler", type=click.Choice(["memory", "model"]), default="memory", show_default=True,
              help="Op order: memory-aware, or the model's own.")
@click.option("--planner", type=click.Choice(["best", "best_fit", "greedy_by_size", "exact"]), default="best",
              show_default=True, help="Arena planner; greedy_by_size is TFLite Micro's.")
@click.option("--no-inplace", is_flag=True, help="Never let an op write over its input.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Write FILE.html or FILE.png.")
@click.option("--calibration", type=click.Path(exists=True), default=None,
              help="Float sources (.keras, SavedModel): samples to quantize with (.npy/.npz or a directory).")
@user_errors
def plan(model: str, target: str, vs_tflm: bool, scheduler: str, planner: str, no_inplace: bool, as_json: bool,
         report_path: str | None, calibration: str | None) -> None:
    """Plan MODEL's memory for a board: arena, lower bound, flash, peak op, timeline, verdict.

    Exits 0 if the model fits the board, 1 if it does not.
    """
    from edgeml.api import load
    from edgeml.plan.memory import plan_memory
    from edgeml.plan.report import summarize, timeline_text, write_report
    from edgeml.runtime.program import prepare_program
    from edgeml.targets import load_board

    board = load_board(target)
    graph = load(model, calibration)
    program = prepare_program(graph, graph.native_numerics)  # every op must be supported before a plan means anything
    memory = plan_memory(graph, scheduler=scheduler, planner=planner, inplace=not no_inplace,
                         numerics=program.numerics)
    tflm = None
    if vs_tflm:
        if graph.native_numerics != "tflite":
            raise EdgemlError(f"{model}: --vs-tflm runs TensorFlow Lite Micro, which takes .tflite (or Keras) models")
        from edgeml.references.tflm_arena import tflm_smallest_arena

        tflm = tflm_smallest_arena(graph.reference_model or model, name=model).arena_bytes
    summary = summarize(memory, board.name, board.arena_budget_bytes, board.flash_bytes, tflm)
    if report_path:
        write_report(memory, summary, Path(report_path))
    if as_json:
        click.echo(json.dumps(summary.to_json()))
    else:
        click.echo(timeline_text(memory))
        click.echo("")
        ratio = summary.arena_bytes / max(summary.lower_bound_bytes, 1)
        click.echo(f"arena {summary.arena_bytes:,} bytes ({summary.planner}), lower bound for this order "
                   f"{summary.lower_bound_bytes:,} bytes ({ratio:.3f}x)")
        if tflm is not None:
            click.echo(f"TFLite Micro's smallest arena {tflm:,} bytes: edgeml needs {summary.ram_bytes / tflm:.3f}x")
        click.echo(f"RAM {summary.ram_bytes:,} bytes, flash {summary.flash_bytes:,} bytes (estimate: weights "
                   f"{graph.parameter_bytes():,} + code)")
        if report_path:
            click.echo(f"report written to {report_path}")
        click.echo(summary.verdict())
    if not summary.fits:
        if as_json:
            click.echo(f"edgeml: {summary.verdict()}", err=True)
        sys.exit(1)


DEFAULT_TARGET = "qemu-mps2-an386"


@main.command()
@click.argument("model", type=click.Path())
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False), required=True,
              help="Directory of the C project (created, or replaced if edgeml made it).")
@click.option("--target", default=DEFAULT_TARGET, show_default=True, help="Board name (see `edgeml targets`).")
@click.option("--reference", type=REFERENCES, default=None,
              help="Whose integer arithmetic the firmware reproduces [default: onnxruntime for .onnx, else tflite].")
@click.option("--calibration", type=click.Path(exists=True), default=None,
              help="Float sources (.keras, SavedModel): samples to quantize with (.npy/.npz or a directory).")
@user_errors
def convert(model: str, outdir: str, target: str, reference: str | None, calibration: str | None) -> None:
    """Write a self-contained C project for MODEL on a board; build it with `make -C OUTDIR`.

    Exits 1 without writing anything if the model does not fit the board.
    """
    from edgeml.api import load
    from edgeml.codegen.project import write_project
    from edgeml.hil.verify import BudgetError, compile_for
    from edgeml.targets import load_board

    board = load_board(target)
    try:
        graph = load(model, calibration)
        compiled = compile_for(graph, board, reference or graph.native_numerics)
    except BudgetError as exc:
        click.echo(f"edgeml: {exc}", err=True)
        sys.exit(1)
    info = write_project(compiled.program, compiled.plan, board, Path(outdir))
    numerics = compiled.program.numerics.value
    click.echo(f"wrote {outdir} for {board.name} ({numerics} numerics): arena {info.arena_bytes:,} bytes, "
               f"const data {info.weight_bytes:,} bytes, kernels: {', '.join(info.kernels)}")
    click.echo(f"build it with `make -C {outdir}` or `edgeml build {outdir}`")


def _print_build(outdir: str, result, board) -> None:
    click.echo(f"built {result.elf}: flash {result.flash_bytes:,} of {board.flash_bytes:,} bytes, "
               f"RAM {result.ram_bytes:,} of {board.ram_bytes:,} bytes (.data {result.data_bytes:,}, "
               f".bss {result.bss_bytes:,} incl. arena and stack)")


@main.command()
@click.argument("model", type=click.Path())
@click.option("--calibration", type=click.Path(exists=True), default=None,
              help="Samples to quantize with (.npy/.npz or a directory); random data (with a warning) if absent.")
@click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False), required=True,
              help="The int8 .tflite to write (edgeml, TFLite and TFLite Micro all read it).")
@click.option("--held-out", "held_out", type=click.Path(exists=True), default=None,
              help="Samples to measure int8 against float on (.npz; a 'labels' array adds accuracy).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@user_errors
def quantize(model: str, calibration: str | None, output_path: str, held_out: str | None, as_json: bool) -> None:
    """Quantize a float model (.keras, .h5, SavedModel: to an int8 .tflite; .onnx and float .tflite: with
    edgeml's own quantizer, to an int8 QDQ .onnx)
    and report how far int8 is from float: top-1 agreement and SNR per output on the calibration data
    and on --held-out data."""
    from edgeml.accuracy import measure
    from edgeml.calibration import InputSpec, load_calibration, load_labels
    from edgeml.converters.keras import is_keras_source
    from edgeml.runtime.executor import Runner
    from edgeml.runtime.program import prepare_program

    graph, float_model = _quantized_source(Path(model), calibration, is_keras_source)
    _write_atomically(Path(output_path), graph.reference_model)
    program = prepare_program(graph, graph.native_numerics)
    runner = Runner(program)
    specs = [InputSpec(graph.tensors[i].name, graph.tensors[i].shape) for i in graph.inputs]
    reports = [measure(graph, runner, float_model, load_calibration(calibration, specs).samples, "calibration")] \
        if calibration else []
    if held_out:
        data = load_calibration(held_out, specs)
        reports.append(measure(graph, runner, float_model, data.samples, held_out, load_labels(held_out, len(data))))
    if as_json:
        click.echo(json.dumps({"model": model, "output": output_path, "bytes": len(graph.reference_model),
                               "accuracy": [r.to_json() for r in reports]}))
        return
    kind = "QDQ .onnx" if graph.native_numerics == "onnxruntime" else ".tflite"
    click.echo(f"wrote {output_path}: int8 {kind}, {len(graph.reference_model):,} bytes, {len(graph.nodes)} ops")
    for report in reports:
        click.echo(f"  {report.text()}")


def _quantized_source(model: Path, calibration: str | None, is_keras_source):
    """(int8 graph, float runner) of a float .keras/SavedModel, .onnx or .tflite source."""
    from edgeml.api import load

    suffix = model.suffix.lower()
    if suffix in (".onnx", ".tflite"):
        from edgeml.converters.onnx import load_onnx
        from edgeml.converters.onnx_quantize import float_runner, quantize_onnx

        with tempfile.TemporaryDirectory(prefix="edgeml-") as tmp:
            source = _float_onnx_source(model, Path(tmp))
            result = quantize_onnx(source, calibration)
            qdq = Path(tmp) / (model.stem + ".int8.onnx")
            qdq.write_bytes(result.qdq)
            graph = load_onnx(qdq)
        graph.source_path = str(model)
        return graph, float_runner(result.float_model)
    if not is_keras_source(model):
        raise EdgemlError(f"{model}: is not a Keras, SavedModel, ONNX or TFLite source; `edgeml quantize` takes "
                          "float .keras/.h5/.onnx/.tflite files and SavedModel directories")
    from edgeml.converters.keras import float_runner as keras_runner

    return load(model, calibration), keras_runner(model)


def _float_onnx_source(model: Path, tmp: Path) -> Path:
    """The float ONNX model edgeml's quantizer starts from: MODEL itself, or a float .tflite exported."""
    if model.suffix.lower() == ".onnx":
        from edgeml.converters.onnx import is_quantized_onnx
        from edgeml.converters.onnx_load import read_onnx

        read_onnx(model)
        if is_quantized_onnx(model):
            raise EdgemlError(f"{model}: is already quantized; `edgeml quantize` takes float models")
        return model
    from edgeml.converters.tflite import load_tflite
    from edgeml.converters.tflite_float_onnx import is_float_graph, tflite_graph_to_onnx

    graph = load_tflite(model)
    if not is_float_graph(graph):
        raise EdgemlError(f"{model}: is already quantized; `edgeml quantize` takes float models")
    exported = tmp / (model.stem + ".float.onnx")
    exported.write_bytes(tflite_graph_to_onnx(graph))
    return exported


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise EdgemlError(f"{path}: cannot write: {exc.strerror}") from None


@main.command()
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("-j", "jobs", type=click.IntRange(min=1), default=None, help="Parallel compile jobs.")
@user_errors
def build(outdir: str, jobs: int | None) -> None:
    """Build a project written by `edgeml convert` (runs make) and report its real sizes."""
    from edgeml.codegen.build import build_project
    from edgeml.codegen.project import ProjectInfo
    from edgeml.targets import load_board

    info = ProjectInfo.read(Path(outdir))
    _print_build(outdir, build_project(Path(outdir), jobs), load_board(info.target))


@main.command()
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--port", default=None,
              help="Real boards: the serial port to check the firmware on afterwards. Emulated boards: the "
                   "local TCP port QEMU serves the serial line on (default: a free one).")
@click.option("--no-serve", is_flag=True, help="Emulated boards: stop QEMU once the firmware has answered.")
@user_errors
def flash(outdir: str, port: str | None, no_serve: bool) -> None:
    """Put a built project on its board: a probe flashes a real board, QEMU starts an emulated one.

    Either way the firmware must then answer with the project's model hash. An emulated board keeps
    running, its serial line on a socket:// address for `edgeml verify --port`, until Ctrl-C.
    """
    from edgeml.codegen.linker import is_native
    from edgeml.codegen.project import ProjectInfo
    from edgeml.targets import load_board

    info = ProjectInfo.read(Path(outdir))
    board = load_board(info.target)
    elf = Path(outdir) / "build" / info.elf_name
    if not elf.is_file():
        raise EdgemlError(f"{elf}: not built yet; run `edgeml build {outdir}` first")
    if is_native(board):
        raise EdgemlError(f"{outdir} targets the host: nothing to flash. Run {elf} (it prints the pty it serves "
                          "the protocol on), or `edgeml verify MODEL --target host`")
    if board.emulated:
        _serve_qemu(board, elf, info, port, no_serve)
        return
    from edgeml.hil.device import open_device
    from edgeml.hil.flash import flash as flash_board

    click.echo(f"flashing {elf} to {board.name} ...")
    flash_board(board, elf)
    click.echo(f"flashed {board.name}")
    if port is not None:
        with open_device(board, elf, port, expected_hash=info.model_hash) as device:
            _print_identity(device.client.info, device.description)


def _serve_qemu(board, elf: Path, info, port: str | None, no_serve: bool) -> None:
    from edgeml.hil.device import open_device
    from edgeml.hil.qemu import QemuSession

    if port is not None and not port.isdigit():
        raise EdgemlError(f"--port {port}: for the emulated {board.name} give a local TCP port number (e.g. 4321)")
    with QemuSession.for_board(board, elf, listen_port=int(port) if port else None) as qemu:
        qemu.detach()  # QEMU serves one client at a time: the check below, then the user's
        with open_device(board, elf, qemu.url, expected_hash=info.model_hash) as device:
            _print_identity(device.client.info, f"QEMU {qemu.machine} (pid {qemu.pid})")
        if no_serve:
            return
        click.echo(f"serving the serial line on {qemu.url}: `edgeml verify MODEL --target {board.name} --port "
                   f"{qemu.url}`; Ctrl-C stops QEMU")
        try:
            qemu.process.wait()
        except KeyboardInterrupt:
            click.echo("stopped")
            return
        qemu.raise_if_dead()


def _print_identity(device_info, where: str) -> None:
    click.echo(f"{where} runs {device_info.model_name} (sha256 {device_info.model_hash.hex()[:16]}…), edgeml "
               f"{device_info.edgeml_version}, arena {device_info.arena_bytes:,} bytes, {device_info.n_ops} ops")


@main.command()
@click.argument("model", type=click.Path())
@click.option("--target", default=DEFAULT_TARGET, show_default=True, help="Board name (see `edgeml targets`).")
@click.option("-n", "count", type=click.IntRange(min=1), default=20, show_default=True, help="Random inputs.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--port", default=None, help="Serial port of a real board, or the socket:// address of a QEMU "
              "started by `edgeml flash`. Emulated boards and the host need none.")
@click.option("--reference", type=REFERENCES, default=None,
              help="Whose integer arithmetic the firmware reproduces [default: onnxruntime for .onnx, else tflite].")
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False), default=None,
              help="Where the C project goes (default: a cache folder keyed by model, board and edgeml version).")
@click.option("--no-flash", is_flag=True, help="Real boards: the board already runs this firmware.")
@click.option("--profile", is_flag=True, help="Also time every op (one traced run) and show the costliest.")
@click.option("--calibration", type=click.Path(exists=True), default=None,
              help="Float sources (.keras, SavedModel): samples to quantize with (.npy/.npz or a directory).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@user_errors
def verify(model: str, target: str, count: int, seed: int, port: str | None, reference: str | None,
           outdir: str | None,
           no_flash: bool, profile: bool, calibration: str | None, as_json: bool) -> None:
    """Convert, build, flash or start MODEL on a board, stream N inputs over the serial protocol and
    compare every output byte with the host runtime.

    Exits 0 only if every output matches, 1 on a mismatch or a model over the board's budget.
    """
    from edgeml.hil.verify import BudgetError
    from edgeml.hil.verify import verify as run_verify
    from edgeml.targets import load_board

    board = load_board(target)
    show = not as_json and sys.stderr.isatty()
    stage = (lambda text: click.echo(f"{text} ...", err=True)) if not as_json else None
    try:
        with click.progressbar(length=count, label="verifying", file=sys.stderr) if show else _nullbar() as bar:
            report = run_verify(model, board, reference, count, seed, port, flash_board=not no_flash,
                                outdir=Path(outdir) if outdir else None, progress=bar.update, on_stage=stage,
                                profile=profile, calibration=calibration)
    except BudgetError as exc:
        click.echo(f"edgeml: {exc}", err=True)
        sys.exit(1)
    if as_json:
        data = report.to_json()
        if profile:
            data["op_ticks"] = [{"op": label, "ticks": ticks} for label, ticks in report.op_ticks]
        click.echo(json.dumps(data))
    else:
        _print_verify(report)
        if profile:
            _print_profile(report)
    sys.exit(0 if report.mismatched_inputs == 0 else 1)


def _print_profile(report, top: int = 10) -> None:
    total = sum(t for _, t in report.op_ticks) or 1
    unit = "instructions" if report.instructions_per_inference is not None else "ticks"
    scale = (report.instructions_per_inference / max(report.ticks_per_inference or 1, 1)
             if report.instructions_per_inference is not None else 1)
    click.echo(f"  the {min(top, len(report.op_ticks))} costliest of {len(report.op_ticks)} ops ({unit}):")
    for label, ticks in sorted(report.op_ticks, key=lambda lt: -lt[1])[:top]:
        short = label if len(label) <= 70 else label[:67] + "..."
        click.echo(f"    {short:<70} {round(ticks * scale):>12,}  {100 * ticks / total:5.1f}%")


def _print_verify(report) -> None:
    same = report.inputs - report.mismatched_inputs
    verdict = "bit-exact" if report.mismatched_inputs == 0 else "MISMATCH"
    click.echo(f"{report.model} on {report.target} ({report.numerics} numerics): {same}/{report.inputs} inputs "
               f"identical: {verdict}")
    stack = f", stack used {report.stack_used_bytes:,}" if report.stack_used_bytes is not None else ""
    click.echo(f"  flash {report.flash_bytes:,} bytes, RAM {report.ram_bytes:,} bytes (arena "
               f"{report.arena_bytes:,}{stack})")
    if report.instructions_per_inference is not None:
        click.echo(f"  {report.instructions_per_inference:,} instructions per inference (QEMU -icount)")
    if report.mismatched_inputs:
        shown = ", ".join(f"#{k}" for k in report.mismatches[:10])
        click.echo(f"  differing inputs: {shown}{' ...' if len(report.mismatches) > 10 else ''}")
        click.echo(f"  first divergent op: {report.first_divergent_op or 'none (outputs differ after the last op)'}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list.")
@user_errors
def targets(as_json: bool) -> None:
    """The boards edgeml targets: core, clock, RAM, arena budget, flash, UART, how each is flashed."""
    from edgeml.targets import all_boards, format_boards

    boards = all_boards()
    click.echo(json.dumps([b.to_json() for b in boards], indent=2) if as_json else format_boards(boards))


class _nullbar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, _n: int) -> None:
        pass


if __name__ == "__main__":
    main()

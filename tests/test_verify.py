"""`edgeml verify` and `edgeml flash` end to end: convert, build, start or flash, stream inputs, compare.

Tests marked `target` run on the board given by `--target` (default: the emulated qemu-mps2-an386)
and, for a real board, the already connected `--port`:

    pytest -m target                                          # QEMU
    pytest -m target --target nucleo-l4r5zi --port /dev/ttyACM0

The host target runs the same firmware natively, and under AddressSanitizer + UBSan.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from c_conformance import skip_without_c_kernels
from conftest import BUNDLED, zoo_path

from edgeml.api import load
from edgeml.compare import random_inputs
from edgeml.hil.client import PortBusyError, open_port
from edgeml.hil.device import open_device
from edgeml.hil.native import NativeSession, build_host_firmware
from edgeml.hil.qemu import QemuError
from edgeml.hil.verify import BudgetError, compile_for, convert_and_build, verify
from edgeml.inspect import describe
from edgeml.targets import all_boards, load_board

ARM_GCC = shutil.which("arm-none-eabi-gcc")
QEMU = shutil.which("qemu-system-arm")
needs_qemu = pytest.mark.skipif(QEMU is None or ARM_GCC is None, reason="qemu-system-arm or arm-none-eabi-gcc not "
                                "installed (apt-get install qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi)")
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")

HELLO = "tflm_examples/hello_world_int8.tflite"
# The models of the core issue (tests/test_models.py) and the bundled transformers, with the numerics
# each is verified in. Emulated instruction counts grow with MACs, so the largest are verified on
# fewer inputs in CI (tools/bench_firmware.py runs them all with n >= 20).
ZOO_MODELS = [
    "tflm_examples/hello_world_int8.tflite", "mlperf_tiny/ad01_int8.tflite", "tflm_examples/simple_add_model.tflite",
    "mlperf_tiny/model_ToyCar_quant_fullint_micro.tflite", "tflm_integration_tests/add1.tflite",
    "tflm_integration_tests/sub1.tflite", "tflm_integration_tests/leaky_relu1.tflite",
    "tflm_integration_tests/quantize0.tflite", "tflm_integration_tests/quantize1.tflite",
    "mlperf_tiny/kws_ref_model.tflite", "mlperf_tiny/vww_96_int8.tflite", "mlperf_tiny/pretrainedResnet_quant.tflite",
    "tflm_examples/micro_speech_quantized.tflite", "tflm_examples/mobilenet_v2_quantized_1x3x224x224.tflite",
    "tflm_integration_tests/pad0.tflite", "tflm_integration_tests/strided_slice0.tflite",
    "mlperf_tiny/pretrainedResnet_large_int8.tflite", "mlperf_tiny/str_ww_ref_model.tflite",
    "tflm_examples/person_detect.tflite", "tflm_integration_tests/conv0.tflite",
    "tflm_integration_tests/transpose_conv0.tflite",
]
BUNDLED_MODELS = ["tiny_transformer_int8.tflite", "tiny_transformer_gelu_int8.tflite"]
# Above these, one inference under QEMU takes seconds (it executes some 10^8 instructions per second,
# and its UART takes about 20 KB/s from the host): fewer inputs in CI.
MANY_MACS = 20_000_000
MANY_INPUT_BYTES = 16_384
FEW_INPUTS = 3


def model_path(name: str) -> Path:
    return BUNDLED / name if name in BUNDLED_MODELS else zoo_path(name)


def numerics_of(name: str) -> str:
    # TFLite Micro has no GELU kernel; person_detect is refused by ai-edge-litert (tests/test_models.py).
    return "tflm" if "person_detect" in name else "tflite"


def input_count(graph, full: int) -> int:
    input_bytes = sum(graph.tensors[i].nbytes for i in graph.inputs)
    return full if describe(graph)["macs"] < MANY_MACS and input_bytes <= MANY_INPUT_BYTES else FEW_INPUTS


def ids(names: list[str]) -> list[str]:
    return [Path(n).stem for n in names]


def assert_verified(report, count: int) -> None:
    assert report.inputs == count
    assert report.mismatched_inputs == 0, (f"{report.model} on {report.target}: {report.mismatched_inputs}/"
                                           f"{report.inputs} inputs differ, first at {report.first_divergent_op}")


@pytest.fixture(scope="module")
def board_and_port(request):
    return load_board(request.config.getoption("--target")), request.config.getoption("--port")


def require_target(board, port: str | None) -> None:
    if board.emulated and (QEMU is None or ARM_GCC is None):
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc not installed")
    if not board.emulated and board.name != "host" and port is None:
        pytest.skip(f"{board.name} is a real board: give its serial port with --port to run on it")


# ---------------------------------------------------------------- every model, on the target and the host


@pytest.mark.target
@pytest.mark.qemu
@pytest.mark.parametrize("name", ZOO_MODELS + BUNDLED_MODELS, ids=ids(ZOO_MODELS + BUNDLED_MODELS))
def test_model_verifies_on_the_target(name: str, board_and_port) -> None:
    board, port = board_and_port
    require_target(board, port)
    graph = load(model_path(name))
    skip_without_c_kernels(graph)
    try:
        compile_for(graph, board, numerics_of(name))
    except BudgetError as exc:
        pytest.skip(f"does not fit {board.name}: {exc}")
    count = input_count(graph, 20)
    report = verify(model_path(name), board, numerics_of(name), count, seed=1, port=port, profile=True)
    assert_verified(report, count)
    # Per-op ticks from the trace add up to about an untraced invocation (less the op table's loop;
    # data-dependent branches, e.g. clamps, make inputs differ slightly).
    op_total = sum(ticks for _, ticks in report.op_ticks)
    assert report.op_ticks and all(ticks >= 0 for _, ticks in report.op_ticks)
    if board.emulated:
        assert report.instructions_per_inference and report.instructions_per_inference > 0
        assert report.stack_used_bytes and 0 < report.stack_used_bytes < board.firmware.stack_bytes
        granularity = len(report.op_ticks)  # each op's count is read from the tick counter: +-1 tick
        assert (0.9 * report.ticks_per_inference - granularity <= op_total
                <= 1.02 * report.ticks_per_inference + granularity), (op_total, report.ticks_per_inference)


@needs_gcc
@pytest.mark.parametrize("name", ZOO_MODELS + BUNDLED_MODELS, ids=ids(ZOO_MODELS + BUNDLED_MODELS))
def test_model_verifies_on_the_host_target(name: str) -> None:
    graph = load(model_path(name))
    skip_without_c_kernels(graph)
    report = verify(model_path(name), load_board("host"), numerics_of(name), 20, seed=2)
    assert_verified(report, 20)
    assert report.instructions_per_inference is None  # wall-clock ticks on the host, not instructions


@needs_gcc
@pytest.mark.parametrize("name", ZOO_MODELS + BUNDLED_MODELS, ids=ids(ZOO_MODELS + BUNDLED_MODELS))
def test_host_firmware_is_clean_under_asan_and_ubsan(name: str, tmp_path: Path) -> None:
    from edgeml.runtime.executor import Runner

    graph = load(model_path(name))
    skip_without_c_kernels(graph)
    compiled = compile_for(graph, load_board("host"), numerics_of(name))
    from edgeml.codegen.model_c import generate

    exe = build_host_firmware(generate(compiled.program, compiled.plan, "model"), tmp_path, sanitize=True)
    runner = Runner(compiled.program, compiled.plan)
    session = NativeSession(exe, timeout=30.0, env={"ASAN_OPTIONS": "abort_on_error=0:exitcode=86",
                                                   "UBSAN_OPTIONS": "print_stacktrace=1:exitcode=87"})
    with session:
        client = session.client(expected_hash=graph.source_hash, invoke_timeout=120.0)
        for inputs in random_inputs(graph, 2, seed=3):
            outputs, _ = client.infer(inputs, trace=True)
            expected = runner.run(inputs).outputs
            assert [o.tobytes() for o in outputs] == [e.tobytes() for e in expected]
    stderr = session.stderr_text()
    assert session.returncode == 0, stderr
    assert "runtime error" not in stderr and "Sanitizer" not in stderr, stderr


REAL_BOARDS = [b.name for b in all_boards() if b.firmware is not None and not b.emulated]
BUILD_MODELS = ["tflm_examples/hello_world_int8.tflite", "mlperf_tiny/kws_ref_model.tflite"]


@pytest.mark.skipif(ARM_GCC is None, reason="arm-none-eabi-gcc not installed")
@pytest.mark.parametrize("name", BUILD_MODELS, ids=ids(BUILD_MODELS))
@pytest.mark.parametrize("target", REAL_BOARDS)
def test_model_builds_and_links_for_every_real_board(name: str, target: str, tmp_path: Path) -> None:
    """No board here to flash: the firmware is still built and linked within each board's budget."""
    board = load_board(target)
    graph = load(model_path(name))
    skip_without_c_kernels(graph)
    compiled = compile_for(graph, board, "tflite")
    info, build = convert_and_build(compiled, board, tmp_path / "project")
    assert build.elf.is_file() and info.target == target
    assert info.weight_bytes < build.flash_bytes <= board.flash_bytes
    assert info.arena_bytes < build.ram_bytes <= board.ram_bytes


# ---------------------------------------------------------------- the CLI


def edgeml(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgeml.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


@needs_qemu
@pytest.mark.zoo
def test_cli_verify_json_on_the_default_emulated_board() -> None:
    proc = edgeml("verify", str(zoo_path(HELLO)), "-n", "20", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    for key in ("model", "target", "inputs", "mismatched_inputs", "instructions_per_inference", "flash_bytes",
                "ram_bytes", "arena_bytes"):
        assert key in report, key
    assert report["target"] == "qemu-mps2-an386" and report["inputs"] == 20 and report["mismatched_inputs"] == 0
    # hello_world: three FULLY_CONNECTED over 1, 16, 16 inputs: some thousands of instructions.
    assert 1_000 < report["instructions_per_inference"] < 100_000
    assert report["flash_bytes"] > 684 and report["ram_bytes"] > report["arena_bytes"] > 0


@needs_qemu
@pytest.mark.zoo
def test_cli_flash_serves_qemu_for_verify(tmp_path: Path) -> None:
    """`edgeml flash` starts QEMU and serves its serial line; `edgeml verify --port` uses it, twice;
    a firmware of another model is refused, and a busy TCP port is a clear error."""
    model = str(zoo_path(HELLO))
    project = tmp_path / "hello"
    assert edgeml("convert", model, "-o", str(project)).returncode == 0
    assert edgeml("build", str(project)).returncode == 0
    server = subprocess.Popen([sys.executable, "-m", "edgeml.cli", "flash", str(project)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            assert line, f"edgeml flash ended: {server.stderr.read()}"
            match = re.search(r"serving the serial line on (socket://127\.0\.0\.1:\d+)", line)
            url = match.group(1) if match else None
        assert url, "edgeml flash did not print its socket:// address"
        for _ in range(2):
            proc = edgeml("verify", model, "-n", "5", "--port", url, "--json")
            assert proc.returncode == 0, proc.stderr
            assert json.loads(proc.stdout)["mismatched_inputs"] == 0
        other = edgeml("verify", str(zoo_path("mlperf_tiny/ad01_int8.tflite")), "-n", "1", "--port", url)
        assert other.returncode == 2
        assert "runs model 'hello_world_int8'" in other.stderr and "not the expected one" in other.stderr
        busy = edgeml("flash", str(project), "--port", url.rsplit(":", 1)[1], "--no-serve")
        assert busy.returncode == 2 and "is busy" in busy.stderr
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)
    assert "stopped" in server.stdout.read()


@pytest.mark.zoo
def test_cli_real_board_port_errors(tmp_path: Path) -> None:
    model = str(zoo_path(HELLO))
    proc = edgeml("verify", model, "--target", "nucleo-l4r5zi")
    assert proc.returncode == 2 and "pass its serial port with --port" in proc.stderr
    if ARM_GCC is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    proc = edgeml("verify", model, "--target", "nucleo-l4r5zi", "--port", "/dev/edgeml-no-such-port", "--no-flash")
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    # A port another program holds (exclusively) is busy.
    controller, device = pty.openpty()
    name = os.ttyname(device)
    held = open_port(name)
    try:
        proc = edgeml("verify", model, "--target", "nucleo-l4r5zi", "--port", name, "--no-flash")
        assert proc.returncode == 2 and "is busy" in proc.stderr
        with pytest.raises(PortBusyError):
            open_port(name)
    finally:
        held.close()
    # A board that never answers: a clear error within the client's retries, no hang.
    started = time.monotonic()
    proc = edgeml("verify", model, "--target", "nucleo-l4r5zi", "--port", name, "--no-flash", timeout=60)
    assert proc.returncode == 2 and "no valid reply to IDENTIFY" in proc.stderr, proc.stderr
    assert time.monotonic() - started < 45
    os.close(controller)
    os.close(device)


@needs_qemu
@pytest.mark.zoo
def test_model_over_the_budget_exits_1_before_building(tmp_path: Path) -> None:
    proc = edgeml("verify", str(zoo_path("tflm_examples/mobilenet_v2_quantized_1x3x224x224.tflite")), "--target",
                  "qemu-netduinoplus2", "-o", str(tmp_path / "p"))
    assert proc.returncode == 1, proc.stderr
    assert "does not fit" in proc.stderr
    assert not (tmp_path / "p").exists()


@needs_qemu
@pytest.mark.zoo
def test_qemu_dying_mid_run_is_a_clear_error() -> None:
    graph = load(zoo_path(HELLO))
    board = load_board("qemu-mps2-an386")
    compiled = compile_for(graph, board, "tflite")
    _, build = convert_and_build(compiled, board)
    batches = random_inputs(graph, 3, seed=0)
    with open_device(board, build.elf, expected_hash=graph.source_hash) as device:
        device.client.infer(batches[0])
        pid = int(device.description.split("pid ")[1].rstrip(")"))
        os.kill(pid, signal.SIGKILL)
        started = time.monotonic()
        with pytest.raises(QemuError, match="exited with code -9"):
            device.client.infer(batches[1])
        assert time.monotonic() - started < 10

"""Flash a real board through a debug probe: pyOCD when installed, else OpenOCD.

Neither runs here (no board is attached to this machine); the commands are the documented ones:
``pyocd flash -t <target> --format elf firmware.elf`` and
``openocd -f <interface> -f <target> -c "program firmware.elf verify reset exit"``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from edgeml.errors import EdgemlError
from edgeml.targets import Board

FLASH_TIMEOUT_S = 120


class FlashError(EdgemlError):
    """No probe tool, no probe, or the probe tool failed."""


def flash_command(board: Board, elf: Path) -> list[str]:
    """The command that programs ELF into BOARD with the first probe tool found on PATH."""
    method = board.flash_method
    if method.kind != "probe":
        raise FlashError(f"{board.name} is not flashed through a probe ({method.kind})")
    if method.pyocd_target and shutil.which("pyocd"):
        return ["pyocd", "flash", "-t", method.pyocd_target, "--format", "elf", str(elf)]
    if method.openocd and shutil.which("openocd"):
        configs = [arg for cfg in method.openocd for arg in ("-f", cfg)]
        return ["openocd", *configs, "-c", f"program {elf} verify reset exit"]
    pack = f" (then `pyocd pack install {method.pyocd_target}`)" if method.pyocd_pack else ""
    raise FlashError(f"cannot flash {board.name}: neither pyocd nor openocd is on PATH; install one "
                     f"(`pip install pyocd`{pack}, or `apt-get install openocd`) and connect the {method.probe}")


def flash(board: Board, elf: Path) -> str:
    """Program the board; returns the tool's output. Raises FlashError with that output on failure."""
    cmd = flash_command(board, elf)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=FLASH_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise FlashError(f"{cmd[0]} did not finish flashing {board.name} in {FLASH_TIMEOUT_S} s: "
                         "is the probe connected and the board powered?") from None
    if proc.returncode != 0:
        raise FlashError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-2000:]}")
    return proc.stdout + proc.stderr

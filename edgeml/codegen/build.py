"""`edgeml build`: run make in a generated project and read the image's real sizes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from edgeml.codegen.project import HOST_TARGET, ProjectInfo
from edgeml.errors import EdgemlError

TOOLCHAIN_PACKAGES = {"arm-none-eabi-gcc": "gcc-arm-none-eabi libnewlib-arm-none-eabi", "gcc": "gcc", "make": "make"}


@dataclass(frozen=True)
class BuildResult:
    elf: Path
    text_bytes: int  # code and const data (weights): flash
    data_bytes: int  # initialised data: flash and RAM
    bss_bytes: int  # zeroed RAM: the arena, the stack and the runtime's buffers

    @property
    def flash_bytes(self) -> int:
        return self.text_bytes + self.data_bytes

    @property
    def ram_bytes(self) -> int:
        return self.data_bytes + self.bss_bytes


def require_tool(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        package = TOOLCHAIN_PACKAGES.get(tool, tool)
        raise EdgemlError(f"`{tool}` not found on PATH: install it (apt-get install {package}), "
                          "or run tools/bootstrap.sh which installs what edgeml needs")
    return path


def build_project(outdir: Path, jobs: int | None = None, extra_cflags: str = "",
                  extra_ldflags: str = "") -> BuildResult:
    outdir = Path(outdir)
    info = ProjectInfo.read(outdir)
    host = info.target == HOST_TARGET
    require_tool("make")
    require_tool("gcc" if host else "arm-none-eabi-gcc")
    cmd = ["make", "-C", str(outdir), f"-j{jobs or os.cpu_count() or 1}", "all"]
    if extra_cflags:
        cmd.append(f"EXTRA_CFLAGS={extra_cflags}")
    if extra_ldflags:
        cmd.append(f"EXTRA_LDFLAGS={extra_ldflags}")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise EdgemlError(f"{outdir}: build for {info.target} failed:\n{_explain(proc.stderr)}")
    elf = outdir / "build" / info.elf_name
    return BuildResult(elf, *image_sizes(elf, host))


def image_sizes(elf: Path, host: bool) -> tuple[int, int, int]:
    size = require_tool("size" if host else "arm-none-eabi-size")
    proc = subprocess.run([size, "-B", str(elf)], capture_output=True, text=True, check=True)
    fields = proc.stdout.splitlines()[1].split()
    return int(fields[0]), int(fields[1]), int(fields[2])


def _explain(stderr: str) -> str:
    """gcc's output, with the linker's region overflow turned into the budget it means."""
    text = stderr.strip()
    overflow = re.search(r"region `(\w+)' overflowed by (\d+) bytes", text)
    if overflow:
        region, over = overflow.groups()
        what = "flash (code + weights)" if "FLASH" in region.upper() or "ROM" in region.upper() else "RAM"
        text = (f"the image does not fit the board's {what}: region {region} overflowed by {int(over):,} bytes "
                f"(try `edgeml plan` to see where the memory goes, or a board with more memory)\n{text[-2000:]}")
    return text[-4000:]

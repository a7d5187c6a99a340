"""The portable C99 runtime (installed as data of the package ``edgeml.firmware``).

include/ holds the model ABI, requantization and port interfaces; src/ the runtime, serial protocol
and main loop; kernels/ one edg_<op>.c/.h pair per operator. ``FIRMWARE_DIR`` locates them in the
repository and in an installed wheel alike.
"""

from importlib import resources
from pathlib import Path

FIRMWARE_DIR = Path(str(resources.files(__name__)))
INCLUDE_DIR = FIRMWARE_DIR / "include"
SOURCE_DIR = FIRMWARE_DIR / "src"
KERNEL_DIR = FIRMWARE_DIR / "kernels"

"""Hardware in the loop: the serial protocol, board and QEMU sessions, verify."""

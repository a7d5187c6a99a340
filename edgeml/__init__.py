"""edgeml: int8 models for microcontrollers, bit-exact with the host."""

__version__ = "0.1.0"

"""The exceptions edgeml raises for bad input. The CLI prints their message, never a traceback."""


class EdgemlError(Exception):
    """Base class: a user-facing error whose message says what is wrong and what to do."""


class ModelFormatError(EdgemlError):
    """A model file is missing, truncated, corrupted or not of the expected format."""


class UnsupportedOpError(EdgemlError):
    """A model uses operators (or operator variants) that edgeml cannot run."""


class GraphError(EdgemlError):
    """The graph violates an IR invariant (raised by validation after a pass)."""


class InputError(EdgemlError):
    """An input tensor given by the user has the wrong shape, dtype or file format."""


class ReferenceError_(EdgemlError):
    """A reference runtime refused or failed to run a model."""

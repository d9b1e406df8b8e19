"""The error family: every problem varimp reports derives from :class:`VarImpError`."""

from __future__ import annotations


class VarImpError(Exception):
    """Base class of every error raised by varimp."""


class InputError(VarImpError, ValueError):
    """Bad ``X``, ``y`` or options: the message says what was expected and what was received."""


class UnsupportedModelError(VarImpError, TypeError):
    """The method cannot read this model; the message names the layer or type it could not read."""


class ModelError(VarImpError, RuntimeError):
    """The model itself failed or misbehaved when varimp called it (raised, wrong shape, NaN)."""


def describe(value: object) -> str:
    """A short description of a received value for error messages."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        dtype = getattr(value, "dtype", None)
        return f"{type(value).__name__} of shape {tuple(shape)} and dtype {dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"

"""One short module per method family, each built on an adapter and, where it applies, an engine."""

from .derivatives import partial_derivatives
from .profile import profile
from .weights import connection_weights, garson

__all__ = ["connection_weights", "garson", "partial_derivatives", "profile"]

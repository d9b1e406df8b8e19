"""The deep-learning frameworks, imported where varimp first needs them, never at ``import varimp``.

Keras 3 reads its backend from the environment variable ``KERAS_BACKEND`` once, when ``keras``
is first imported. When varimp is the first to import it and the user has not set the variable,
varimp chooses the torch backend (the one its own dependencies provide); a user's choice, or a
Keras already imported, is left as it is.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

#: The Keras backend varimp chooses when it imports Keras first and none is set.
DEFAULT_KERAS_BACKEND = "torch"


def import_keras() -> ModuleType:
    """``keras``, imported on the torch backend unless the user chose another.

    ``KERAS_BACKEND`` is set to :data:`DEFAULT_KERAS_BACKEND` only when it is unset and Keras is
    not imported yet; otherwise this is ``import keras``.
    """
    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", DEFAULT_KERAS_BACKEND)
    import keras

    return keras


__all__ = ["DEFAULT_KERAS_BACKEND", "import_keras"]

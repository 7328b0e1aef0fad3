"""Deprecated alias: the GGUF converter moved to :mod:`psychometrika.models.convert`.

``import psychometrika.tools.convert`` keeps working (it is the same module object) and warns once.
"""

import sys
import warnings

from ..models import convert as _moved

warnings.warn("psychometrika.tools.convert moved to psychometrika.models.convert", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved

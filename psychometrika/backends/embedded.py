"""Deprecated alias: the embedded model's location moved to :mod:`psychometrika.models.embedded`.

``import psychometrika.backends.embedded`` keeps working (it is the same module object) and warns once.
"""

import sys
import warnings

from ..models import embedded as _moved

warnings.warn("psychometrika.backends.embedded moved to psychometrika.models.embedded", DeprecationWarning,
              stacklevel=2)
sys.modules[__name__] = _moved

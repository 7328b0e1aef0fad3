"""Deprecated alias: the inference benchmark moved to :mod:`psychometrika.tools.bench`.

``import psychometrika.backends.bench`` keeps working (it is the same module object) and warns once.
"""

import sys
import warnings

from ..tools import bench as _moved

warnings.warn("psychometrika.backends.bench moved to psychometrika.tools.bench", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved

"""``ember.nn``: modules, layers, losses, ``functional``, ``init`` and ``utils``."""
import importlib.util as _util

from ember.nn.parameter import Buffer, Parameter, UninitializedParameter  # noqa: F401
from ember.nn.modules import *  # noqa: F401,F403
from ember.nn import functional  # noqa: F401

if _util.find_spec('ember.nn.init') is not None:
    from ember.nn import init  # noqa: F401
if _util.find_spec('ember.nn.utils') is not None:
    from ember.nn import utils  # noqa: F401

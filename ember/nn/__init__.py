"""``ember.nn``: modules, layers, losses, ``functional``, ``init`` and ``utils``."""
from ember.nn.parameter import Buffer, Parameter, UninitializedParameter  # noqa: F401
from ember.nn.modules import *  # noqa: F401,F403
from ember.nn.modules import Module, ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential  # noqa: F401

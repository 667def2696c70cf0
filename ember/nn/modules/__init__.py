"""Layer classes; each module file holds one family."""
from ember.nn.modules.module import Module  # noqa: F401
from ember.nn.modules.container import (ModuleDict, ModuleList, ParameterDict, ParameterList,  # noqa: F401
                                        Sequential)

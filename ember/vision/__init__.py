"""``ember.vision``: the torchvision of ember (datasets, transforms, io, utils, models)."""
import importlib.util

from ember.vision import datasets  # noqa: F401
from ember.vision import io  # noqa: F401
from ember.vision import transforms  # noqa: F401
from ember.vision import utils  # noqa: F401

if importlib.util.find_spec("ember.vision.models") is not None:
    from ember.vision import models  # noqa: F401

"""``ember.vision``: the torchvision of ember (datasets, transforms, models)."""
from ember.vision import datasets  # noqa: F401

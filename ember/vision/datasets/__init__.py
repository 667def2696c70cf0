"""Vision datasets."""
from ember.vision.datasets.digits import Digits  # noqa: F401

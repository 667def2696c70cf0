"""``ember.vision.models``: torchvision's model zoo, with identical ``state_dict`` keys and shapes.

So ``resnet18(weights='IMAGENET1K_V1')`` downloads (once, into ``$TORCH_HOME/hub/checkpoints``)
and loads torchvision's published file, and ``weights='my_resnet.pth'`` loads a local state dict.
"""
from ember.vision.models._api import (Weights, WeightsEnum, get_model, get_model_builder,  # noqa: F401
                                      get_model_weights, get_weight, list_models, register_model)
from ember.vision.models._hub import load_state_dict_from_url  # noqa: F401
from ember.vision.models.alexnet import *  # noqa: F401,F403
from ember.vision.models.lenet import *  # noqa: F401,F403
from ember.vision.models.mobilenetv2 import *  # noqa: F401,F403
from ember.vision.models.resnet import *  # noqa: F401,F403
from ember.vision.models.squeezenet import *  # noqa: F401,F403
from ember.vision.models.vgg import *  # noqa: F401,F403

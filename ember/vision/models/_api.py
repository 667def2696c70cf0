"""Pretrained weights and the model registry (torchvision's ``models._api``).

Each architecture has a ``WeightsEnum`` (``ResNet18_Weights``) whose members are ``Weights``: the
URL of a published file, the inference transforms, and metadata (categories, number of parameters,
accuracy).  A builder's ``weights=`` accepts a member, its name as a string (``"IMAGENET1K_V1"``,
``"ResNet18_Weights.IMAGENET1K_V1"`` or ``"DEFAULT"``), or — an ember addition — the path of a local
file holding a state dict saved with ``ember.save`` or ``torch.save``.  Since every model's
``state_dict`` keys and shapes equal torchvision's, torchvision's files load unchanged.
"""
import enum
import fnmatch
import functools
import inspect
import os
import typing
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Dict

from ember.vision.models._hub import load_state_dict_from_url

__all__ = ['Weights', 'WeightsEnum', 'register_model', 'get_model', 'get_model_builder', 'get_model_weights',
           'get_weight', 'list_models']


@dataclass
class Weights:
    """One set of published weights.

    Args:
        url: where the state-dict file is published (its name carries a SHA-256 prefix).
        transforms: a callable returning the inference transform (``weights.transforms()``).
        meta: metadata: ``categories``, ``num_params``, ``min_size``, ``_metrics``, ``recipe``, ...
    """
    url: str
    transforms: Callable
    meta: Dict[str, Any]

    def __eq__(self, other):
        if not isinstance(other, Weights):
            return NotImplemented
        if self.url != other.url or self.meta != other.meta:
            return False
        a, b = self.transforms, other.transforms
        if isinstance(a, functools.partial) and isinstance(b, functools.partial):
            return a.func == b.func and a.args == b.args and a.keywords == b.keywords
        return a == b


class WeightsEnum(enum.Enum):
    """Base of the per-architecture weight enums; members are :class:`Weights`."""

    @classmethod
    def verify(cls, obj):
        """Returns ``obj`` as a member of this enum (it may be a member, a name string, or None)."""
        if obj is not None:
            if type(obj) is str:
                name = obj.replace(cls.__name__ + '.', '')
                if name not in cls.__members__:
                    raise ValueError(f"Unknown weights '{obj}' for {cls.__name__}; available: "
                                     f"{', '.join(cls.__members__)}")
                obj = cls[name]
            elif not isinstance(obj, cls):
                raise TypeError(f'Invalid Weight class provided; expected {cls.__name__} but received '
                                f'{obj.__class__.__name__}.')
        return obj

    def get_state_dict(self, *args, **kwargs):
        """Downloads (once) and loads the state dict; arguments go to ``load_state_dict_from_url``."""
        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self):
        return f'{self.__class__.__name__}.{self._name_}'

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


# ----------------------------------------------------------------------------- weights= in the builders

def _is_path(obj):
    return isinstance(obj, os.PathLike) or (isinstance(obj, str) and (os.path.sep in obj or os.path.isfile(obj)))


def _resolve_weights(weights, enum_cls):
    """``weights=`` as a member of ``enum_cls``, a local file path (str), or None."""
    if weights is None or isinstance(weights, enum_cls):
        return weights
    if isinstance(weights, str):
        name = weights.replace(enum_cls.__name__ + '.', '')
        if name in enum_cls.__members__:
            return enum_cls[name]
    if _is_path(weights):
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"weights file '{path}' does not exist")
        return path
    return enum_cls.verify(weights)


def _ovewrite_named_param(kwargs, param, new_value):
    """Sets ``kwargs[param]`` to what the weights require, refusing a conflicting user value."""
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


def _handle_pretrained(weights, kwargs, enum_cls):
    """The deprecated ``pretrained=True`` means ``weights=<enum>.DEFAULT`` (with a warning, like torchvision)."""
    pretrained = kwargs.pop('pretrained', None)
    if pretrained is None:
        return weights
    new = enum_cls.DEFAULT if pretrained else None
    warnings.warn("The parameter 'pretrained' is deprecated, please use 'weights' instead. The current behavior "
                  f"is equivalent to passing `weights={new!r}`.", UserWarning, stacklevel=3)
    return new


def _prepare_weights(weights, kwargs, enum_cls):
    """Resolves ``weights`` and fixes ``num_classes`` (and the like) to what published weights need."""
    weights = _resolve_weights(_handle_pretrained(weights, kwargs, enum_cls), enum_cls)
    if isinstance(weights, WeightsEnum):
        _ovewrite_named_param(kwargs, 'num_classes', len(weights.meta['categories']))
    return weights


def _load_weights(model, weights, progress):
    """Loads resolved ``weights`` (an enum member or a file path) into ``model``; returns the model."""
    if weights is None:
        return model
    if isinstance(weights, WeightsEnum):
        state = weights.get_state_dict(progress=progress, check_hash=True)
    else:
        import ember
        state = ember.load(weights, map_location='cpu', weights_only=True)
        if isinstance(state, dict) and 'state_dict' in state and isinstance(state['state_dict'], dict):
            state = state['state_dict']     # a training checkpoint wrapping the state dict
    model.load_state_dict(state)
    return model


# ----------------------------------------------------------------------------- the registry

BUILTIN_MODELS = {}


def register_model(name=None):
    """Decorator adding a model builder to the registry under ``name`` (default: the function's name)."""
    def wrapper(fn):
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn
    return wrapper


def list_models(module=None, include=None, exclude=None):
    """Sorted names of the registered models, optionally only those of ``module`` and filtered by
    ``fnmatch`` patterns (``include`` keeps matches of any pattern, ``exclude`` then drops them)."""
    names = [k for k, fn in BUILTIN_MODELS.items()
             if module is None or fn.__module__.rsplit('.', 1)[0] == module.__name__
             or fn.__module__ == module.__name__]
    if include:
        patterns = [include] if isinstance(include, str) else include
        names = [n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)]
    if exclude:
        patterns = [exclude] if isinstance(exclude, str) else exclude
        names = [n for n in names if not any(fnmatch.fnmatch(n, p) for p in patterns)]
    return sorted(names)


def get_model_builder(name):
    """The builder function registered as ``name``."""
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f'Unknown model {name}') from None


def get_model(name, **config):
    """Builds the registered model ``name``; ``config`` goes to its builder (``weights=``, ``num_classes=``...)."""
    return get_model_builder(name)(**config)


def _enum_of_annotation(annotation):
    for cls in (annotation, *typing.get_args(annotation)):
        if inspect.isclass(cls) and issubclass(cls, WeightsEnum):
            return cls
    return None


def get_model_weights(name):
    """The ``WeightsEnum`` class of a model, given its name or its builder."""
    fn = get_model_builder(name) if isinstance(name, str) else name
    param = inspect.signature(fn).parameters.get('weights')
    cls = None if param is None else _enum_of_annotation(param.annotation)
    if cls is None:
        raise ValueError("The weight enum for the specific method couldn't be retrieved.")
    return cls


def get_weight(name):
    """The weights named ``"<EnumName>.<MEMBER>"``, e.g. ``get_weight("ResNet50_Weights.IMAGENET1K_V2")``."""
    try:
        enum_name, value_name = name.split('.')
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    for fn in BUILTIN_MODELS.values():
        try:
            cls = get_model_weights(fn)
        except ValueError:
            continue
        if cls.__name__ == enum_name:
            return cls[value_name]
    raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")



def _imagenet_weights(url, num_params, acc1, acc5, *, recipe, crop_size=224, resize_size=256, min_size=(1, 1),
                      docs=None, **meta):
    """A :class:`Weights` entry for an ImageNet-1k classifier (bilinear resize, centre crop, ImageNet stats)."""
    from ember.vision.models._meta import _IMAGENET_CATEGORIES
    from ember.vision.models._presets import ImageClassification
    meta = {'min_size': min_size, 'categories': _IMAGENET_CATEGORIES, 'num_params': num_params, 'recipe': recipe,
            '_metrics': {'ImageNet-1K': {'acc@1': acc1, 'acc@5': acc5}}, **meta}
    if docs is not None:
        meta['_docs'] = docs
    return Weights(url=url, transforms=functools.partial(ImageClassification, crop_size=crop_size,
                                                         resize_size=resize_size), meta=meta)

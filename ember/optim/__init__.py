"""Optimizers and learning-rate schedulers, with PyTorch's ``torch.optim`` API."""
from ember.optim.optimizer import Optimizer
from ember.optim.sgd import SGD
from ember.optim.adam import Adam
from ember.optim.adamw import AdamW
from ember.optim.adagrad import Adagrad
from ember.optim.adadelta import Adadelta
from ember.optim.rmsprop import RMSprop
from ember.optim.adamax import Adamax
from ember.optim.nadam import NAdam
from ember.optim.radam import RAdam
from ember.optim.asgd import ASGD
from ember.optim.lbfgs import LBFGS
from ember.optim import lr_scheduler

__all__ = ['Optimizer', 'SGD', 'Adam', 'AdamW', 'Adagrad', 'Adadelta', 'RMSprop', 'Adamax', 'NAdam', 'RAdam', 'ASGD',
           'LBFGS', 'lr_scheduler']

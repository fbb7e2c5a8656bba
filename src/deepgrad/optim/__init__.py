"""``deepgrad.optim``: torch's optimizers and learning-rate schedulers.

Every optimizer updates parameters in place on their raw arrays (no graph, one Python
loop over the parameters per step) in the operation order of torch's for-loop
implementation, so a run reproduces torch's trajectory to floating-point rounding.
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "lr_scheduler"]

"""``deepgrad.nn``: modules, parameters, containers, layers, losses, ``functional``,
``init`` and ``utils``, with torch's names and semantics."""

from . import functional, init, parameter, utils  # noqa: F401
from .modules import *  # noqa: F401,F403 - every layer class, as torch.nn
from .modules.hooks import (  # noqa: F401
    register_module_forward_hook,
    register_module_forward_pre_hook,
)
from .modules.module import Module  # noqa: F401
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401

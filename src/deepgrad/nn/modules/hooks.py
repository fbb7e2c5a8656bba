"""Hooks of ``Module`` (mixed into it as ``HooksMixin``): registration, the call path that
runs forward (pre-)hooks, removable handles, the global module hooks, and the identity
graph nodes that give ``register_full_backward_hook`` the gradients with respect to a
module's inputs and outputs.
"""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict

from ..._tensor import Tensor
from ...autograd.function import Function

__all__ = ["RemovableHandle", "HooksMixin", "register_module_forward_pre_hook",
           "register_module_forward_hook"]

# Hooks that run for every module (torch.nn.modules.module.register_module_forward_hook).
global_forward_pre_hooks: OrderedDict = OrderedDict()
global_forward_hooks: OrderedDict = OrderedDict()


class RemovableHandle:
    """Returned by every ``register_*_hook``: ``handle.remove()`` unregisters the hook (also
    usable as a context manager).

    Args:
        hooks_dict: the dict of hooks, keyed by handle id.
        extra_dict: dicts (or one dict) whose entry of the same id goes away too.
    """

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        if extra_dict is None:
            extra_dict = []
        elif isinstance(extra_dict, dict):
            extra_dict = [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self) -> None:
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            hooks = ref()
            if hooks is not None and self.id in hooks:
                del hooks[self.id]

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def add_hook(hooks: OrderedDict, hook, prepend: bool = False, extra_dict=None):
    """Store ``hook`` under a fresh handle id (first when ``prepend``); return the handle."""
    handle = RemovableHandle(hooks, extra_dict=extra_dict)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_module_forward_pre_hook(hook) -> RemovableHandle:
    """Register ``hook(module, args)`` to run before every module's forward."""
    return add_hook(global_forward_pre_hooks, hook)


def register_module_forward_hook(hook) -> RemovableHandle:
    """Register ``hook(module, args, output)`` to run after every module's forward."""
    return add_hook(global_forward_hooks, hook)


# ---------------------------------------------------------------- full backward hooks

class _Identity(Function):
    """Passes tensors through unchanged; its backward hands their gradients to ``on_grads``,
    which may replace them. One node covers all of a module's inputs (or outputs), so the
    hook sees every gradient at once."""

    raw = True

    @staticmethod
    def forward(ctx, *arrays, on_grads):
        ctx.on_grads = on_grads
        ctx.set_materialize_grads(False)
        return arrays if len(arrays) > 1 else arrays[0]

    @staticmethod
    def backward(ctx, *grads):
        return tuple(ctx.on_grads(tuple(grads)))


class BackwardHook:
    """Runs a module's full backward (pre-)hooks for one forward call.

    The outputs go through one identity node whose backward records ``grad_output`` (after
    the pre-hooks, which may replace it); the inputs go through another whose backward calls
    ``hook(module, grad_input, grad_output)``, which may return a new ``grad_input``.
    """

    def __init__(self, module, hooks, pre_hooks) -> None:
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_positions = None

    def setup_input_hook(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not positions:
            return args
        self.input_positions = positions
        wrapped = _Identity.apply(*[args[i] for i in positions], on_grads=self._input_grads)
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        args = list(args)
        for i, t in zip(positions, wrapped, strict=True):
            args[i] = t
        return tuple(args)

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        outputs = (result,) if single else result
        if not isinstance(outputs, tuple):
            return result
        positions = [i for i, o in enumerate(outputs)
                     if isinstance(o, Tensor) and o.requires_grad]
        if not positions:
            return result
        self.n_outputs = len(outputs)
        self.output_positions = positions
        wrapped = _Identity.apply(*[outputs[i] for i in positions], on_grads=self._output_grads)
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        outputs = list(outputs)
        for i, t in zip(positions, wrapped, strict=True):
            outputs[i] = t
        return outputs[0] if single else tuple(outputs)

    def _pack(self, positions, values, size) -> tuple:
        packed = [None] * size
        for i, v in zip(positions, values, strict=True):
            packed[i] = v
        return tuple(packed)

    def _output_grads(self, grads: tuple) -> tuple:
        grad_outputs = self._pack(self.output_positions, grads, self.n_outputs)
        for hook in self.pre_hooks.values():
            new = hook(self.module, grad_outputs)
            if new is not None:
                new = new if isinstance(new, tuple) else (new,)
                if len(new) != len(grad_outputs):
                    raise RuntimeError("Backward pre hook returned an invalid number of "
                                       f"grad_output, got {len(new)}, but expected "
                                       f"{len(grad_outputs)}")
                grad_outputs = new
        self.grad_outputs = grad_outputs
        if self.input_positions is None:  # no input needs a gradient: hooks run now
            for hook in self.hooks.values():
                result = hook(self.module, (None,) * self.n_inputs, grad_outputs)
                if result is not None and not (isinstance(result, tuple)
                                               and all(r is None for r in result)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
        return tuple(grad_outputs[i] for i in self.output_positions)

    def _input_grads(self, grads: tuple) -> tuple:
        grad_inputs = self._pack(self.input_positions, grads, self.n_inputs)
        for hook in self.hooks.values():
            new = hook(self.module, grad_inputs, self.grad_outputs)
            if new is not None:
                new = new if isinstance(new, tuple) else (new,)
                if len(new) != len(grad_inputs):
                    raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                       f"got {len(new)}, but expected {len(grad_inputs)}")
                grad_inputs = new
        self.grad_outputs = None
        return tuple(grad_inputs[i] for i in self.input_positions)


# ---------------------------------------------------------------- module hooks

class HooksMixin:
    """The hook half of ``Module``: registration and the slow call path that runs hooks
    (``Module.__call__`` only takes it when some hook is registered)."""

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        for hook_id, hook in itertools.chain(global_forward_pre_hooks.items(),
                                             self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result}.")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward_hook = None
        if self._backward_hooks or self._backward_pre_hooks:
            backward_hook = BackwardHook(self, self._backward_hooks,
                                                self._backward_pre_hooks)
            args = backward_hook.setup_input_hook(args)
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            for hook_id, hook in self._forward_hooks.items():
                if hook_id in self._forward_hooks_always_called:
                    hook(self, args, kwargs, None) if hook_id in (
                        self._forward_hooks_with_kwargs) else hook(self, args, None)
            raise
        for hook_id, hook in itertools.chain(global_forward_hooks.items(),
                                             self._forward_hooks.items()):
            if hook_id in self._forward_hooks_with_kwargs:
                result = hook(self, args, kwargs, output)
            else:
                result = hook(self, args, output)
            if result is not None:
                output = result
        if backward_hook is not None:
            output = backward_hook.setup_output_hook(output)
        return output

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False):
        """Call ``hook(module, args)`` (or ``hook(module, args, kwargs)`` with ``with_kwargs``)
        before ``forward``; a non-None result replaces the arguments. Returns a handle."""
        handle = add_hook(self._forward_pre_hooks, hook, prepend,
                          extra_dict=self._forward_pre_hooks_with_kwargs)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        return handle

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False):
        """Call ``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
        ``with_kwargs``) after ``forward``; a non-None result replaces the output."""
        handle = add_hook(self._forward_hooks, hook, prepend,
                          extra_dict=[self._forward_hooks_with_kwargs,
                                      self._forward_hooks_always_called])
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        return handle

    def register_full_backward_hook(self, hook, prepend: bool = False):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to
        the module's inputs are computed; it may return a new ``grad_input``."""
        return add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False):
        """Call ``hook(module, grad_output)`` when the gradients with respect to the module's
        outputs are known; it may return a new ``grad_output``."""
        return add_hook(self._backward_pre_hooks, hook, prepend)

"""Grad-mode switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

Each works as a context manager and as a decorator, like torch's. The flag lives in a
module attribute (``state.enabled``) that the op dispatch path reads directly.
"""

from __future__ import annotations

import functools


class _State:
    __slots__ = ("enabled",)

    def __init__(self):
        self.enabled = True


state = _State()


def is_grad_enabled() -> bool:
    """True when ops record a graph for backward."""
    return state.enabled


class _GradMode:
    """Base: sets the flag on enter, restores the previous value on exit."""

    mode = True

    def __enter__(self):
        self.previous = state.enabled
        state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        state.enabled = self.previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__._fresh(self):
                return func(*args, **kwargs)

        return wrapper

    def _fresh(self):
        return self.__class__()


class no_grad(_GradMode):  # noqa: N801 - torch's name
    """Context manager / decorator: ops inside build no graph.

    Example:
        >>> with no_grad():
        ...     y = x * 2   # y.requires_grad is False
    """

    mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Context manager / decorator: re-enables graph building inside ``no_grad``."""

    mode = True


class set_grad_enabled(_GradMode):  # noqa: N801
    """Set grad mode to ``mode``; takes effect at once, and restores on exit when used in ``with``."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self.previous = state.enabled
        state.enabled = self.mode

    def __enter__(self):
        return self

    def _fresh(self):
        return set_grad_enabled(self.mode)


class inference_mode(_GradMode):  # noqa: N801
    """Like ``no_grad`` (deepgrad has no separate inference tensors); ``mode=False`` is a no-op."""

    def __init__(self, mode: bool = True):
        self.mode = not mode

    def __call__(self, func=None):
        if func is None or isinstance(func, bool):
            return inference_mode(True if func is None else func)
        return super().__call__(func)

    def _fresh(self):
        return inference_mode(not self.mode)

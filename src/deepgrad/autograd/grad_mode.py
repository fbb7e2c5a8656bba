"""Grad-mode switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

Each works as a context manager and as a decorator (``@no_grad()`` and bare ``@no_grad``),
like torch's; decorated generator functions run every step under the mode. The flag lives
in a module attribute (``state.enabled``) that the op dispatch path reads directly. Like
deepgrad's whole graph, the flag is process-wide, not per thread.
"""

from __future__ import annotations

import functools
import inspect


class _State:
    __slots__ = ("enabled", "inference")

    def __init__(self):
        self.enabled = True
        self.inference = False


state = _State()


def is_grad_enabled() -> bool:
    """True when ops record a graph for backward.

    Example:
        >>> with deepgrad.no_grad():
        ...     deepgrad.is_grad_enabled()
        False
    """
    return state.enabled


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()``."""
    return state.inference


class _GradMode:
    """Base: sets the flag on enter, restores the previous value on exit (even on error).

    Subclasses set ``mode`` (the grad flag inside) and may set ``inference``.
    """

    mode = True
    inference = None  # None: leave the inference flag alone

    def __init__(self):
        self._previous = []  # a stack, so one instance can be entered re-entrantly

    def __enter__(self):
        self._previous.append((state.enabled, state.inference))
        state.enabled = self.mode
        if self.inference is not None:
            state.inference = self.inference
        return self

    def __exit__(self, *exc):
        state.enabled, state.inference = self._previous.pop()
        return False

    def clone(self):
        """A fresh manager with the same setting (one per decorated call)."""
        return self.__class__()

    def __call__(self, func):
        if inspect.isgeneratorfunction(func):
            return self._wrap_generator(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def _wrap_generator(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            # The mode holds while the generator runs, not while its caller does.
            generator = func(*args, **kwargs)
            try:
                with self.clone():
                    response = generator.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.clone():
                            generator.close()
                        raise
                    except BaseException as error:  # noqa: BLE001 - forwarded into the generator
                        with self.clone():
                            response = generator.throw(error)
                    else:
                        with self.clone():
                            response = generator.send(request)
            except StopIteration as stop:
                return stop.value

        return wrapper


class _NoParamMode(_GradMode):
    """A mode that takes no argument, so it may decorate bare: ``@no_grad``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamMode):  # noqa: N801 - torch's name
    """Context manager / decorator: ops inside record no graph (outputs don't require grad).

    Use it for evaluation and for updating parameters in place.

    Example:
        >>> x = deepgrad.ones(2, requires_grad=True)
        >>> with deepgrad.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    mode = False


class enable_grad(_NoParamMode):  # noqa: N801
    """Context manager / decorator: records a graph again, e.g. inside ``no_grad``.

    Example:
        >>> with deepgrad.no_grad():
        ...     with deepgrad.enable_grad():
        ...         y = x * 2   # y.requires_grad is True
    """

    mode = True


class set_grad_enabled(_GradMode):  # noqa: N801
    """Turn graph recording on or off.

    Called plainly (``set_grad_enabled(False)``) it takes effect at once; in a ``with``
    block or as a decorator it restores the previous mode afterwards.

    Args:
        mode: True to record graphs, False not to.

    Example:
        >>> with deepgrad.set_grad_enabled(is_train):
        ...     loss = model(x)
    """

    def __init__(self, mode: bool):
        super().__init__()
        self.mode = bool(mode)
        self._on_create = state.enabled  # the mode this call replaced
        state.enabled = self.mode

    def __enter__(self):
        # The constructor already switched the mode: the first entry restores what it found.
        if self._on_create is None:
            self._previous.append((state.enabled, state.inference))
        else:
            self._previous.append((self._on_create, state.inference))
            self._on_create = None
        state.enabled = self.mode
        return self

    def __call__(self, func):
        if self._on_create is not None:  # as a decorator it must not switch the mode now
            state.enabled = self._on_create
            self._on_create = None
        return super().__call__(func)

    def clone(self):
        return set_grad_enabled(self.mode)


class inference_mode(_GradMode):  # noqa: N801
    """Context manager / decorator for inference: like ``no_grad`` (deepgrad has no
    separate inference tensors). ``inference_mode(False)`` enables grad inside, as torch.

    Args:
        mode: True (default) to disable graph recording.

    Example:
        >>> @deepgrad.inference_mode()
        ... def predict(x):
        ...     return model(x)
    """

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):  # bare @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        super().__init__()
        self.mode = not mode
        self.inference = bool(mode)

    def clone(self):
        return inference_mode(self.inference)

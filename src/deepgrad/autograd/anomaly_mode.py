"""Anomaly detection: ``detect_anomaly`` / ``set_detect_anomaly``, as torch's.

While enabled, backward checks every gradient a node returns and raises as soon as one
holds a NaN, naming the node, so the op that produced it is found at once instead of from
NaN weights many steps later. It costs a scan of every gradient: debug only.
"""

from __future__ import annotations

import functools

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


class _State:
    __slots__ = ("enabled", "check_nan")

    def __init__(self):
        self.enabled = False
        self.check_nan = True


state = _State()


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` / after ``set_detect_anomaly(True)``."""
    return state.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return state.check_nan


class detect_anomaly:  # noqa: N801 - torch's name
    """Context manager / decorator enabling anomaly detection for the backward passes in it.

    Args:
        check_nan: raise when a backward produces NaN (default True).

    Example:
        >>> with deepgrad.autograd.detect_anomaly():
        ...     loss.backward()   # RuntimeError: Function 'LogBackward0' returned nan ...
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        self._previous = []

    def __enter__(self):
        self._previous.append((state.enabled, state.check_nan))
        state.enabled, state.check_nan = True, self.check_nan
        return self

    def __exit__(self, *exc):
        state.enabled, state.check_nan = self._previous.pop()
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)

        return wrapper


class set_detect_anomaly:  # noqa: N801
    """Turn anomaly detection on or off (at once, or for a ``with`` block).

    Args:
        mode: True to enable.
        check_nan: raise when a backward produces NaN (default True).
    """

    def __init__(self, mode: bool, check_nan: bool = True):
        self._previous = (state.enabled, state.check_nan)
        state.enabled, state.check_nan = bool(mode), check_nan

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        state.enabled, state.check_nan = self._previous
        return False


def check_gradients(node, gradients) -> None:
    """Raise torch's error if a gradient returned by ``node`` holds a NaN."""
    if not state.check_nan:
        return
    for i, g in enumerate(gradients):
        data = getattr(g, "_data", g)
        if data is not None and getattr(data, "dtype", None) is not None and \
                data.dtype.kind in "fc" and bool((data != data).any()):
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                               "output.")

"""Grad-mode switches as context managers and decorators, compared with torch."""

import pytest
import torch

import deepgrad

LIBS = (deepgrad, torch)


@pytest.fixture(autouse=True)
def _restore_grad_mode():
    yield
    deepgrad.set_grad_enabled(True)
    torch.set_grad_enabled(True)


def trace(fn):
    """(deepgrad trace, torch trace) of ``fn(lib, log)``, where ``log()`` records the mode."""
    out = []
    for lib in LIBS:
        seen = []
        fn(lib, lambda lib=lib, seen=seen: seen.append(lib.is_grad_enabled()))
        seen.append(lib.is_grad_enabled())
        out.append(seen)
    return out


def test_no_grad_context_stops_recording():
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            y = x * 2
        assert not y.requires_grad and y.grad_fn is None
        assert (x * 2).requires_grad


def test_nested_modes():
    def run(lib, log):
        with lib.no_grad():
            log()
            with lib.enable_grad():
                log()
                with lib.set_grad_enabled(False):
                    log()
                log()
            log()
        log()

    d, t = trace(run)
    assert d == t


def test_decorators_with_and_without_parentheses():
    def run(lib, log):
        @lib.no_grad()
        def a():
            log()

        @lib.no_grad
        def b():
            log()

        @lib.enable_grad()
        def c():
            log()

        @lib.inference_mode()
        def d():
            log()

        @lib.inference_mode
        def e():
            log()

        a()
        b()
        with lib.no_grad():
            c()
        d()
        e()

    d, t = trace(run)
    assert d == t


def test_decorated_function_keeps_name_and_returns_value():
    @deepgrad.no_grad()
    def double(x):
        """Doc."""
        return x * 2

    assert double.__name__ == "double" and double.__doc__ == "Doc."
    out = double(deepgrad.ones(2, requires_grad=True))
    assert not out.requires_grad


def test_exception_restores_previous_mode():
    def run(lib, log):
        try:
            with lib.no_grad():
                raise ValueError
        except ValueError:
            log()

        @lib.no_grad()
        def fails():
            raise KeyError

        with pytest.raises(KeyError):
            fails()
        log()
        with lib.no_grad():
            try:
                with lib.enable_grad():
                    raise ValueError
            except ValueError:
                log()

    d, t = trace(run)
    assert d == t


def test_set_grad_enabled_as_plain_call_and_context():
    def run(lib, log):
        lib.set_grad_enabled(False)
        log()
        lib.set_grad_enabled(True)
        log()
        with lib.set_grad_enabled(False):
            log()
        log()
        with lib.no_grad():
            with lib.set_grad_enabled(True):
                log()
            log()

    d, t = trace(run)
    assert d == t


def test_set_grad_enabled_as_decorator_does_not_switch_at_decoration():
    def run(lib, log):
        @lib.set_grad_enabled(False)
        def f():
            log()

        log()
        f()
        log()

    d, t = trace(run)
    assert d == t


def test_inference_mode_and_its_false_argument():
    def run(lib, log):
        with lib.inference_mode():
            log()
        with lib.no_grad():
            with lib.inference_mode(False):
                log()
            log()
        with lib.inference_mode(mode=True):
            log()

    d, t = trace(run)
    assert d == t


def test_is_inference_mode_enabled():
    for lib in LIBS:
        is_inference = (lib.is_inference_mode_enabled if hasattr(lib, "is_inference_mode_enabled")
                        else lib.autograd.is_inference_mode_enabled)
        assert not is_inference()
        with lib.inference_mode():
            assert is_inference()
        assert not is_inference()


def test_reusing_one_manager_nested_restores_the_outer_mode():
    manager = deepgrad.no_grad()
    with manager:
        with manager:
            assert not deepgrad.is_grad_enabled()
        assert not deepgrad.is_grad_enabled()
    assert deepgrad.is_grad_enabled()


def test_generator_function_runs_under_the_mode():
    def run(lib, log):
        @lib.no_grad()
        def gen():
            log()
            yield 1
            log()
            yield 2

        it = gen()
        next(it)
        log()  # the caller is not inside the mode between steps
        next(it)

    d, t = trace(run)
    assert d == t


def test_autograd_namespace_exports_modes():
    for name in ("no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
                 "is_grad_enabled"):
        assert getattr(deepgrad.autograd, name) is getattr(deepgrad, name)

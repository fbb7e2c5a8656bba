"""One builder for error messages so every op words them the same way.

Format: ``<op>: <what is wrong>; got <name> with shape (..) and <name> with shape (..)``.
"""

from __future__ import annotations


def describe(name: str, value) -> str:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{name} with shape {tuple(shape)}"
    return f"{name} = {value!r}"


def op_error(kind: type[Exception], op: str, problem: str, **operands) -> Exception:
    """Build ``kind`` with the uniform message; operands are shown in keyword order.

    Example:
        >>> raise op_error(RuntimeError, "matmul", "inner dimensions differ", input=a, other=b)
    """
    message = f"{op}: {problem}"
    if operands:
        message += "; got " + " and ".join(describe(k, v) for k, v in operands.items())
    return kind(message)

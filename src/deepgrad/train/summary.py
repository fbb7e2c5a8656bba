"""Model summary: one row per layer with its output shape, parameter count and the arithmetic.

``summary`` runs one forward pass on a zero input with forward hooks on the leaf modules
(those without children) and records, in call order, each layer's output shape and
parameters. For convolution and pooling layers it also spells out the output-size formula

    out = floor((n + 2p - k + s) / s)        (k -> d(k-1)+1 when the dilation d != 1)

with the layer's numbers filled in, and for every layer how its parameter count is made,
e.g. ``6x1x5x5 + 6 = 156`` for ``Conv2d(1, 6, 5)``: the teaching content of a summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .. import _creation
from ..autograd.grad_mode import no_grad

__all__ = ["LayerRow", "summary", "format_summary", "count_parameters"]


@dataclass
class LayerRow:
    """One layer call in a summary.

    Attributes:
        name: the module's dotted name in the model (``"features.0"``).
        type: its class name (``"Conv2d"``).
        output_shape: the shape of its output (a list of shapes for tuple outputs).
        params: parameters owned by the module (0 when a shared module is called again).
        trainable: how many of them require grad.
        param_formula: how ``params`` is made, e.g. ``"6x1x5x5 + 6 = 156"``.
        size_formula: the output-size formula of a conv/pool layer with numbers filled in.
    """

    name: str
    type: str
    output_shape: tuple | list
    params: int = 0
    trainable: int = 0
    param_formula: str = ""
    size_formula: str = ""


def count_parameters(model) -> tuple[int, int]:
    """``(total, trainable)`` parameter counts of ``model``."""
    params = list(model.parameters())
    return (sum(p.numel() for p in params),
            sum(p.numel() for p in params if p.requires_grad))


def _shape(value):
    if hasattr(value, "shape"):
        return tuple(value.shape)
    if isinstance(value, (tuple, list)):
        return [_shape(item) for item in value]
    return ()


def _param_formula(module) -> str:
    """``"6x1x5x5 + 6 = 156"``: each own parameter's shape, summed."""
    shapes = [tuple(p.shape) for p in module.parameters(recurse=False)]
    if not shapes:
        return ""
    total = sum(_prod(shape) for shape in shapes)
    terms = ["x".join(str(size) for size in shape) or "1" for shape in shapes]
    if len(terms) == 1 and len(shapes[0]) <= 1:
        return ""  # a single vector: the count is the formula
    return f"{' + '.join(terms)} = {total:,}"


def _prod(shape) -> int:
    result = 1
    for size in shape:
        result *= size
    return result


def _per_dim(value, n: int) -> tuple:
    if isinstance(value, (tuple, list)):
        return tuple(value) if len(value) == n else tuple(value[:1]) * n
    return (value,) * n


def _size_formula(module, input_shape: tuple, output_shape) -> str:
    """The output-size formula of a conv or pooling layer, per spatial dim, numbers filled in."""
    if hasattr(module, "output_size") and not hasattr(module, "kernel_size"):
        return f"adaptive: output {_shape_text(module.output_size)}"
    if not (hasattr(module, "kernel_size") and isinstance(output_shape, tuple)):
        return ""
    n = len(module.kernel_size) if isinstance(module.kernel_size, (tuple, list)) else None
    n = n or max(len(input_shape) - 2, 1)
    spatial_in, spatial_out = input_shape[-n:], output_shape[-n:]
    kernel = _per_dim(module.kernel_size, n)
    stride = _per_dim(module.stride or module.kernel_size, n)
    dilation = _per_dim(getattr(module, "dilation", 1), n)
    padding = module.padding
    if padding == "same":
        return f"padding='same': out = n = {_shape_text(spatial_out)}"
    padding = _per_dim(0 if padding == "valid" else padding, n)
    rounding = "ceil" if getattr(module, "ceil_mode", False) else "floor"
    parts = []
    for size_in, size_out, k, s, p, d in zip(spatial_in, spatial_out, kernel, stride, padding,
                                              dilation, strict=True):
        k_text = str(k) if d == 1 else f"({d}*({k}-1)+1)"
        parts.append(f"{rounding}(({size_in} + 2*{p} - {k_text} + {s}) / {s}) = {size_out}")
    if len(set(parts)) == 1:
        return parts[0]
    return "; ".join(f"{axis}: {part}" for axis, part in zip("HW" if n == 2 else "LHW", parts,
                                                                  strict=False))


def _shape_text(shape) -> str:
    if isinstance(shape, list):
        return ", ".join(_shape_text(item) for item in shape)
    if isinstance(shape, tuple):
        return "(" + ", ".join("-" if size is None else str(size) for size in shape) + ")"
    return str(shape)


def summary(model, input_size: Sequence[int], batch_size: int = 1, dtype=None,
            device=None) -> list[LayerRow]:
    """Run ``model`` once on zeros of shape ``(batch_size, *input_size)``; one row per layer call.

    The model is put in eval mode for the pass (so batch norm accepts a batch of one) and
    back in its previous mode afterwards; no graph is built.

    Args:
        model: a ``deepgrad.nn.Module``.
        input_size: one sample's shape, e.g. ``(1, 28, 28)``.
        batch_size: the batch dimension of the probe input.
        dtype, device: of the probe input (default float32 on the CPU).

    Returns:
        A list of :class:`LayerRow`, in the order the leaf modules ran.

    Raises:
        ValueError: the input size does not fit the model; the message names the layer
            that failed and why.

    Example:
        >>> rows = summary(vision.models.get_model("lenet"), (1, 28, 28))
        >>> sum(row.params for row in rows)
        61706
    """
    names = {module: name for name, module in model.named_modules()}
    leaves = [module for module in names if not any(True for _ in module.children())]
    rows, seen, running = [], set(), []

    def before(module, args):
        running.append(module)

    def after(module, args, output):
        running.pop()
        input_shape = _shape(args[0]) if args else ()
        output_shape = _shape(output)
        row = LayerRow(names[module] or type(module).__name__, type(module).__name__,
                       output_shape, size_formula=_size_formula(module, input_shape,
                                                                 output_shape))
        if module not in seen:  # a module called twice owns its parameters once
            seen.add(module)
            own = list(module.parameters(recurse=False))
            row.params = sum(p.numel() for p in own)
            row.trainable = sum(p.numel() for p in own if p.requires_grad)
            row.param_formula = _param_formula(module)
        rows.append(row)

    handles = [hook for module in leaves
               for hook in (module.register_forward_pre_hook(before),
                            module.register_forward_hook(after))]
    was_training = model.training
    probe = _creation.zeros((batch_size, *input_size), dtype=dtype, device=device)
    try:
        model.eval()
        with no_grad():
            model(probe)
    except (RuntimeError, ValueError, IndexError, TypeError) as error:
        if running:
            where = f" at layer {names[running[-1]]} ({type(running[-1]).__name__})"
        else:  # failed in a container's own code, e.g. a reshape between layers
            where = f" after layer {rows[-1].name} ({rows[-1].type})" if rows else ""
        reason = " ".join(str(error).split())
        raise ValueError(f"input size {_shape_text(tuple(input_size))} does not fit "
                         f"{type(model).__name__}{where}: {reason}") from None
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return rows


def format_summary(rows: Sequence[LayerRow], model=None, input_size=None) -> str:
    """The rows as a text table with totals (parameters outside leaf modules included).

    Args:
        rows: from :func:`summary`.
        model: when given, totals come from ``model.parameters()`` (so parameters held
            directly by container modules count too).
        input_size: shown in the header when given.
    """
    headers = ("layer", "type", "output shape", "params", "parameters", "output size")
    table = [(row.name, row.type, _shape_text(row.output_shape), f"{row.params:,}",
              row.param_formula, row.size_formula) for row in rows]
    widths = [max([len(header)] + [len(line[i]) for line in table])
              for i, header in enumerate(headers)]
    align = ("<", "<", "<", ">", "<", "<")

    def render(cells):
        return "  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(cells, align, widths,
                                                                  strict=True)).rstrip()

    rule = "-" * len(render(headers))
    total = sum(row.params for row in rows)
    trainable = sum(row.trainable for row in rows)
    if model is not None:
        total, trainable = count_parameters(model)
    lines = []
    if input_size is not None:
        lines.append(f"input: {_shape_text(tuple(input_size))} per sample")
    lines += [render(headers), rule] + [render(line) for line in table] + [rule]
    lines += [f"total parameters:         {total:,}",
              f"trainable parameters:     {trainable:,}",
              f"non-trainable parameters: {total - trainable:,}"]
    if model is not None:
        size = sum(p.numel() * p.element_size() for p in model.parameters())
        lines.append(f"parameter memory:         {size / 2**20:.2f} MiB")
    if model is not None and total != sum(row.params for row in rows):
        lines.append(f"(of which {total - sum(row.params for row in rows):,} held outside the "
                     f"layers listed)")
    return "\n".join(lines)

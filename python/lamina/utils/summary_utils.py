"""`model.summary()`: a Keras-style table of layers, output shapes and
parameter counts."""

import math
import re
import shutil

from lamina.utils import tree


def count_params(weights):
    seen = set()
    total = 0
    for w in weights:
        if id(w) in seen:
            continue
        seen.add(id(w))
        total += int(math.prod(w.shape))
    return total


_DTYPE_BITS = {"float32": 32, "float64": 64, "int32": 32, "int64": 64, "bool": 8}


def weight_memory_size(weights):
    seen = {}
    for w in weights:
        seen[id(w)] = w
    return sum(math.prod(w.shape) * _DTYPE_BITS.get(str(w.dtype), 32) for w in seen.values()) / 8


def readable_memory_size(size):
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    scale = 1024
    for unit in units:
        if size / scale < 1:
            return f"{size:.2f} {unit}"
        size /= scale
    return f"{size:.2f} {units[-1]}"


def _format_shape(shape):
    return "(" + ", ".join(str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def format_layer_shape(layer):
    nodes = getattr(layer, "_inbound_nodes", [])
    if nodes:
        outputs = nodes[-1].outputs
        shapes = [_format_shape(t.shape) for t in outputs]
        if len(shapes) == 1:
            return shapes[0]
        return "[" + ", ".join(shapes) + "]"
    build = getattr(layer, "_build_shapes_dict", None)
    if build:
        try:
            shape = layer.compute_output_shape(*build.values())
        except Exception:
            return "?"
        flat = tree.map_shape_structure(_format_shape, shape)
        if isinstance(flat, str):
            return flat
        return str(flat).replace("'", "")
    return "?"


_WORD = re.compile(r"\s*\S+\s*")


def _wrap(text, width):
    """Keras's cell wrapping: break between words; a word longer than the
    column stays on its own line, cut with an ellipsis."""
    if width <= 0:
        return [text]
    breaks, offset = [], 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group(0)
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width or offset:
            if start:
                breaks.append(start)
            offset = len(word)
    bounds = [0] + breaks + [len(text)]
    lines = [text[i:j].rstrip() for i, j in zip(bounds, bounds[1:])]
    return [ln if len(ln) <= width else ln[: width - 1] + "…" for ln in lines]


def _render_table(header, rows, widths, aligns):
    def fmt(cells):
        wrapped = [_wrap(c, w) for c, w in zip(cells, widths)]
        height = max(len(c) for c in wrapped)
        lines = []
        for i in range(height):
            parts = []
            for col, w, a in zip(wrapped, widths, aligns):
                s = col[i] if i < len(col) else ""
                parts.append(s.rjust(w) if a == "right" else (s.center(w) if a == "center" else s.ljust(w)))
            lines.append(parts)
        return lines

    out = []
    out.append("┏" + "┳".join("━" * (w + 2) for w in widths) + "┓")
    for parts in fmt(header):
        out.append("┃" + "┃".join(f" {p} " for p in parts) + "┃")
    out.append("┡" + "╇".join("━" * (w + 2) for w in widths) + "┩")
    for i, row in enumerate(rows):
        for parts in fmt(row):
            out.append("│" + "│".join(f" {p} " for p in parts) + "│")
        if i < len(rows) - 1:
            out.append("├" + "┼".join("─" * (w + 2) for w in widths) + "┤")
    out.append("└" + "┴".join("─" * (w + 2) for w in widths) + "┘")
    return out


def _ratio_reduce(total, values):
    remaining = total
    ratio_left = len(values)
    out = []
    for v in values:
        if ratio_left > 0:
            distributed = min(v, round(remaining / ratio_left))
            out.append(max(v - distributed, 1))
            remaining -= distributed
            ratio_left -= 1
        else:
            out.append(v)
    return out


def _layer_range_bounds(layers, layer_range):
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2:
        raise ValueError(f"layer_range must be a list or tuple of length 2. Received: layer_range = {layer_range}")
    lower = [i for i, l in enumerate(layers) if re.match(layer_range[0], l.name)]
    upper = [i for i, l in enumerate(layers) if re.match(layer_range[1], l.name)]
    if not lower or not upper:
        raise ValueError(f"Passed layer_names do not match the layer names in the model. Received: {layer_range}")
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False, layer_range=None):
    """Prints a summary of `model` (see `Model.summary`)."""
    from lamina.models.functional import Functional
    from lamina.models.sequential import Sequential

    relevant_nodes = None
    if isinstance(model, Sequential) or not isinstance(model, Functional):
        sequential_like = True
        layers = model.layers
    else:
        layers = model._visible_operations()
        sequential_like = True
        relevant_nodes = list(model._nodes)
        for node in model._nodes:
            if len(node.input_tensors) > 1:
                sequential_like = False
                break
        consumers = {}
        for node in model._nodes:
            for t in node.input_tensors:
                consumers[id(t)] = consumers.get(id(t), 0) + 1
        if any(c > 1 for c in consumers.values()):
            sequential_like = False
        counts = {}
        for node in model._nodes:
            counts[id(node.operation)] = counts.get(id(node.operation), 0) + 1
        if any(c > 1 for c in counts.values()):
            sequential_like = False
        if len(model.inputs) > 1 or len(model.outputs) > 1:
            sequential_like = False
    if sequential_like:
        default_length = 88
        positions = positions or [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        aligns = ["left", "left", "right"]
    else:
        default_length = 108
        positions = positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        aligns = ["left", "left", "right", "left"]
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        aligns.append("center")
    default_length = min(default_length, max(shutil.get_terminal_size().columns - 4, 40))
    line_length = line_length or default_length
    if positions[-1] <= 1:
        positions = [int(p * line_length) for p in positions]
    requested = []
    current = 0
    for pos in positions:
        w = int(pos) - current
        current = int(pos)
        if w < 4:
            raise ValueError("Insufficient console width to print summary.")
        requested.append(w)
    # Fit the columns (plus borders and padding) into line_length, shrinking
    # them as rich does for Keras's table.
    available = line_length - (len(requested) + 1) - 2 * len(requested)
    widths = _ratio_reduce(max(sum(requested) - available, 0), requested)

    node_ids = {id(n) for n in relevant_nodes} if relevant_nodes is not None else None

    def connections(layer):
        out = []
        for node in layer._inbound_nodes:
            if node_ids is not None and id(node) not in node_ids:
                continue
            for kt in node.input_tensors:
                h = getattr(kt, "_keras_history", None)
                if h is not None:
                    out.append(f"{h.operation.name}[{h.node_index}][{h.tensor_index}]")
        return ", ".join(out) if out else "-"

    def fields(layer, prefix=""):
        name = f"{prefix}{layer.name} ({getattr(layer, '_summary_class_name', layer.__class__.__name__)})"
        if not getattr(layer, "built", True):
            params = "0 (unbuilt)"
        else:
            try:
                params = f"{layer.count_params():,}"
            except ValueError:
                params = "0 (unbuilt)"
        row = [name, format_layer_shape(layer), params]
        if not sequential_like:
            row.append(connections(layer))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        return row

    def rows_for(layer, level=0):
        prefix = "   " * level + "└ " if level else ""
        rows = [fields(layer, prefix)]
        if expand_nested and hasattr(layer, "layers") and getattr(layer, "layers", None):
            for sub in layer.layers:
                rows.extend(rows_for(sub, level + 1))
        return rows

    lo, hi = _layer_range_bounds(layers, layer_range)
    rows = []
    for layer in layers[lo:hi]:
        rows.extend(rows_for(layer))

    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    trainable_count = count_params(trainable)
    non_trainable_count = count_params(non_trainable)
    trainable_mem = weight_memory_size(trainable)
    non_trainable_mem = weight_memory_size(non_trainable)
    opt = getattr(model, "optimizer", None)
    opt_built = bool(getattr(model, "compiled", False) and opt is not None and getattr(opt, "built", False))
    opt_count = count_params(opt.variables) if opt_built else 0
    opt_mem = weight_memory_size(opt.variables) if opt_built else 0

    lines = [f'Model: "{model.name}"']
    lines.extend(_render_table(header, rows, widths, aligns))
    total = trainable_count + non_trainable_count + opt_count
    lines.append(f" Total params: {total:,} ({readable_memory_size(trainable_mem + non_trainable_mem + opt_mem)})")
    lines.append(f" Trainable params: {trainable_count:,} ({readable_memory_size(trainable_mem)})")
    lines.append(f" Non-trainable params: {non_trainable_count:,} ({readable_memory_size(non_trainable_mem)})")
    if opt_built:
        lines.append(f" Optimizer params: {opt_count:,} ({readable_memory_size(opt_mem)})")
    text = "\n".join(lines)
    if print_fn is None:
        print(text)
    else:
        print_fn(text)

"""`plot_model`: draws a model's layer graph, with no graphviz.

Keras draws through pydot + graphviz; lamina lays the graph out itself
(layers ranked by their longest path from an input) and writes SVG
directly, or renders the same layout with matplotlib for PNG/PDF. The
boxes and edges follow keras/src/utils/model_visualization.py: Sequential
layers in a chain, functional models along their recorded layer calls (one
edge per connected pair of layers, however often it is used), subclassed
models as a single box, nested models as one box or, with
`expand_nested=True`, as a dashed cluster of their own layers.
"""

import os
from xml.sax.saxutils import escape

_CHAR_W = 7.2  # px per character of the 12px sans-serif label font
_LINE_H = 16
_PAD = 10
_GAP_RANK = 40  # between ranks (rows for "TB", columns for "LR")
_GAP_SIBLING = 24
_CLUSTER_PAD = 12


# ---- the graph -------------------------------------------------------------------
def _model_classes():
    from lamina.models.functional import Functional
    from lamina.models.sequential import Sequential

    return Functional, Sequential


def _is_graph_model(layer):
    return isinstance(layer, _model_classes())


class _Graph:
    def __init__(self):
        self.boxes = []  # layers, in drawing order
        self.edges = []  # (source layer, destination layer), unique pairs
        self.clusters = []  # (nested model, [its layers]) when expanded
        self._edge_ids = set()

    def add_edge(self, src, dst):
        key = (id(src), id(dst))
        if key not in self._edge_ids:
            self._edge_ids.add(key)
            self.edges.append((src, dst))


def _resolve_source(source, tensor_index):
    # A nested model has no output box: point at the layer producing its output.
    while _is_graph_model(source):
        hist = source.outputs[tensor_index]._keras_history
        source, tensor_index = hist.operation, hist.tensor_index
    return source


def _resolve_destination(destination, input_index):
    Functional, _ = _model_classes()
    while _is_graph_model(destination):
        if isinstance(destination, Functional):
            destination = destination.inputs[input_index]._keras_history.operation
        else:
            destination = destination.layers[0]
    return destination


def _functional_edges(model, layers, graph, expand_nested):
    in_model = {id(n) for n in model._nodes}
    for layer in layers:
        for node in layer._inbound_nodes:
            if id(node) not in in_model:
                continue
            for input_index, tensor in enumerate(node.input_tensors):
                hist = getattr(tensor, "_keras_history", None)
                if hist is None:
                    continue
                source, destination = hist.operation, layer
                if expand_nested:
                    source = _resolve_source(source, hist.tensor_index)
                    destination = _resolve_destination(destination, input_index)
                graph.add_edge(source, destination)


def _collect(model, graph, expand_nested):
    Functional, Sequential = _model_classes()
    layers = model.layers if isinstance(model, Sequential) else list(model._operations)
    for layer in layers:
        if expand_nested and _is_graph_model(layer):
            start = len(graph.boxes)
            _collect(layer, graph, expand_nested)
            graph.clusters.append((layer, graph.boxes[start:]))
        else:
            graph.boxes.append(layer)
    if isinstance(model, Sequential) and not expand_nested:
        for a, b in zip(layers, layers[1:]):
            graph.add_edge(a, b)
        return
    if isinstance(model, Sequential):
        # Nested: chain the layers, entering and leaving nested models at
        # their first and last boxes.
        for a, b in zip(layers, layers[1:]):
            graph.add_edge(_resolve_source(a, 0), _resolve_destination(b, 0))
        return
    _functional_edges(model, layers, graph, expand_nested)


def model_graph(model, expand_nested=False):
    """The boxes (layers), edges ((source, destination) layer pairs) and
    clusters (expanded nested models) that `plot_model` draws."""
    if not getattr(model, "built", False):
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` or by calling "
            "the model on a batch of data."
        )
    graph = _Graph()
    if _is_graph_model(model):
        _collect(model, graph, expand_nested)
    else:
        graph.boxes.append(model)  # a subclassed model has no recorded graph: one box, as Keras draws it
    return graph


# ---- labels ----------------------------------------------------------------------
def _format_shape(get):
    from lamina.utils import tree

    try:
        shape = tree.map_structure(lambda t: t.shape, get())
    except (ValueError, AttributeError, TypeError):
        return "?"
    if isinstance(shape, dict):
        return ", ".join(f"{k}: {v}" for k, v in shape.items())
    return str(shape)


def _activation_name(layer):
    act = layer.activation
    return getattr(act, "name", None) or getattr(act, "__name__", None) or str(act)


def _label(layer, opts):
    # Ops applied to symbolic tensors show as Keras names them ("Add"), as in summary().
    class_name = getattr(layer, "_summary_class_name", None) or type(layer).__name__
    lines = [f"{layer.name} ({class_name})" if opts["show_layer_names"] else class_name]
    if opts["show_layer_activations"] and getattr(layer, "activation", None) is not None:
        lines.append(f"Activation: {_activation_name(layer)}")
    if opts["show_shapes"]:
        if class_name != "InputLayer":
            lines.append(f"Input shape: {_format_shape(lambda: layer.input)}")
        lines.append(f"Output shape: {_format_shape(lambda: layer.output)}")
    if opts["show_dtype"]:
        from lamina.utils import tree

        try:
            dtype = tree.map_structure(lambda t: t.dtype, layer.output)
        except (ValueError, AttributeError, TypeError):
            dtype = None
        lines.append(f"Output dtype: {dtype or '?'}")
    if opts["show_trainable"] and getattr(layer, "weights", None):
        lines.append("Trainable" if layer.trainable else "Non-trainable")
    return lines


# ---- layout ----------------------------------------------------------------------
class _Box:
    def __init__(self, layer, lines):
        self.layer, self.lines = layer, lines
        self.w = max(len(s) for s in lines) * _CHAR_W + 2 * _PAD
        self.h = len(lines) * _LINE_H + 2 * _PAD
        self.x = self.y = 0.0  # top-left corner


def _ranks(graph):
    """Longest-path rank of each box: every edge goes to a higher rank."""
    rank = {id(layer): 0 for layer in graph.boxes}
    for _ in range(len(graph.boxes)):  # Bellman-Ford style relaxation; graphs are DAGs
        changed = False
        for src, dst in graph.edges:
            if id(src) in rank and id(dst) in rank and rank[id(dst)] < rank[id(src)] + 1:
                rank[id(dst)] = rank[id(src)] + 1
                changed = True
        if not changed:
            break
    return rank


def _layout(graph, opts, rankdir):
    boxes = [_Box(layer, _label(layer, opts)) for layer in graph.boxes]
    rank = _ranks(graph)
    rows = {}
    for box in boxes:
        rows.setdefault(rank[id(box.layer)], []).append(box)
    vertical = rankdir in ("TB", "BT")
    along = 0.0  # position along the rank axis
    spans = []
    for r in sorted(rows):
        row = rows[r]
        depth = max((b.h if vertical else b.w) for b in row)
        across = 0.0
        for b in row:
            if vertical:
                b.x, b.y = across, along + (depth - b.h) / 2
                across += b.w + _GAP_SIBLING
            else:
                b.x, b.y = along + (depth - b.w) / 2, across
                across += b.h + _GAP_SIBLING
        spans.append((row, across - _GAP_SIBLING))
        along += depth + _GAP_RANK
    widest = max(s for _, s in spans)
    for row, span in spans:  # centre each rank
        for b in row:
            if vertical:
                b.x += (widest - span) / 2
            else:
                b.y += (widest - span) / 2
    if rankdir in ("BT", "RL"):
        extent = along - _GAP_RANK
        for b in boxes:
            if vertical:
                b.y = extent - b.y - b.h
            else:
                b.x = extent - b.x - b.w
    margin = _CLUSTER_PAD * (1 + len(graph.clusters)) + _LINE_H
    for b in boxes:
        b.x += margin
        b.y += margin
    return boxes, margin


def _edge_points(a, b, rankdir):
    if rankdir == "TB":
        return (a.x + a.w / 2, a.y + a.h), (b.x + b.w / 2, b.y)
    if rankdir == "BT":
        return (a.x + a.w / 2, a.y), (b.x + b.w / 2, b.y + b.h)
    if rankdir == "RL":
        return (a.x, a.y + a.h / 2), (b.x + b.w, b.y + b.h / 2)
    return (a.x + a.w, a.y + a.h / 2), (b.x, b.y + b.h / 2)


def _cluster_rects(graph, by_id):
    rects = []
    for model, layers in graph.clusters:
        inner = [by_id[id(layer)] for layer in layers if id(layer) in by_id]
        if not inner:
            continue
        # Clusters nest: pad by how many other clusters this one contains.
        depth = sum(1 for _, other in graph.clusters if other is not layers and set(map(id, other)) < set(map(id, layers)))
        pad = _CLUSTER_PAD * (depth + 1)
        x0 = min(b.x for b in inner) - pad
        y0 = min(b.y for b in inner) - pad - _LINE_H
        x1 = max(b.x + b.w for b in inner) + pad
        y1 = max(b.y + b.h for b in inner) + pad
        rects.append((model.name, x0, y0, x1 - x0, y1 - y0))
    return rects


class _Drawing:
    """The laid-out picture: boxes, edges and clusters in pixels."""

    def __init__(self, model, graph, opts, rankdir):
        boxes, margin = _layout(graph, opts, rankdir)
        self.boxes = boxes
        by_id = {id(b.layer): b for b in boxes}
        self.edges = [
            _edge_points(by_id[id(s)], by_id[id(d)], rankdir)
            for s, d in graph.edges
            if id(s) in by_id and id(d) in by_id
        ]
        self.clusters = _cluster_rects(graph, by_id)
        self.width = max(b.x + b.w for b in boxes) + margin
        self.height = max(b.y + b.h for b in boxes) + margin
        self.title = model.name


# ---- output ----------------------------------------------------------------------
def _svg(drawing):
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{drawing.width:.0f}" height="{drawing.height:.0f}" '
        f'viewBox="0 0 {drawing.width:.1f} {drawing.height:.1f}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="12">',
        f"<title>{escape(drawing.title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#333"/></marker></defs>',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    for name, x, y, w, h in drawing.clusters:
        out.append(
            f'<g class="cluster"><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="none" '
            f'stroke="#888" stroke-dasharray="6,4"/><text x="{x + 6:.1f}" y="{y + 14:.1f}" fill="#555">'
            f"{escape(name)}</text></g>"
        )
    for (x0, y0), (x1, y1) in drawing.edges:
        out.append(
            f'<line class="edge" x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="#333" '
            'stroke-width="1.5" marker-end="url(#arrow)"/>'
        )
    for b in drawing.boxes:
        out.append(f'<g class="node" data-name="{escape(b.layer.name, {chr(34): "&quot;"})}">')
        out.append(
            f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" rx="4" '
            'fill="#f4f4f4" stroke="black"/>'
        )
        for i, line in enumerate(b.lines):
            weight = ' font-weight="bold"' if i == 0 else ""
            out.append(
                f'<text x="{b.x + b.w / 2:.1f}" y="{b.y + _PAD + (i + 0.8) * _LINE_H:.1f}" '
                f'text-anchor="middle"{weight}>{escape(line)}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _render_matplotlib(drawing, to_file, dpi):
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch, Rectangle
    except ImportError as e:
        raise ImportError(
            f"plot_model writes '{os.path.basename(to_file)}' with matplotlib, which is not installed. Install "
            "it with `pip install matplotlib`, or save as '.svg' (written without any dependency)."
        ) from e
    # Draw in pixel units (y down) at 72 px per inch, so font sizes match the SVG.
    fig = Figure(figsize=(drawing.width / 72, drawing.height / 72))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, drawing.width)
    ax.set_ylim(drawing.height, 0)
    ax.axis("off")
    for name, x, y, w, h in drawing.clusters:
        ax.add_patch(Rectangle((x, y), w, h, fill=False, linestyle="--", edgecolor="#888"))
        ax.text(x + 6, y + 14, name, fontsize=9, color="#555")
    for start, end in drawing.edges:
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="#333", lw=1.2))
    for b in drawing.boxes:
        ax.add_patch(Rectangle((b.x, b.y), b.w, b.h, facecolor="#f4f4f4", edgecolor="black"))
        for i, line in enumerate(b.lines):
            ax.text(
                b.x + b.w / 2, b.y + _PAD + (i + 0.5) * _LINE_H, line, ha="center", va="center",
                fontsize=9, fontweight="bold" if i == 0 else "normal",
            )
    # As Keras: a name without an extension is written as PNG, under that name.
    fmt = os.path.splitext(to_file)[1][1:].lower() or "png"
    fig.savefig(to_file, dpi=dpi, format=fmt)


def plot_model(
    model,
    to_file="model.png",
    show_shapes=False,
    show_dtype=False,
    show_layer_names=False,  # Keras 3's default
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    show_layer_activations=False,
    show_trainable=False,
    **kwargs,
):
    """Draws the layer graph of `model` into `to_file`.

    `.svg` files are written directly (no dependency); `.png`, `.pdf` and
    the other formats matplotlib knows are rendered with matplotlib. The
    arguments are Keras's: `rankdir` is "TB" (top to bottom) or "LR" (left
    to right; "BT" and "RL" reverse them), `expand_nested` draws nested
    Sequential/functional models as clusters of their layers.
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    kwargs.pop("subgraph", None)
    kwargs.pop("splines", None)  # graphviz edge routing: edges here are straight
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"rankdir must be one of 'TB', 'LR', 'BT', 'RL'. Received: rankdir={rankdir!r}")
    opts = {
        "show_layer_names": show_layer_names,
        "show_layer_activations": show_layer_activations,
        "show_dtype": show_dtype,
        "show_shapes": show_shapes,
        "show_trainable": show_trainable,
    }
    to_file = os.fspath(to_file)
    graph = model_graph(model, expand_nested)
    drawing = _Drawing(model, graph, opts, rankdir)
    folder = os.path.dirname(to_file)
    if folder:
        os.makedirs(folder, exist_ok=True)
    if os.path.splitext(to_file)[1].lower() == ".svg":
        with open(to_file, "w", encoding="utf-8") as f:
            f.write(_svg(drawing))
    else:
        _render_matplotlib(drawing, to_file, dpi)

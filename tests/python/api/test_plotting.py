"""lamina.utils.plot_model (graphviz-free SVG/PNG) and plot_history."""

import builtins
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import lamina
from lamina import layers

SVG = "{http://www.w3.org/2000/svg}"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _svg(model, path, **kwargs):
    kwargs.setdefault("show_layer_names", True)
    lamina.utils.plot_model(model, to_file=str(path), **kwargs)
    root = ET.parse(path).getroot()
    assert root.tag == SVG + "svg"
    nodes = root.findall(f".//{SVG}g[@class='node']")
    edges = root.findall(f".//{SVG}line[@class='edge']")
    texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
    return nodes, edges, texts


def _connections(model):
    """Distinct (producer, consumer) layer pairs of a functional model,
    counted from the layers' recorded calls."""
    pairs = set()
    for layer in model._operations:
        for node in layer._inbound_nodes:
            if node in model._nodes:
                pairs.update((id(t._keras_history.operation), id(layer)) for t in node.input_tensors)
    return len(pairs)


def _branchy_model():
    a = lamina.Input((6,), name="in_a")
    b = lamina.Input((6,), name="in_b")
    shared = layers.Dense(5, activation="tanh", name="shared")
    ha, hb = shared(a), shared(b)  # a shared layer: two calls, one box
    merged = layers.Concatenate(name="merge")([ha, hb])
    out1 = layers.Dense(1, name="regression")(merged)
    out2 = layers.Dense(3, activation="softmax", name="classes")(layers.Add(name="sum")([ha, hb]))
    return lamina.Model([a, b], [out1, out2])


def test_plot_model_functional_svg(tmp_path):
    model = _branchy_model()
    nodes, edges, texts = _svg(model, tmp_path / "m.svg", show_shapes=True)
    names = [layer.name for layer in model._operations]
    assert sorted(n.get("data-name") for n in nodes) == sorted(names)
    for name in names:
        assert any(t.startswith(f"{name} (") for t in texts), name
    # a->shared, b->shared, shared->merge, shared->sum, merge->regression, sum->classes
    assert len(edges) == _connections(model) == 6
    assert "Output shape: (None, 10)" in texts  # the concatenation
    assert "Input shape: (None, 5)" in texts


def test_plot_model_edges_point_from_producer_to_consumer(tmp_path):
    model = _branchy_model()
    nodes, edges, _ = _svg(model, tmp_path / "m.svg")
    boxes = {}
    for g in nodes:
        r = g.find(SVG + "rect")
        x, y, w, h = (float(r.get(k)) for k in ("x", "y", "width", "height"))
        boxes[g.get("data-name")] = (x, y, w, h)
    ends = {((float(e.get("x1")), float(e.get("y1"))), (float(e.get("x2")), float(e.get("y2")))) for e in edges}

    def bottom(n):
        x, y, w, h = boxes[n]
        return (round(x + w / 2, 1), round(y + h, 1))

    def top(n):
        x, y, w, _ = boxes[n]
        return (round(x + w / 2, 1), round(y, 1))

    expected = {(bottom(s), top(d)) for s, d in [
        ("in_a", "shared"), ("in_b", "shared"), ("shared", "merge"), ("shared", "sum"),
        ("merge", "regression"), ("sum", "classes"),
    ]}
    assert {((round(a, 1), round(b, 1)), (round(c, 1), round(d, 1))) for (a, b), (c, d) in ends} == expected


def test_plot_model_sequential_nested_and_options(tmp_path):
    seq = lamina.Sequential(
        [layers.Input((8,)), layers.Dense(4, activation="relu", name="h1"), layers.Dropout(0.1, name="drop"),
         layers.Dense(2, name="out")], name="seq")
    nodes, edges, texts = _svg(seq, tmp_path / "s.svg", show_layer_activations=True, show_trainable=True)
    assert [n.get("data-name") for n in nodes] == ["h1", "drop", "out"]  # Keras draws no InputLayer box here
    assert len(edges) == 2 and "Activation: relu" in texts and "Trainable" in texts

    x = lamina.Input((8,), name="x")
    y = layers.Dense(1, name="head")(seq(x))
    outer = lamina.Model(x, y)
    nodes, edges, _ = _svg(outer, tmp_path / "o.svg")
    assert [n.get("data-name") for n in nodes] == ["x", "seq", "head"] and len(edges) == 2
    nodes, edges, texts = _svg(outer, tmp_path / "e.svg", expand_nested=True, rankdir="LR")
    assert [n.get("data-name") for n in nodes] == ["x", "h1", "drop", "out", "head"]
    assert len(edges) == 4  # x->h1->drop->out->head
    root = ET.parse(tmp_path / "e.svg").getroot()
    assert len(root.findall(f".//{SVG}g[@class='cluster']")) == 1 and "seq" in texts
    nodes, _, texts = _svg(outer, tmp_path / "n.svg", show_layer_names=False)
    assert "Dense" in texts and not any("head" in t for t in texts)


def test_plot_model_default_hides_layer_names_as_keras(tmp_path):
    lamina.utils.plot_model(_branchy_model(), to_file=str(tmp_path / "d.svg"))
    texts = ["".join(t.itertext()) for t in ET.parse(tmp_path / "d.svg").getroot().iter(SVG + "text")]
    assert "Dense" in texts and not any("shared" in t for t in texts)


def test_plot_model_subclassed_and_unbuilt(tmp_path):
    class Sub(lamina.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x):
            return self.d(x)

    model = Sub()
    with pytest.raises(ValueError, match="not yet been built"):
        lamina.utils.plot_model(model, to_file=str(tmp_path / "x.svg"))
    model(np.ones((1, 3), "float32"))
    nodes, edges, texts = _svg(model, tmp_path / "sub.svg")  # no graph: one box, as Keras draws it
    assert len(nodes) == 1 and not edges and f"{model.name} (Sub)" in texts
    with pytest.raises(ValueError, match="rankdir"):
        lamina.utils.plot_model(model, to_file=str(tmp_path / "x.svg"), rankdir="XY")


def test_plot_model_png(tmp_path):
    pytest.importorskip("matplotlib", reason="PNG output needs matplotlib")
    path = tmp_path / "sub" / "model.png"
    model = _branchy_model()
    lamina.utils.plot_model(model, to_file=str(path), show_shapes=True, dpi=50)
    assert path.read_bytes()[:8] == PNG_MAGIC
    lamina.utils.plot_model(model, to_file=str(tmp_path / "model.pdf"), dpi=50)
    assert (tmp_path / "model.pdf").read_bytes()[:5] == b"%PDF-"
    lamina.utils.plot_model(model, to_file=str(tmp_path / "bare"), dpi=50)  # no extension: PNG, as Keras
    assert (tmp_path / "bare").read_bytes()[:8] == PNG_MAGIC


def _hide_matplotlib(monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_plot_model_without_matplotlib(tmp_path, monkeypatch):
    model = _branchy_model()
    _hide_matplotlib(monkeypatch)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        lamina.utils.plot_model(model, to_file=str(tmp_path / "m.png"))
    lamina.utils.plot_model(model, to_file=str(tmp_path / "m.svg"))  # SVG needs nothing
    assert ET.parse(tmp_path / "m.svg").getroot().tag == SVG + "svg"


def test_plot_history_png(tmp_path):
    pytest.importorskip("matplotlib", reason="plot_history needs matplotlib")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    model = lamina.Sequential([layers.Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0)
    path = tmp_path / "plots" / "history.png"
    fig = lamina.utils.plot_history(history, path)
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1000
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "mae"]
    assert [len(line.get_xdata()) for line in fig.axes[0].lines] == [3, 3]  # loss and val_loss
    with pytest.raises(ValueError, match="empty"):
        lamina.utils.plot_history({}, tmp_path / "e.png")


def test_plot_history_without_matplotlib(tmp_path, monkeypatch):
    _hide_matplotlib(monkeypatch)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        lamina.utils.plot_history({"loss": [1.0, 0.5]}, tmp_path / "h.png")
    assert not (tmp_path / "h.png").exists()


def test_plot_model_ops_on_symbolic_tensors(tmp_path):
    x = lamina.Input((4,), name="x")
    y = lamina.ops.relu(layers.Dense(3, name="d")(x)) + 1.0
    model = lamina.Model(x, y)
    nodes, edges, texts = _svg(model, tmp_path / "ops.svg")
    assert [t for t in texts if "(" in t] == ["x (InputLayer)", "d (Dense)", "relu (Relu)", "add (Add)"]  # as summary()
    assert len(edges) == _connections(model) == 3

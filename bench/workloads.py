"""The reference workloads of WORKLOADS.md (W1-W5) built identically in lamina
(Keras-style API, `model.fit` / `model.predict`) and in PyTorch (eager, or
`torch.compile` with compiled=True). Used by bench/run.py; each builder returns
(train_step_fn, n_samples_per_call) or (infer_fn, n) ready to time."""

import numpy as np


def data(kind, batch, rng):
    if kind == "mlp":
        return rng.standard_normal((batch, 784), dtype=np.float32), rng.integers(0, 10, batch)
    if kind == "convnet":
        return rng.random((batch, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, batch)
    if kind == "resnet":
        return rng.random((batch, 32, 32, 3), dtype=np.float32), rng.integers(0, 10, batch)
    if kind in ("lstm", "gru"):
        return rng.integers(1, 20000, (batch, 200)), rng.integers(0, 2, batch).astype(np.float32)
    if kind == "gpt":
        x = rng.integers(0, 96, (batch, 129))
        return x[:, :-1], x[:, 1:]
    raise ValueError(kind)


# ---------------------------------------------------------------- lamina


def lamina_model(kind):
    import lamina as keras
    from lamina import layers

    keras.utils.set_random_seed(0)
    if kind == "mlp":
        m = keras.Sequential([keras.Input((784,)), layers.Dense(512, activation="relu"),
                              layers.Dense(512, activation="relu"), layers.Dense(10)])
        return m, keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if kind == "convnet":
        m = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
                              layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"),
                              layers.MaxPooling2D(2), layers.Flatten(), layers.Dropout(0.5),
                              layers.Dense(10, activation="softmax")])
        return m, keras.optimizers.Adam(), "sparse_categorical_crossentropy"
    if kind == "resnet":
        def block(x, f, stride):
            y = layers.Conv2D(f, 3, strides=stride, padding="same", use_bias=False)(x)
            y = layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(y)
            y = layers.ReLU()(y)
            y = layers.Conv2D(f, 3, padding="same", use_bias=False)(y)
            y = layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(y)
            if stride != 1 or x.shape[-1] != f:
                x = layers.Conv2D(f, 1, strides=stride, use_bias=False)(x)
                x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
            return layers.ReLU()(layers.Add()([x, y]))

        inp = keras.Input((32, 32, 3))
        x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inp)
        x = layers.ReLU()(layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x))
        for f, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(3):
                x = block(x, f, stride if i == 0 else 1)
        out = layers.Dense(10)(layers.GlobalAveragePooling2D()(x))
        return (keras.Model(inp, out), keras.optimizers.SGD(0.1, momentum=0.9),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    if kind in ("lstm", "gru"):
        rnn = layers.LSTM(128) if kind == "lstm" else layers.GRU(128)
        m = keras.Sequential([keras.Input((200,), dtype="int32"), layers.Embedding(20000, 128), rnn,
                              layers.Dense(1)])
        return m, keras.optimizers.Adam(), keras.losses.BinaryCrossentropy(from_logits=True)
    if kind == "gpt":
        d, heads, T = 128, 4, 128
        class PositionEmbedding(layers.Layer):
            def build(self, input_shape):
                self.pos = self.add_weight(shape=(T, d), initializer="random_normal", name="pos")

            def call(self, x):
                return x + self.pos

            def compute_output_shape(self, input_shape):
                return input_shape

        inp = keras.Input((T,), dtype="int32")
        x = PositionEmbedding()(layers.Embedding(96, d)(inp))
        for _ in range(4):
            h = layers.LayerNormalization(epsilon=1e-5)(x)
            h = layers.MultiHeadAttention(heads, d // heads)(h, h, use_causal_mask=True)
            x = x + h
            h = layers.LayerNormalization(epsilon=1e-5)(x)
            h = layers.Dense(4 * d, activation="gelu")(h)
            x = x + layers.Dense(d)(h)
        out = layers.Dense(96)(layers.LayerNormalization(epsilon=1e-5)(x))
        return (keras.Model(inp, out), keras.optimizers.AdamW(3e-4),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    raise ValueError(kind)


def lamina_train(kind, batch, rng, steps=8):
    m, opt, loss = lamina_model(kind)
    m.compile(optimizer=opt, loss=loss)
    x, y = data(kind, batch * steps, rng)
    return (lambda: m.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)), batch * steps


def lamina_infer(kind, batch, rng):
    m, opt, loss = lamina_model(kind)
    x, _ = data(kind, batch, rng)
    if batch == 1:
        return (lambda: m.predict_on_batch(x)), 1
    return (lambda: m.predict(x, batch_size=batch, verbose=0)), batch


def lamina_train_step(kind, rng):
    m, opt, loss = lamina_model(kind)
    m.compile(optimizer=opt, loss=loss)
    x, y = data(kind, 1, rng)
    return (lambda: m.train_on_batch(x, y)), 1


# ---------------------------------------------------------------- PyTorch


def torch_model(kind):
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    if kind == "mlp":
        m = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
        return m, torch.optim.Adam(m.parameters(), 1e-3), nn.CrossEntropyLoss()
    if kind == "convnet":
        m = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5),
                          nn.Linear(1600, 10))
        return m, torch.optim.Adam(m.parameters(), 1e-3), nn.CrossEntropyLoss()
    if kind == "resnet":
        class Block(nn.Module):
            def __init__(self, cin, f, stride):
                super().__init__()
                self.c1 = nn.Conv2d(cin, f, 3, stride, 1, bias=False)
                self.b1 = nn.BatchNorm2d(f, momentum=0.1, eps=1e-5)
                self.c2 = nn.Conv2d(f, f, 3, 1, 1, bias=False)
                self.b2 = nn.BatchNorm2d(f, momentum=0.1, eps=1e-5)
                self.sc = None
                if stride != 1 or cin != f:
                    self.sc = nn.Sequential(nn.Conv2d(cin, f, 1, stride, bias=False), nn.BatchNorm2d(f))

            def forward(self, x):
                y = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
                return torch.relu(y + (self.sc(x) if self.sc else x))

        blocks, cin = [], 16
        for f, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(3):
                blocks.append(Block(cin, f, stride if i == 0 else 1))
                cin = f
        m = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                          *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
        return m, torch.optim.SGD(m.parameters(), 0.1, momentum=0.9), nn.CrossEntropyLoss()
    if kind in ("lstm", "gru"):
        class RNN(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(20000, 128)
                self.rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(128, 128, batch_first=True)
                self.out = nn.Linear(128, 1)

            def forward(self, x):
                _, h = self.rnn(self.emb(x))
                h = h[0] if kind == "lstm" else h
                return self.out(h[0]).squeeze(-1)

        m = RNN()
        return m, torch.optim.Adam(m.parameters(), 1e-3), nn.BCEWithLogitsLoss()
    if kind == "gpt":
        class Blk(nn.Module):
            def __init__(self):
                super().__init__()
                self.l1, self.l2 = nn.LayerNorm(128), nn.LayerNorm(128)
                self.att = nn.MultiheadAttention(128, 4, batch_first=True)
                self.mlp = nn.Sequential(nn.Linear(128, 512), nn.GELU(), nn.Linear(512, 128))
                self.register_buffer("mask", torch.triu(torch.ones(128, 128, dtype=torch.bool), 1))

            def forward(self, x):
                h = self.l1(x)
                x = x + self.att(h, h, h, attn_mask=self.mask, need_weights=False)[0]
                return x + self.mlp(self.l2(x))

        class GPT(nn.Module):
            def __init__(self):
                super().__init__()
                self.tok, self.pos = nn.Embedding(96, 128), nn.Embedding(128, 128)
                self.blocks = nn.Sequential(*[Blk() for _ in range(4)])
                self.norm, self.head = nn.LayerNorm(128), nn.Linear(128, 96)

            def forward(self, x):
                h = self.tok(x) + self.pos.weight[None]
                return self.head(self.norm(self.blocks(h))).reshape(-1, 96)

        m = GPT()
        return m, torch.optim.AdamW(m.parameters(), 3e-4), nn.CrossEntropyLoss()
    raise ValueError(kind)


def _torch_xy(kind, x, y):
    import torch

    if kind in ("convnet", "resnet"):
        x = x.transpose(0, 3, 1, 2).copy()
    tx = torch.tensor(x)
    ty = torch.tensor(y.reshape(-1) if kind == "gpt" else y)
    return tx, ty


def torch_train(kind, batch, rng, steps=8, compiled=False):
    import torch

    m, opt, loss_fn = torch_model(kind)
    fwd = torch.compile(m) if compiled else m
    x, y = data(kind, batch * steps, rng)
    tx, ty = _torch_xy(kind, x, y)

    def epoch():
        m.train()
        for i in range(steps):
            xb, yb = tx[i * batch:(i + 1) * batch], ty[i * batch * (128 if kind == "gpt" else 1):(i + 1) * batch * (128 if kind == "gpt" else 1)]
            opt.zero_grad(set_to_none=True)
            loss_fn(fwd(xb), yb).backward()
            opt.step()

    return epoch, batch * steps


def torch_infer(kind, batch, rng, compiled=False):
    import torch

    m, _, _ = torch_model(kind)
    m.eval()
    fwd = torch.compile(m) if compiled else m
    x, y = data(kind, batch, rng)
    tx, _ = _torch_xy(kind, x, y)

    def run():
        with torch.no_grad():
            fwd(tx)

    return run, batch


def torch_train_step(kind, rng):
    return torch_train(kind, 1, rng, steps=1)

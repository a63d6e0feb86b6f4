"""A small character-level GPT: token + positional embeddings, causal MultiHeadAttention,
LayerNormalization, trained on Hamlet (or the Python standard library's sources).

Reports validation bits per character and samples text with a temperature.

    python examples/char_transformer.py [--quick] [--source auto|hamlet|stdlib] [--temperature 0.8]
"""

import argparse
import math
import time

import numpy as np

import _utils  # noqa: F401
import lamina as keras
from lamina import datasets, layers, ops


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, dim, **kwargs):
        super().__init__(**kwargs)
        self.maxlen, self.vocab_size, self.dim = maxlen, vocab_size, dim
        self.token_emb = layers.Embedding(vocab_size, dim)
        self.pos_emb = layers.Embedding(maxlen, dim)

    def call(self, x):
        positions = ops.arange(0, ops.shape(x)[-1])
        return self.token_emb(x) + self.pos_emb(positions)

    def get_config(self):
        return {**super().get_config(), "maxlen": self.maxlen,
                "vocab_size": self.vocab_size, "dim": self.dim}


def transformer_block(x, dim, heads, dropout):
    h = layers.LayerNormalization(epsilon=1e-5)(x)
    h = layers.MultiHeadAttention(num_heads=heads, key_dim=dim // heads, dropout=dropout)(
        h, h, use_causal_mask=True)
    x = x + h
    h = layers.LayerNormalization(epsilon=1e-5)(x)
    h = layers.Dense(4 * dim, activation="gelu")(h)
    h = layers.Dense(dim)(h)
    h = layers.Dropout(dropout)(h)
    return x + h


def build_model(vocab_size, maxlen, dim, heads, blocks, dropout):
    inputs = keras.Input(shape=(maxlen,), dtype="int64")
    x = TokenAndPositionEmbedding(maxlen, vocab_size, dim)(inputs)
    for _ in range(blocks):
        x = transformer_block(x, dim, heads, dropout)
    x = layers.LayerNormalization(epsilon=1e-5)(x)
    logits = layers.Dense(vocab_size)(x)
    return keras.Model(inputs, logits, name="char_gpt")


def windows(ids, maxlen, n, rng):
    starts = rng.integers(0, len(ids) - maxlen - 1, size=n)
    idx = starts[:, None] + np.arange(maxlen + 1)[None, :]
    w = ids[idx]
    return w[:, :-1], w[:, 1:]


def generate(model, prompt, char_to_id, id_to_char, maxlen, n_chars, temperature, rng):
    ids = [char_to_id.get(c, 0) for c in prompt]
    for _ in range(n_chars):
        ctx = ids[-maxlen:]
        pad = maxlen - len(ctx)
        x = np.array([ctx + [0] * pad], dtype=np.int64)  # causal: padding after is never seen
        logits = ops.convert_to_numpy(model(x, training=False))[0, len(ctx) - 1].astype(np.float64)
        logits = logits / max(temperature, 1e-6)
        p = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(p), p=p / p.sum())))
    return "".join(id_to_char[i] for i in ids)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--source", default="auto", choices=["auto", "hamlet", "stdlib"])
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)

    text = datasets.char_corpus.load_data(args.source, max_chars=400_000)
    chars = sorted(set(text))
    char_to_id = {c: i for i, c in enumerate(chars)}
    ids = np.array([char_to_id[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(ids))
    train_ids, val_ids = ids[:split], ids[split:]
    print(f"{len(text)} characters, vocabulary {len(chars)}")

    maxlen, dim, heads, blocks = (64, 64, 4, 2) if args.quick else (64, 96, 4, 3)
    epochs = args.epochs or (4 if args.quick else 6)
    n_train = 3000 if args.quick else 10000
    model = build_model(len(chars), maxlen, dim, heads, blocks, dropout=0.0 if args.quick else 0.1)
    model.summary()
    model.compile(optimizer=keras.optimizers.Adam(3e-3 if args.quick else 1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    x_val, y_val = windows(val_ids, maxlen, 500, np.random.default_rng(1))
    t0 = time.time()
    history = {"loss": [], "val_loss": []}
    for epoch in range(epochs):  # fresh random windows each epoch
        x, y = windows(train_ids, maxlen, n_train, rng)
        h = model.fit(x, y, batch_size=64, epochs=1, validation_data=(x_val, y_val), verbose=2)
        for k in history:
            history[k] += h.history[k]
        print(f"epoch {epoch + 1}/{epochs}: val bits/char {h.history['val_loss'][-1] / math.log(2):.3f}")
    val_loss = float(model.evaluate(x_val, y_val, verbose=0))
    bpc = val_loss / math.log(2)
    unigram = np.bincount(train_ids, minlength=len(chars)) / len(train_ids)
    unigram_bpc = float(-(np.bincount(val_ids, minlength=len(chars)) / len(val_ids)
                          * np.log2(np.maximum(unigram, 1e-12))).sum())
    _utils.metric_line(val_bits_per_char=bpc, unigram_bits_per_char=unigram_bpc,
                       train_seconds=round(time.time() - t0, 1))

    prompt = text[split:split + 32]
    sample = generate(model, prompt, char_to_id, chars, maxlen, 200 if not args.quick else 80,
                      args.temperature, np.random.default_rng(2))
    print(f"--- sample (temperature {args.temperature}) ---\n{sample}\n---")
    _utils.save_model(model, "char_transformer")
    _utils.plot_history(history, "char_transformer")


if __name__ == "__main__":
    main()

"""Sentiment classification of Rotten Tomatoes reviews with Embedding(mask_zero=True) + LSTM.

    python examples/lstm_sentiment.py [--quick] [--cell lstm|gru] [--bidirectional]
"""

import argparse
import time

import numpy as np

import _utils  # noqa: F401
import lamina as keras
from lamina import datasets, layers
from lamina.utils import WordTokenizer


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--vocab", type=int, default=10000)
    p.add_argument("--maxlen", type=int, default=40)
    args = p.parse_args()
    keras.utils.set_random_seed(0)
    epochs = args.epochs or (2 if args.quick else 8)

    (x_train, y_train), (x_test, y_test) = datasets.rotten_tomatoes.load_data()
    tokenizer = WordTokenizer(num_words=args.vocab).fit(x_train)
    seq_train = tokenizer(x_train, maxlen=args.maxlen)
    seq_test = tokenizer(x_test, maxlen=args.maxlen)
    print(f"{len(seq_train)} train / {len(seq_test)} test reviews, vocabulary {tokenizer.vocabulary_size}")

    rnn = layers.LSTM(64) if args.cell == "lstm" else layers.GRU(64)
    if args.bidirectional:
        rnn = layers.Bidirectional(rnn)
    model = keras.Sequential([
        keras.Input(shape=(args.maxlen,), dtype="int64"),
        layers.Embedding(tokenizer.vocabulary_size, 64, mask_zero=True),
        layers.SpatialDropout1D(0.3),  # drops whole word vectors: the corpus is small
        rnn,
        layers.Dropout(0.3),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.summary()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])

    t0 = time.time()
    # A few thousand reviews overfit within epochs: keep the weights of the best one.
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(seq_train, y_train, batch_size=64, epochs=epochs,
                        validation_split=0.1, verbose=2, callbacks=[stop])
    loss, acc = model.evaluate(seq_test, y_test, verbose=0)
    majority = max(y_test.mean(), 1 - y_test.mean())
    _utils.metric_line(cell=args.cell + ("-bi" if args.bidirectional else ""),
                       test_loss=float(loss), test_accuracy=float(acc),
                       majority_baseline=float(majority), train_seconds=round(time.time() - t0, 1))

    samples = ["A moving, beautifully acted and often very funny film.",
               "Dull, lifeless and far too long; a waste of a talented cast."]
    probs = np.asarray(model.predict(tokenizer(samples, maxlen=args.maxlen), verbose=0)).ravel()
    for s, pr in zip(samples, probs):
        print(f"  p(fresh)={pr:.2f}  {s}")
    _utils.save_model(model, "lstm_sentiment")
    _utils.plot_history(history, "lstm_sentiment")


if __name__ == "__main__":
    main()

"""Forecast San Francisco's hourly temperature `--horizon` hours ahead from the past
48 hours with an LSTM, compared with the naive last-value baseline (MAE in °F).

Data: NOAA hourly temperatures for 2010 (PyPI vega_datasets==0.9.0), split in time
order into train / validation / test.  These are smooth climatological normals with a
strong daily cycle, so the value 24 hours earlier ("seasonal naive") is also reported:
it is a much harder baseline than the last value.

    python examples/timeseries_lstm.py [--quick] [--horizon 6]
"""

import argparse
import time

import numpy as np

import _utils  # noqa: F401
import lamina as keras
from lamina import datasets, layers


def make_windows(series, past, horizon):
    n = len(series) - past - horizon + 1
    idx = np.arange(past)[None, :] + np.arange(n)[:, None]
    x = series[idx][..., None]
    y = series[past - 1 + horizon: past - 1 + horizon + n]
    return x.astype("float32"), y.astype("float32")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--horizon", type=int, default=6)
    ap.add_argument("--past", type=int, default=48)
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args()
    keras.utils.set_random_seed(0)

    temps, dates = datasets.sf_temps.load_data()
    n = len(temps)
    train, val, test = temps[: int(0.7 * n)], temps[int(0.7 * n): int(0.85 * n)], temps[int(0.85 * n):]
    print(f"{n} hourly values {dates[0]} .. {dates[-1]}; train {len(train)}, val {len(val)}, test {len(test)}")
    x_train, y_train = make_windows(train, args.past, args.horizon)
    x_val, y_val = make_windows(val, args.past, args.horizon)
    x_test, y_test = make_windows(test, args.past, args.horizon)

    mean, std = float(train.mean()), float(train.std())
    norm = layers.Normalization(mean=mean, variance=std ** 2)
    inputs = keras.Input(shape=(args.past, 1))
    x = norm(inputs)
    x = layers.LSTM(32)(x)
    x = layers.Dense(16, activation="relu")(x)
    # Predict the change from the last observed value, in units of std.
    delta = layers.Dense(1)(x)
    last = layers.Lambda(lambda t: t[:, -1, :])(inputs)
    outputs = layers.Add()([last, layers.Rescaling(std)(delta)])
    model = keras.Model(inputs, outputs, name="forecaster")
    model.summary()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="mae")

    epochs = args.epochs or (3 if args.quick else 15)
    t0 = time.time()
    history = model.fit(x_train, y_train, batch_size=64, epochs=epochs,
                        validation_data=(x_val, y_val), verbose=2)
    pred = np.asarray(model.predict(x_test, verbose=0)).ravel()
    lstm_mae = float(np.mean(np.abs(pred - y_test)))
    naive_mae = float(np.mean(np.abs(x_test[:, -1, 0] - y_test)))
    extra = {}
    if args.horizon <= 24 <= args.past + args.horizon - 1:
        seasonal = x_test[:, args.past - 1 + args.horizon - 24, 0]
        extra["seasonal_naive_mae"] = float(np.mean(np.abs(seasonal - y_test)))
    _utils.metric_line(horizon_hours=args.horizon, lstm_mae=lstm_mae, naive_mae=naive_mae, **extra,
                       improvement=1.0 - lstm_mae / naive_mae, train_seconds=round(time.time() - t0, 1))
    _utils.save_model(model, "timeseries_lstm")
    _utils.plot_history(history, "timeseries_lstm")


if __name__ == "__main__":
    main()

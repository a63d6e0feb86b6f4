"""Recurrent layers (`keras.layers.RNN`, `LSTM`, `GRU`, `SimpleRNN`, their
cells, `Bidirectional` and `TimeDistributed`)."""

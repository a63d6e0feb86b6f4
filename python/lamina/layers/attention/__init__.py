"""Attention layers (`keras.layers.Attention`, `AdditiveAttention`, `MultiHeadAttention`)."""

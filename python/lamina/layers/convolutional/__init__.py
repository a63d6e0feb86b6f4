"""Convolution layers (`keras.layers.Conv*`)."""

"""lamina.layers submodule."""

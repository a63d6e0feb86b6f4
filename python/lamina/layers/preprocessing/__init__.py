"""lamina.layers submodule."""

# `lamina.ops` has no `image` namespace: the shared image warp lives here.
from lamina.layers.preprocessing.image_transform import affine_transform  # noqa: F401

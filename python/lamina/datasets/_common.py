"""Shared helpers for `lamina.datasets`: locate a local copy, verify it, or download it."""

import hashlib
import os
import urllib.request


class DatasetNotFoundError(FileNotFoundError):
    """Raised when a dataset is neither available locally nor downloadable."""


def cache_dir():
    """The cache folder: `$LAMINA_DATASETS_DIR` or `~/.lamina/datasets`."""
    d = os.environ.get("LAMINA_DATASETS_DIR")
    if not d:
        d = os.path.join(os.path.expanduser("~"), ".lamina", "datasets")
    return d


def sha256(path, chunk=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def verify(path, expected):
    if expected is None:  # the caller verifies the decoded content instead
        return path
    got = sha256(path)
    if got != expected:
        raise ValueError(
            f"Checksum mismatch for {path}: expected sha256 {expected}, got {got}. "
            "The file is corrupt or a different version; delete it and try again."
        )
    return path


def verify_bytes(data, expected, what):
    got = hashlib.sha256(data).hexdigest()
    if got != expected:
        raise ValueError(
            f"Checksum mismatch for the content of {what}: expected sha256 {expected}, got {got}. "
            "The file is corrupt or a different version; delete it and try again."
        )
    return data


def package_file(dist_name, relpath):
    """Path of a data file shipped inside an installed distribution, without importing it."""
    try:
        from importlib.metadata import PackageNotFoundError, distribution
    except ImportError:  # pragma: no cover
        return None
    try:
        p = distribution(dist_name).locate_file(relpath)
    except PackageNotFoundError:
        return None
    p = str(p)
    return p if os.path.isfile(p) else None


def fetch(fname, candidates, sha, url, subdir="", download=True):
    """Return a verified local path for `fname`.

    Looks at each of `candidates` (existing paths win, in order), then the cache
    folder, then downloads `url` into the cache.  Every file is checked against `sha`
    (None: the caller checks the decoded content, see `verify_bytes`).
    """
    for c in candidates:
        if c and os.path.isfile(c):
            return verify(c, sha)
    cached = os.path.join(cache_dir(), subdir, fname)
    if os.path.isfile(cached):
        return verify(cached, sha)
    if not download or url is None:
        raise DatasetNotFoundError(_missing_message(fname, candidates, cached, url))
    os.makedirs(os.path.dirname(cached), exist_ok=True)
    tmp = cached + ".part"
    try:
        with urllib.request.urlopen(url, timeout=30) as r, open(tmp, "wb") as f:
            while True:
                block = r.read(1 << 20)
                if not block:
                    break
                f.write(block)
    except Exception as e:  # offline, firewall, HTTP error...
        if os.path.exists(tmp):
            os.remove(tmp)
        raise DatasetNotFoundError(
            _missing_message(fname, candidates, cached, url) + f"\nDownload failed: {e!r}"
        ) from e
    try:
        verify(tmp, sha)
    except ValueError:
        os.remove(tmp)
        raise
    os.replace(tmp, cached)
    return cached


def _missing_message(fname, candidates, cached, url):
    looked = [c for c in candidates if c] + [cached]
    msg = f"Dataset file {fname!r} not found. Looked in:\n  " + "\n  ".join(looked)
    if url:
        msg += f"\nand it could not be downloaded from {url}."
    msg += f"\nPlace the file in {os.path.dirname(cached)} (or set LAMINA_DATASETS_DIR) to use it offline."
    return msg


def site_file(*parts):
    """Candidates under every site-packages directory (used when metadata lookup fails)."""
    import site
    import sys

    dirs = list(getattr(site, "getsitepackages", lambda: [])())
    try:
        dirs.append(site.getusersitepackages())
    except Exception:
        pass
    dirs += [p for p in sys.path if p.endswith("-packages")]
    return [os.path.join(d, *parts) for d in dict.fromkeys(dirs)]

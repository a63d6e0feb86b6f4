"""Hourly San Francisco temperatures for 2010 (NOAA), from PyPI `vega_datasets==0.9.0`."""

import numpy as np

from lamina.datasets._common import fetch, package_file

_REL = "vega_datasets/_data/sf-temps.csv"
_SHA = "3f91699707cfed43ef551394bebef4c2ebe5505157b9be7bff9558eea2fbaaec"
_URL = "https://raw.githubusercontent.com/altair-viz/vega_datasets/v0.9.0/" + _REL


def load_data():
    """Return `(temps, dates)`: float32 temperatures in °F (8,759 hourly values) and
    the matching date strings, in time order."""
    path = fetch("sf-temps.csv", [package_file("vega_datasets", _REL)], _SHA, _URL)
    temps, dates = [], []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            t, d = line.rstrip("\n").split(",", 1)
            temps.append(float(t))
            dates.append(d)
    return np.array(temps, dtype=np.float32), np.array(dates)

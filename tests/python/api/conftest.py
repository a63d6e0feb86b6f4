"""Fixtures for the Keras-style API tests (folder not named keras, which would
shadow the real keras package the parity tests compare against): fresh layer names and a fixed seed."""

import numpy as np
import pytest

import lamina


@pytest.fixture(autouse=True)
def _fresh_session():
    lamina.backend.clear_session()
    lamina.utils.set_random_seed(1337)
    yield


@pytest.fixture
def nprng():
    return np.random.default_rng(0)

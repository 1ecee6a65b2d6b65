import random

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def seed():
    """Seed every generator before each test; tests compare numerics in float64."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    return 0

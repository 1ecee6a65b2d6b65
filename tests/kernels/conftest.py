"""Shared fixtures for the kernel tests."""

import pytest
import torch


@pytest.fixture(autouse=True)
def seed():
    """Seed torch (and so every random input) for each test."""
    torch.manual_seed(0)
    return 0

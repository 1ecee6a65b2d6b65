"""Shared fixtures: seeding, the real sample data folder, a temporary cache folder."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

# Two cores: keep torch from oversubscribing when tests start subprocesses.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _seed() -> None:
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Never write into the user's ~/.cache/sciml from tests."""
    monkeypatch.setenv("SCIML_DATA", str(tmp_path_factory.mktemp("sciml_cache")))


@pytest.fixture
def one_thread():
    """Tiny models and fits: one torch thread (two spinning OpenMP threads on a loaded 2-core
    machine are 10-20x slower); the previous count is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sample data folder {SHARED_DATA} is not present")
    return SHARED_DATA

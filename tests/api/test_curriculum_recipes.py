"""The cyclical curriculum switched on from a recipe (``train.curriculum``) in two job families."""

from __future__ import annotations

import csv

import pytest

import sciml
from tests.api.conftest import tiny_recipe

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("family", ["forecasting", "operator"])
def test_a_recipe_trains_with_the_cyclical_curriculum(tmp_path, family):
    recipe = tiny_recipe(family).with_overrides(
        ["train.curriculum={method: cyclical, start: 0.5, multiplier: 0.5}",
         "train.max_epochs=3"])
    report = sciml.fit(recipe, run_dir=tmp_path / "run", progress=False)
    assert report["test"] and sciml.load_run(tmp_path / "run").report is not None
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    # passes of half and all of the training set, three epochs' worth of examples
    assert [float(r["curriculum/fraction"]) for r in rows] == pytest.approx(
        [0.5, 1.0, 0.5, 1.0], abs=0.01)

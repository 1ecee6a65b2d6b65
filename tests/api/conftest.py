"""Tiny recipes of every job family, shared by the public-API tests."""

from __future__ import annotations

from pathlib import Path

import pytest

import sciml

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# One tiny recipe per job family (seconds each on one thread).
TINY: dict[str, tuple[str, list[str]]] = {
    "forecasting": ("gpvar-tts", [
        "data.options={n_steps: 400, n_nodes: 12}", "model.hidden_size=8",
        "train.max_epochs=2", "train.checkpoint_every_steps=2", "train.tensorboard=false"]),
    "operator": ("darcy-mgno", [
        "data.options={n_train: 8, n_test: 2, resolution: 17}", "model.width=8",
        "model.n_layers=2", "model.num_smooth=[1, 1]", "train.max_epochs=2",
        "train.batch_size=4", "train.checkpoint_every_steps=1", "train.scheduler=null",
        "train.tensorboard=false"]),
    "physics_informed": ("convection-lpinn", [
        "train.n_x=8", "train.n_t=4", "train.adam_steps=6", "train.lbfgs_steps=4",
        "train.lbfgs_chunk=2", "train.checkpoint_every=2", "model.width=8", "eval.n_x=16",
        "eval.n_t=5"]),
    "hard_constraint": ("diffusion-sorption-hcmoe", [
        "problem.n_x=16", "problem.n_t=6", "problem.n_train=3", "problem.n_test=1",
        "train.steps=4", "train.checkpoint_every=1", "model.n_points=40",
        "model.backbone={width: 4, n_layers: 1, levels: 2}", "model.n_basis=4"]),
    "molecular": ("rmd17-ponita", [
        f"data.options={{path: '{SHARED / 'molecular' / 'rmd17_aspirin_15frames.npz'}', "
        "split: null, n_train: 8, n_val: 2}", "train.max_epochs=2", "train.batch_size=4",
        "model.hidden_size=8", "model.n_layers=1", "model.basis_dim=8", "model.num_ori=4",
        "train.tensorboard=false", "eval.eval_rotations=0"]),
    "nbody": ("nbody-ponita", [
        "data.options={n_train: 8, n_val: 4, n_test: 4, n_steps: 1000, frame_in: 3, "
        "frame_out: 6}", "train.max_epochs=2", "train.batch_size=4", "model.hidden_size=8",
        "model.n_layers=1", "model.basis_dim=8", "model.num_ori=4", "train.tensorboard=false",
        "train.scheduler=null"]),
}


def tiny_recipe(family: str) -> sciml.Recipe:
    name, overrides = TINY[family]
    if family == "molecular" and not SHARED.is_dir():
        pytest.skip(f"real sample data folder {SHARED} is not present")
    return sciml.load_recipe(name, overrides)

"""Graph with a schema: field checks, validation, schema-driven batching, PyG loaders."""

import pytest
import torch
from torch_geometric.loader import DataLoader

from sciml.data import Batch, Graph
from sciml.errors import ConfigError, DataError


# Not named MoleculeGraph: PyG caches its batch classes by name ("<Name>Batch"), so a second
# graph class of the same name as sciml.datasets.MoleculeGraph would batch as that one.
class ToyMolecule(Graph):
    schema = {"z": "n", "pos": "n 3", "edge_index": "2 e : n", "energy": "g", "forces": "n 3"}


def _molecule(n: int, e: int) -> ToyMolecule:
    return ToyMolecule(
        z=torch.randint(1, 9, (n,)),
        pos=torch.randn(n, 3, dtype=torch.float64),
        edge_index=torch.randint(0, n, (2, e)),
        energy=torch.randn(1, dtype=torch.float64),
        forces=torch.randn(n, 3, dtype=torch.float64),
    )


def test_unknown_field_is_an_error():
    g = _molecule(3, 4)
    with pytest.raises(DataError) as info:
        g.charge = torch.zeros(3)
    msg = str(info.value)
    assert "'charge'" in msg and "['edge_index', 'energy', 'forces', 'pos', 'z']" in msg
    with pytest.raises(DataError, match="'x' is not in the schema of ToyMolecule"):
        ToyMolecule(x=torch.zeros(3, 1))
    with pytest.raises(DataError, match="'charge'"):
        g["charge"] = torch.zeros(3)
    Graph(x=torch.zeros(3, 2), y=torch.zeros(1, 1))  # the base schema has x and y


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"pos": torch.zeros(4, 2)}, ["'pos'", "(4, 2)", "'n 3'"]),
        ({"pos": torch.zeros(4, 3), "x": torch.zeros(5, 1)}, ["dimension 'n'", "'x'", "'pos'"]),
        ({"edge_index": torch.zeros(3, 2, dtype=torch.long)}, ["'edge_index'", "(3, 2)"]),
        ({"x": torch.zeros(3, 1), "edge_index": torch.tensor([[0], [3]])},
         ["'edge_index'", "outside [0, 3)"]),
        ({"x": torch.zeros(3, 1), "edge_index": torch.tensor([[0.0], [1.0]])}, ["integer"]),
        ({"x": torch.zeros(3, 1), "edge_index": torch.tensor([[0], [1]]),
          "edge_attr": torch.zeros(2, 4)}, ["dimension 'e'", "'edge_attr'"]),
        ({"y": torch.zeros(1)}, ["'y'", "'g 1'"]),
    ],
)
def test_validate_names_the_problem(fields, words):
    with pytest.raises(DataError) as info:
        Graph(**fields)
    for w in words:
        assert w in str(info.value)


def test_validate_after_assignment_and_num_nodes():
    g = Graph(x=torch.zeros(4, 2))
    g.pos = torch.zeros(5, 3)  # assignment checks the name; validate() checks the shape
    assert not g.validate(raise_on_error=False)
    with pytest.raises(DataError, match="dimension 'n'"):
        g.validate()
    h = Graph(edge_index=torch.tensor([[0, 1], [1, 0]]))
    h.num_nodes = 5  # isolated nodes 2..4
    assert h.num_nodes == 5 and h.validate()
    k = Graph(x=torch.zeros(4, 2))
    k.num_nodes = 6
    with pytest.raises(DataError, match="num_nodes = 6"):
        k.validate()


def test_bad_schema_is_rejected_at_class_definition():
    with pytest.raises(ConfigError, match="bad token"):
        type("Bad", (Graph,), {"schema": {"x": "n f-1"}})


def test_batch_round_trip():
    graphs = [_molecule(3, 4), _molecule(5, 2), _molecule(2, 3)]
    b = Batch.from_graphs(graphs)
    assert isinstance(b, ToyMolecule) and b.num_graphs == 3
    assert b.pos.shape == (10, 3) and b.energy.shape == (3,) and b.edge_index.shape == (2, 9)
    assert b.batch.tolist() == [0] * 3 + [1] * 5 + [2] * 2
    assert torch.equal(b.edge_index[:, 4:6], graphs[1].edge_index + 3)  # shifted by node counts
    assert torch.equal(b.edge_index[:, 6:], graphs[2].edge_index + 8)
    back = b.to_data_list()
    assert [type(g) for g in back] == [ToyMolecule] * 3
    for g0, g1 in zip(graphs, back, strict=True):
        for key in ToyMolecule.schema:
            assert torch.equal(g0[key], g1[key]), key
    with pytest.raises(TypeError, match="graph 1 is a Graph"):
        Batch.from_graphs([graphs[0], Graph(x=torch.zeros(2, 1))])


def test_batching_follows_schema_not_names():
    class CellGraph(Graph):
        schema = {"pos": "n 2", "cells": "3 m : n", "node_index": "n", "box": "2 2",
                  "label": "g"}
        batch_dims = ("n", "e", "g", "m")

    g0 = CellGraph(pos=torch.rand(4, 2), cells=torch.tensor([[0], [1], [2]]),
                   node_index=torch.tensor([7, 8, 9, 10]), box=torch.eye(2),
                   label=torch.tensor([1]))
    g1 = CellGraph(pos=torch.rand(3, 2), cells=torch.tensor([[0, 1], [1, 2], [2, 0]]),
                   node_index=torch.tensor([0, 1, 2]), box=2 * torch.eye(2),
                   label=torch.tensor([0]))
    b = Batch.from_graphs([g0, g1])
    assert b.cells.tolist() == [[0, 4, 5], [1, 5, 6], [2, 6, 4]]  # ": n" shifts by nodes
    assert b.node_index.tolist() == [7, 8, 9, 10, 0, 1, 2]  # named "*index" yet not shifted
    assert b.box.shape == (2, 2, 2)  # no batch dim: stacked along a new axis
    assert b.label.tolist() == [1, 0]
    assert torch.equal(b.to_data_list()[1].cells, g1.cells)


def test_pyg_dataloader():
    graphs = [_molecule(n, 2 * n) for n in (2, 3, 4, 5, 6)]
    loader = DataLoader(graphs, batch_size=2, shuffle=False)
    batches = list(loader)
    assert [bb.num_graphs for bb in batches] == [2, 2, 1]
    first = batches[0]
    assert first.num_nodes == 5 and first.edge_index.shape == (2, 10)
    assert int(first.edge_index[:, 4:].min()) >= 2  # second graph shifted by 2 nodes
    assert torch.equal(first.forces[2:], graphs[1].forces)
    assert first.validate()

"""Graphs: node classification (GCN, GAT, GraphSAGE on Cora, CiteSeer or your own graph), link
prediction (GAE: a GNN encoder scored by inner products) and graph classification (a GNN and a
read-out per graph): the tasks, the jobs (recipe → run folder) and their configuration."""

from sciml.tasks.graph._graph_job import (
    GraphClassificationJob,
    GraphClassificationTask,
    GraphDataConfig,
    GraphSet,
    collate_graphs,
)
from sciml.tasks.graph._job import NodeClassificationJob, NodeDataConfig, NodeEvalConfig, read_graph
from sciml.tasks.graph._link_job import (
    LinkDataConfig,
    LinkObjectiveConfig,
    LinkPredictionJob,
    read_pairs,
)
from sciml.tasks.graph._links import (
    LinkPredictionTask,
    average_precision,
    roc_auc,
    sample_non_edges,
    split_edges,
)
from sciml.tasks.graph._task import GraphSplit, NodeClassificationTask

__all__ = ["NodeClassificationTask", "GraphSplit", "NodeClassificationJob", "NodeDataConfig",
           "NodeEvalConfig", "read_graph", "LinkPredictionJob", "LinkDataConfig",
           "LinkObjectiveConfig", "LinkPredictionTask", "read_pairs", "split_edges",
           "sample_non_edges", "roc_auc", "average_precision", "GraphClassificationJob",
           "GraphClassificationTask", "GraphDataConfig", "GraphSet", "collate_graphs"]

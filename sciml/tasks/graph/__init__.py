"""Graphs: node classification (GCN, GAT, GraphSAGE on Cora, CiteSeer or your own graph): the
task, the job (recipe → run folder) and its configuration."""

from sciml.tasks.graph._job import NodeClassificationJob, NodeDataConfig, NodeEvalConfig, read_graph
from sciml.tasks.graph._task import GraphSplit, NodeClassificationTask

__all__ = ["NodeClassificationTask", "GraphSplit", "NodeClassificationJob", "NodeDataConfig",
           "NodeEvalConfig", "read_graph"]

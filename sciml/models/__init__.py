"""Complete models, registered by name (``sciml list`` shows them)."""

from sciml.models._base import AbstractModel, load_model, model_from_checkpoint

__all__ = ["AbstractModel", "load_model", "model_from_checkpoint"]

# Spatiotemporal forecasters (stgnn).
from sciml.models.stgnn import (  # noqa: E402
    AGCRN,
    DCRNN,
    STCN,
    AbstractForecaster,
    AGCRNConfig,
    DCRNNConfig,
    GraphWaveNet,
    GraphWaveNetConfig,
    NodeGRU,
    NodeGRUConfig,
    Persistence,
    PersistenceConfig,
    SeasonalNaive,
    SeasonalNaiveConfig,
    STCNConfig,
    TimeThenSpace,
    TimeThenSpaceConfig,
)

__all__ += [
    "AbstractForecaster",
    "TimeThenSpace",
    "TimeThenSpaceConfig",
    "DCRNN",
    "DCRNNConfig",
    "GraphWaveNet",
    "GraphWaveNetConfig",
    "AGCRN",
    "AGCRNConfig",
    "STCN",
    "STCNConfig",
    "Persistence",
    "PersistenceConfig",
    "SeasonalNaive",
    "SeasonalNaiveConfig",
    "NodeGRU",
    "NodeGRUConfig",
]

# Multigrid neural operator and autoregressive rollout (PDE surrogates).
from sciml.models._mgno import MgNO, MgNOConfig, MgNOLayer  # noqa: E402
from sciml.models._rollout import rollout, rollout_loss  # noqa: E402

__all__ += ["MgNO", "MgNOConfig", "MgNOLayer", "rollout", "rollout_loss"]

# PONITA: equivariant message passing over position-orientation space (molecules, particles).
from sciml.models._ponita import Ponita, PonitaConfig  # noqa: E402

__all__ += ["Ponita", "PonitaConfig"]

# Physics-informed networks: the soft-constraint PINN and the Lagrangian PINN.
from sciml.models._lpinn import (  # noqa: E402
    LPINN,
    LPINNConfig,
    lagrangian_residuals,
    lagrangian_to_grid,
)
from sciml.models._pinn import PINN, PINNConfig  # noqa: E402

__all__ += ["PINN", "PINNConfig", "LPINN", "LPINNConfig", "lagrangian_residuals",
            "lagrangian_to_grid"]

# Physics-informed hard constraints with a mixture of experts (PI-HC-MoE) and the soft baseline.
from sciml.models._hc_moe import (  # noqa: E402
    HC_PRESETS,
    HC_PROBLEM_KEYS,
    HardConstrainedOperator,
    HCMoEConfig,
    PISCConfig,
    SoftConstrainedOperator,
    hc_grid_problem,
)

__all__ += ["HardConstrainedOperator", "HCMoEConfig", "SoftConstrainedOperator", "PISCConfig",
            "HC_PRESETS", "HC_PROBLEM_KEYS", "hc_grid_problem"]

# Node classification (GCN, GAT, GraphSAGE).
from sciml.models._gnn import (  # noqa: E402
    GAT,
    GCN,
    GATConfig,
    GCNConfig,
    GraphSAGE,
    GraphSAGEConfig,
)

__all__ += ["GCN", "GCNConfig", "GAT", "GATConfig", "GraphSAGE", "GraphSAGEConfig"]

# NoProp-DT (classification without back-propagation).
from sciml.models._noprop import NoPropConfig, NoPropDT  # noqa: E402

__all__ += ["NoPropDT", "NoPropConfig"]

# ForwardGNN (GNN layers trained one by one, with virtual class nodes and top-down signals).
from sciml.models._forwardgnn import ForwardGNN, ForwardGNNConfig  # noqa: E402

__all__ += ["ForwardGNN", "ForwardGNNConfig"]

# Graph classification: message passing and a per-graph read-out, registered as "graph_gnn".
from sciml.models._graph_gnn import READOUTS, GraphGNN, GraphGNNConfig  # noqa: E402

__all__ += ["GraphGNN", "GraphGNNConfig", "READOUTS"]

# Recurrent relational network (Palm et al. 2018): T message-passing steps, a loss per step.
from sciml.models._rrn import RRN, RRNConfig  # noqa: E402

__all__ += ["RRN", "RRNConfig"]

# Pointer network (Vinyals et al. 2015): attention that points at input positions.
from sciml.models._pointer import PointerNet, PointerNetConfig  # noqa: E402

__all__ += ["PointerNet", "PointerNetConfig"]

# Relational reasoning on typed edges: EpiGNN (Khalid and Schockaert 2025) and an R-GCN baseline.
from sciml.models._epignn import RGCN, EpiGNN, EpiGNNConfig, RGCNConfig  # noqa: E402

__all__ += ["EpiGNN", "EpiGNNConfig", "RGCN", "RGCNConfig"]

# ParetoGNN (Ju et al. 2023): multi-task self-supervised pretraining, gradients combined by MGDA.
from sciml.models._paretognn import (  # noqa: E402
    PRETEXT_TASKS,
    ParetoGNN,
    ParetoGNNConfig,
    min_norm_weights,
)

__all__ += ["ParetoGNN", "ParetoGNNConfig", "min_norm_weights", "PRETEXT_TASKS"]

"""Complete models, registered by name (``sciml list`` shows them)."""

from sciml.models._base import AbstractModel, load_model, model_from_checkpoint

__all__ = ["AbstractModel", "load_model", "model_from_checkpoint"]

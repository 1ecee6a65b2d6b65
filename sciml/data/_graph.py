"""Graphs with a declared schema: a PyG ``Data`` whose batching is read from field dimensions.

PyTorch Geometric guesses how to batch a field from its name (``"index" in key`` is incremented,
``"batch" in key`` is counted); here each graph type declares its fields and their dimensions,
in the spirit of tsl's per-field pattern strings (Cini and Marisca, Torch Spatiotemporal, 2022),
and batching follows the declaration.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor
from torch_geometric.data import Batch as _PygBatch
from torch_geometric.data import Data

from sciml.errors import ConfigError, DataError

__all__ = ["Graph", "Batch", "parse_dims"]

_TOKEN = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+)$")
# Fields PyG's collate writes itself on batches (and `follow_batch` adds `<field>_batch/_ptr`).
_BOOKKEEPING = ("batch", "ptr", "num_nodes")


def parse_dims(spec: str, field: str = "") -> tuple[tuple[str, ...], str | None]:
    """Parse a schema entry ``"d0 d1 ... [: ref]"`` into ``(dims, ref)``.

    Each ``d`` is a dimension name (``n`` nodes, ``e`` edges, ``g`` graphs, or any other name,
    such as ``f`` for features) or a fixed size (``3``). ``: ref`` says the field's *values* are
    indices into dimension ``ref`` (``"edge_index": "2 e : n"``), so batching adds the running
    count of ``ref``. An empty ``dims`` part declares a non-tensor field (a name, a string).
    """
    if not isinstance(spec, str):
        raise ConfigError(f"schema entry {field!r} must be a string like 'n 3', got {spec!r}")
    dims_part, _, ref = spec.partition(":")
    dims = tuple(dims_part.split())
    ref = ref.strip() or None
    for tok in dims + ((ref,) if ref else ()):
        if not _TOKEN.match(tok):
            raise ConfigError(
                f"schema entry {field!r}: {spec!r} has bad token {tok!r}; use names like 'n' "
                "or sizes like '3', and ': n' for index-valued fields"
            )
    if ref is not None and (ref.isdigit() or not dims):
        raise ConfigError(f"schema entry {field!r}: index reference {ref!r} must be a dim name")
    return dims, ref


class Graph(Data):
    """A graph whose fields and their dimensions are declared in ``schema``.

    ``schema`` maps field names to dimension strings (see :func:`parse_dims`). Batching reads it:
    a field is concatenated along its first axis named in ``batch_dims`` (``n`` node-level,
    ``e`` edge-level, ``g`` graph-level), stacked along a new first axis if it has none, and
    fields declared as indices (``": n"``) are shifted by the running count of that dimension.
    Setting a field that is not in the schema is an error. A new graph type is two lines::

        class MoleculeGraph(Graph):
            schema = {"z": "n", "pos": "n 3", "edge_index": "2 e : n", "energy": "g",
                      "forces": "n 3"}

    Args:
        **kwargs: Initial fields (checked with :meth:`validate`); None values are skipped.
    """

    schema: ClassVar[dict[str, str]] = {
        "x": "n f",
        "pos": "n 3",
        "edge_index": "2 e : n",
        "edge_attr": "e a",
        "y": "g 1",
        "batch": "n",
    }
    #: Dimension names along which fields are concatenated when batching.
    batch_dims: ClassVar[tuple[str, ...]] = ("n", "e", "g")
    _parsed: ClassVar[dict[str, tuple[tuple[str, ...], str | None]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # PyG creates `<Graph>Batch` classes dynamically; they inherit the parsed schema.
        if "schema" in cls.__dict__:
            cls._parsed = {k: parse_dims(v, k) for k, v in cls.schema.items()}

    def __init__(self, **kwargs: Any) -> None:
        # The catch-all is named `kwargs` because PyG's dynamic Batch classes inspect
        # `__init__` and pass None for every other named parameter.
        super().__init__()
        fields = {k: v for k, v in kwargs.items() if v is not None}
        for key, value in fields.items():
            setattr(self, key, value)
        if fields:
            self.validate()

    def _check_field(self, key: str) -> None:
        if key.startswith("_") or key in _BOOKKEEPING or key in type(self)._parsed:
            return
        raise DataError(
            f"field {key!r} is not in the schema of {type(self).__name__}; fields: "
            f"{sorted(type(self)._parsed)}. Declare it in a subclass: class My"
            f"{type(self).__name__}({type(self).__name__}): schema = {{**"
            f"{type(self).__name__}.schema, {key!r}: 'n f'}}"
        )

    def __setattr__(self, key: str, value: Any) -> None:
        self._check_field(key)
        super().__setattr__(key, value)

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_field(key)
        super().__setitem__(key, value)

    # -- sizes -------------------------------------------------------------------------------

    def _dim_sizes(self) -> dict[str, int]:
        """Size of each named dimension, read from the first field that has it."""
        sizes: dict[str, int] = {}
        for key, (dims, _) in type(self)._parsed.items():
            value = self._store.get(key) if key in self._store else None
            if not isinstance(value, Tensor) or value.dim() != len(dims):
                continue
            for d, size in zip(dims, value.shape, strict=True):
                if not d.isdigit():
                    sizes.setdefault(d, int(size))
        explicit = self._store.get("num_nodes") if "num_nodes" in self._store else None
        if isinstance(explicit, int):
            sizes["n"] = explicit
        return sizes

    def dim_size(self, name: str) -> int | None:
        """Size of dimension ``name`` in this graph (``g`` defaults to 1), or None if unknown."""
        if name == "n":
            return self.num_nodes
        size = self._dim_sizes().get(name)
        if size is None and name == "g":
            return getattr(self, "num_graphs", 1) if isinstance(self, _PygBatch) else 1
        return size

    @property
    def num_nodes(self) -> int | None:
        """Number of nodes: set explicitly, else the size of ``n`` in the schema's fields."""
        size = self._dim_sizes().get("n")
        return size if size is not None else super().num_nodes

    @num_nodes.setter
    def num_nodes(self, num_nodes: int | None) -> None:
        self._store.num_nodes = num_nodes

    # -- batching ----------------------------------------------------------------------------

    def __cat_dim__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        parsed = type(self)._parsed.get(key)
        if parsed is None:  # bookkeeping fields (`batch`, `ptr`, `<field>_batch`)
            return super().__cat_dim__(key, value, *args, **kwargs)
        dims, _ = parsed
        for axis, d in enumerate(dims):
            if d in type(self).batch_dims:
                return axis
        return None  # no batch dimension: stack along a new first axis

    def __inc__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        parsed = type(self)._parsed.get(key)
        if parsed is None:
            return super().__inc__(key, value, *args, **kwargs)
        _, ref = parsed
        if ref is None:
            return 0
        size = self.dim_size(ref)
        if size is None:
            raise DataError(
                f"{type(self).__name__}: cannot batch {key!r}, whose values index dimension "
                f"{ref!r}: no field gives its size (set num_nodes or a field with {ref!r})"
            )
        return size

    # -- checks ------------------------------------------------------------------------------

    def validate(self, raise_on_error: bool = True) -> bool:
        """Check every field's shape against the schema and index fields against their range.

        Raises:
            DataError: A field with the wrong number of dimensions, a fixed size that differs,
                a named dimension with two sizes, or an index out of range (when
                ``raise_on_error``; otherwise returns False).
        """
        try:
            self._validate()
        except DataError:
            if raise_on_error:
                raise
            return False
        return True

    def _validate(self) -> None:
        name = type(self).__name__
        seen: dict[str, tuple[int, str]] = {}
        parsed = type(self)._parsed
        for key in self._store.keys():
            if key in _BOOKKEEPING and key not in parsed:
                continue
            if key not in parsed:
                raise DataError(f"{name}: field {key!r} is not in the schema {sorted(parsed)}")
            dims, _ = parsed[key]
            value = self._store[key]
            if not dims:
                continue
            if not isinstance(value, Tensor):
                raise DataError(
                    f"{name}: field {key!r} must be a tensor of dims '{' '.join(dims)}', "
                    f"got {type(value).__name__}"
                )
            if value.dim() != len(dims):
                raise DataError(
                    f"{name}: field {key!r} has shape {tuple(value.shape)}, schema says "
                    f"'{type(self).schema[key]}' ({len(dims)} dims)"
                )
            for d, size in zip(dims, value.shape, strict=True):
                size = int(size)
                if d.isdigit():
                    if size != int(d):
                        raise DataError(
                            f"{name}: field {key!r} has shape {tuple(value.shape)}, schema says "
                            f"'{type(self).schema[key]}'"
                        )
                elif d in seen and seen[d][0] != size:
                    other_size, other = seen[d]
                    raise DataError(
                        f"{name}: dimension {d!r} is {size} in field {key!r} "
                        f"{tuple(value.shape)} but {other_size} in field {other!r}"
                    )
                else:
                    seen.setdefault(d, (size, key))
        explicit = self._store.get("num_nodes") if "num_nodes" in self._store else None
        if isinstance(explicit, int) and "n" in seen and seen["n"][0] != explicit:
            raise DataError(
                f"{name}: num_nodes = {explicit} but field {seen['n'][1]!r} has "
                f"{seen['n'][0]} nodes"
            )
        for key, (_, ref) in parsed.items():
            if ref is None or key not in self._store:
                continue
            value = self._store[key]
            if value.is_floating_point() or value.dtype == torch.bool:
                raise DataError(f"{name}: index field {key!r} must be integer, got {value.dtype}")
            # only sizes the fields state; PyG's guess from edge_index would make this vacuous
            size = seen[ref][0] if ref in seen else self._dim_sizes().get(ref)
            if value.numel() and size is not None and (
                int(value.min()) < 0 or int(value.max()) >= size
            ):
                raise DataError(
                    f"{name}: field {key!r} holds indices in [{int(value.min())}, "
                    f"{int(value.max())}], outside [0, {size}) for dimension {ref!r}"
                )


Graph._parsed = {k: parse_dims(v, k) for k, v in Graph.schema.items()}


class Batch(_PygBatch):
    """Mini-batches of :class:`Graph` objects (PyG's ``Batch``, batching by the schema)."""

    @staticmethod
    def from_graphs(graphs: Sequence[Graph]) -> _PygBatch:
        """Validate the graphs and batch them.

        Args:
            graphs: Graphs of one class.

        Returns:
            A ``torch_geometric.data.Batch`` whose class also derives from the graphs' class
            (the object PyG's ``DataLoader`` yields), with ``batch`` (graph id per node) and
            ``ptr``; :meth:`to_data_list` gives the graphs back.
        """
        graphs = list(graphs)
        if not graphs:
            raise ValueError("Batch.from_graphs needs at least one graph, got none")
        cls = type(graphs[0])
        for i, g in enumerate(graphs):
            if not isinstance(g, Graph) or type(g) is not cls:
                raise TypeError(
                    f"Batch.from_graphs: graph {i} is a {type(g).__name__}, expected "
                    f"{cls.__name__} like graph 0"
                )
            g.validate()
        return _PygBatch.from_data_list(graphs)

"""Task-conditioned hypernetworks that emit all weights of another network, chunk by chunk.

Two generators of the same output, a flat vector of the target network's parameters:

- ``"rnn"``: the dependency-preserving hypernetwork of Chandra, Varshney, Srijith and Gupta,
  "Continual Learning with Dependency Preserving Hypernetworks", WACV 2023. An LSTM reads one
  step per chunk, the input ``[e_t; c_i]`` (task embedding, learned chunk embedding); its state
  runs on from chunk to chunk, so chunk ``i`` depends on the chunks before it (the dependencies
  between layers that independent chunks lose), and a linear head maps each hidden state to the
  chunk's weights.
- ``"mlp"``: the chunked hypernetwork of von Oswald, Henning, Sacramento and Grewe, "Continual
  learning with hypernetworks", ICLR 2020: an MLP maps ``[e_t; c_i]`` to chunk ``i``, each chunk
  on its own.

The generated vector is cut into the target's parameter tensors. Each tensor ``k`` is
``m_k + s_k · r_k`` with ``r`` the generator's raw output and ``m_k``, ``s_k`` the mean and
standard deviation of the target's own initial values of that tensor (a tensor initialised to a
constant, such as a norm layer's gain, gets ``s_k = 1/√numel``), and the raw output divided once,
at construction, by its standard deviation for the first task: the generated network starts at
the scale of the target's default initialisation (the role of "hyperfan" initialisation) whatever
the generator's size.
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import functional_call

__all__ = ["ChunkedHypernetwork", "HyperModel"]


class ChunkedHypernetwork(nn.Module):
    """Emit ``n_outputs`` numbers for task ``t`` in chunks of ``chunk_size``.

    Args:
        n_outputs: Length of the generated vector.
        n_tasks: Number of task embeddings.
        kind: ``"rnn"`` (LSTM over the chunks, Chandra et al.) or ``"mlp"`` (von Oswald et al.).
        chunk_size: Numbers emitted per chunk.
        task_dim, chunk_dim: Sizes of the task and chunk embeddings.
        hidden: LSTM hidden size (``"rnn"``) or the MLP's hidden widths (``"mlp"``).
        seed: Seed of the embeddings' initialisation (the rest follows torch's global RNG).
    """

    def __init__(self, n_outputs: int, n_tasks: int, kind: str = "rnn", chunk_size: int = 2000,
                 task_dim: int = 8, chunk_dim: int = 8, hidden: int | tuple[int, ...] = 96,
                 seed: int | None = None) -> None:
        super().__init__()
        if kind not in ("rnn", "mlp"):
            raise ValueError(f"kind must be 'rnn' or 'mlp', got {kind!r}")
        for name, v in (("n_outputs", n_outputs), ("n_tasks", n_tasks),
                        ("chunk_size", chunk_size), ("task_dim", task_dim),
                        ("chunk_dim", chunk_dim)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.kind, self.n_outputs, self.chunk_size = kind, n_outputs, chunk_size
        self.n_chunks = math.ceil(n_outputs / chunk_size)
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        self.task_embeddings = nn.Parameter(torch.randn(n_tasks, task_dim, generator=gen))
        self.chunk_embeddings = nn.Parameter(torch.randn(self.n_chunks, chunk_dim, generator=gen))
        d = task_dim + chunk_dim
        if kind == "rnn":
            h = hidden if isinstance(hidden, int) else int(hidden[0])
            self.rnn: nn.Module = nn.LSTM(d, h, batch_first=True)
            self.head = nn.Linear(h, chunk_size)
        else:
            widths = (hidden,) if isinstance(hidden, int) else tuple(int(w) for w in hidden)
            layers: list[nn.Module] = []
            for w in widths:
                layers += [nn.Linear(d, w), nn.ReLU()]
                d = w
            self.rnn = nn.Sequential(*layers)
            self.head = nn.Linear(d, chunk_size)

    def forward(self, task: int | Tensor) -> Tensor:
        """The raw generated vector ``(n_outputs,)`` for task index ``task`` (or an embedding)."""
        e = self.task_embeddings[task] if not isinstance(task, Tensor) or task.ndim == 0 \
            else task
        inputs = torch.cat([e.expand(self.n_chunks, -1), self.chunk_embeddings], dim=1)
        if self.kind == "rnn":
            h, _ = self.rnn(inputs[None])  # one sequence: chunk i sees chunks 0..i-1
            h = h[0]
        else:
            h = self.rnn(inputs)
        return self.head(h).reshape(-1)[: self.n_outputs]


class HyperModel(nn.Module):
    """A network whose parameters come from a :class:`ChunkedHypernetwork` for the current task.

    The target's own parameters are kept frozen as the template of shapes (and of the scale the
    generated tensors start at); every call runs the target with the weights generated for
    ``self.task`` (:meth:`set_task`), through :func:`torch.func.functional_call`, so gradients
    reach the hypernetwork and the task embedding, not the target. The target's buffers are used
    as they are.

    Args:
        target: The network to generate weights for (any ``nn.Module``).
        n_tasks: Number of tasks (task embeddings).
        **hnet: Arguments of :class:`ChunkedHypernetwork` (``kind``, ``chunk_size``, ...).
    """

    def __init__(self, target: nn.Module, n_tasks: int, **hnet: Any) -> None:
        super().__init__()
        self.target = target
        names, shapes, means, scales = [], [], [], []
        for name, p in target.named_parameters():
            p.requires_grad_(False)
            names.append(name)
            shapes.append(tuple(p.shape))
            flat = p.detach().double().reshape(-1)
            std = float(flat.std()) if flat.numel() > 1 else 0.0
            means.append(float(flat.mean()))
            scales.append(std if std > 0 else 1.0 / math.sqrt(flat.numel()))
        if not names:
            raise ValueError(f"{type(target).__name__} has no parameters to generate")
        self._names, self._shapes = names, shapes
        sizes = [math.prod(s) for s in shapes]
        self._sizes = sizes
        self.hnet = ChunkedHypernetwork(sum(sizes), n_tasks, **hnet)
        self.register_buffer("offset", torch.cat([torch.full((n,), m) for n, m in
                                                  zip(sizes, means, strict=True)]).float())
        self.register_buffer("scale", torch.cat([torch.full((n,), s) for n, s in
                                                 zip(sizes, scales, strict=True)]).float())
        self.register_buffer("task", torch.zeros((), dtype=torch.long))
        with torch.no_grad():
            raw_std = float(self.hnet(0).std())
        self.register_buffer("gain", torch.tensor(1.0 / max(raw_std, 1e-12)))

    @property
    def n_tasks(self) -> int:
        return self.hnet.task_embeddings.shape[0]

    def set_task(self, t: int) -> None:
        """Generate the weights of task ``t`` from now on."""
        if not 0 <= int(t) < self.n_tasks:
            raise ValueError(f"task must be in [0, {self.n_tasks}), got {t!r}")
        self.task.fill_(int(t))

    def weights(self, task: int | Tensor | None = None) -> Tensor:
        """The flat generated parameter vector for ``task`` (default: the current task)."""
        t = int(self.task) if task is None else task
        return self.offset + self.scale * self.gain * self.hnet(t)

    def parameters_for(self, flat: Tensor) -> dict[str, Tensor]:
        """The flat vector cut into the target's named parameter tensors."""
        parts = torch.split(flat, self._sizes)
        return {n: v.reshape(s) for n, v, s in zip(self._names, parts, self._shapes,
                                                    strict=True)}

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return functional_call(self.target, self.parameters_for(self.weights()), args, kwargs,
                               strict=False)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            # what tasks read off their model (channel counts, configs); a method of the target
            # would run on its frozen template weights, not the generated ones, so none is lent
            value = getattr(self._modules["target"], name)
            if callable(value):
                raise AttributeError(
                    f"{type(self).__name__} generates the weights of "
                    f"{type(self._modules['target']).__name__} for its forward only; "
                    f"{name!r} is a method, which would use the template weights") from None
            return value

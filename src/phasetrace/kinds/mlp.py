"""mlp: feed-forward, the whole (time, site) trace flattened → dense(units, ReLU) → dropout → dense softmax."""

from __future__ import annotations

import jax
from flax import nnx

from ..classifiers import Hyper
from .network import fit, flat, predict, unflat  # noqa: F401  (the kind's implementation)


class Net(nnx.Module):
    """Flattened (time, site) trace → dense(units, ReLU) → dropout → dense(n_classes) logits."""

    def __init__(self, n_time: int, n_features: int, hp: Hyper, *, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(n_time * n_features, hp.units, rngs=rngs)
        self.dropout = nnx.Dropout(hp.dropout)
        self.head = nnx.Linear(hp.units, hp.n_classes, rngs=rngs)

    def __call__(self, x: jax.Array, dropout_key: jax.Array | None = None) -> jax.Array:
        h = jax.nn.relu(self.hidden(x.reshape(x.shape[0], -1)))
        h = self.dropout(h, deterministic=dropout_key is None, rngs=dropout_key)
        return self.head(h)

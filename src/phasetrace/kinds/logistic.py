"""logistic: multinomial logistic regression on the flattened trace (dense softmax; L2 on its weights)."""

from __future__ import annotations

import jax
from flax import nnx

from ..classifiers import Hyper
from .network import fit, flat, predict, unflat  # noqa: F401  (the kind's implementation)


class Net(nnx.Module):
    """Multinomial logistic regression on the flattened trace."""

    def __init__(self, n_time: int, n_features: int, hp: Hyper, *, rngs: nnx.Rngs):
        self.head = nnx.Linear(n_time * n_features, hp.n_classes, rngs=rngs)

    def __call__(self, x: jax.Array, dropout_key: jax.Array | None = None) -> jax.Array:
        return self.head(x.reshape(x.shape[0], -1))

"""lstm: the paper's network, LSTM(units) over time → dropout on the last hidden state → dense softmax (van
Nieuwenburg, Bairey, Refael 2018)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from ..classifiers import Hyper
from .network import fit, flat, predict, unflat  # noqa: F401  (the kind's implementation)


class Net(nnx.Module):
    """LSTM(units) → dropout on the last hidden state → dense(n_classes) logits."""

    def __init__(self, n_time: int, n_features: int, hp: Hyper, *, rngs: nnx.Rngs):
        self.lstm = nnx.RNN(nnx.OptimizedLSTMCell(n_features, hp.units, rngs=rngs), rngs=False)
        self.dropout = nnx.Dropout(hp.dropout)
        self.head = nnx.Linear(hp.units, hp.n_classes, rngs=rngs)
        self.units = hp.units

    def __call__(self, x: jax.Array, dropout_key: jax.Array | None = None) -> jax.Array:
        zeros = jnp.zeros((x.shape[0], self.units), x.dtype)
        h = self.lstm(x, initial_carry=(zeros, zeros))[:, -1, :]  # LSTM state (c, h) starts at zero
        h = self.dropout(h, deterministic=dropout_key is None, rngs=dropout_key)
        return self.head(h)


def lstm_states(arrays: dict[str, np.ndarray], x: np.ndarray) -> dict[str, np.ndarray]:
    """The LSTM's internals on encoded inputs x (n, T, F), recomputed in numpy from one member's stored parameters
    (:func:`flat_params` names, without the member axis): gates i, f, g, o, cell state c and hidden state h, each
    (n, T, units), and the logits (n, classes) of the last h — the recurrence of flax's ``OptimizedLSTMCell``
    (i, f, o sigmoid; g tanh; c ← f·c + i·g; h ← o·tanh c) from c = h = 0."""
    wi, wh = arrays["lstm.cell.dense_i.kernel.value"], arrays["lstm.cell.dense_h.kernel.value"]
    b = arrays["lstm.cell.dense_h.bias.value"]
    x = np.asarray(x, dtype=np.float64)
    n, T, _ = x.shape
    units = wh.shape[0]
    c, h = np.zeros((n, units)), np.zeros((n, units))
    out = {k: np.zeros((n, T, units)) for k in ("i", "f", "g", "o", "c", "h")}
    sigmoid = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    for t in range(T):
        i, f, g, o = np.split(x[:, t] @ wi + h @ wh + b, 4, axis=-1)
        i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
        c = f * c + i * g
        h = o * np.tanh(c)
        for k, v in zip(("i", "f", "g", "o", "c", "h"), (i, f, g, o, c, h), strict=True):
            out[k][:, t] = v
    out["logits"] = h @ arrays["head.kernel.value"] + arrays["head.bias.value"]
    return out

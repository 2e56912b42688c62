"""LSTM classifiers over magnetization traces, trained k times at once (vmap over seeds), and the confusion.

Network (as in van Nieuwenburg, Bairey, Refael 2018): one LSTM layer of ``units`` cells reading the trace one time
step at a time (input at step t: the L site magnetizations), dropout on its last hidden state, a dense softmax
layer with one output per phase. Loss: cross-entropy + ``l2`` · Σ‖kernel‖² (biases are not regularized), Adam.

Confidence enhancement (Schindler, Regnault, Neupert, PRB 95, 245134): with ``confidence_weight`` λ > 0, each step
adds λ · mean_b H(p_b) over a batch of *unlabeled* samples from the blanked region, H(p) = −Σ_c p_c log p_c (the
prediction entropy in nats), rewarding confident predictions away from the training windows.

Training is a pure function of (data, key); :func:`train_seeds` vmaps it over k keys in one compilation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from .runner import require_configured


@dataclass(frozen=True)
class Hyper:
    """Every training hyper-parameter (a config key each, see config.yaml)."""

    n_classes: int
    units: int = 32
    dropout: float = 0.2
    l2: float = 0.01
    learning_rate: float = 1e-3
    batch_size: int = 64
    epochs: int = 25
    confidence_weight: float = 0.0


class Classifier(nnx.Module):
    """LSTM(units) → dropout → dense(n_classes) logits, for inputs (batch, time, features)."""

    def __init__(self, n_features: int, hp: Hyper, *, rngs: nnx.Rngs):
        self.lstm = nnx.RNN(nnx.OptimizedLSTMCell(n_features, hp.units, rngs=rngs), rngs=False)
        self.dropout = nnx.Dropout(hp.dropout)
        self.head = nnx.Linear(hp.units, hp.n_classes, rngs=rngs)
        self.units = hp.units

    def __call__(self, x: jax.Array, dropout_key: jax.Array | None = None) -> jax.Array:
        zeros = jnp.zeros((x.shape[0], self.units), x.dtype)
        h = self.lstm(x, initial_carry=(zeros, zeros))[:, -1, :]  # LSTM state (c, h) starts at zero
        h = self.dropout(h, deterministic=dropout_key is None, rngs=dropout_key)
        return self.head(h)


def _graphdef(n_features: int, hp: Hyper):
    return nnx.split(Classifier(n_features, hp, rngs=nnx.Rngs(0)), nnx.Param)[0]


def init_params(key: jax.Array, n_features: int, hp: Hyper):
    """The parameter State of a freshly initialized network."""
    return nnx.split(Classifier(n_features, hp, rngs=nnx.Rngs(params=key)), nnx.Param)[1]


def logits(graphdef, params, x, dropout_key=None):
    return nnx.merge(graphdef, params)(x, dropout_key)


def _l2(params) -> jax.Array:
    return sum(jnp.sum(w**2) for w in jax.tree.leaves(params) if w.ndim >= 2)


def train_one(key, x, y, x_unlabeled, hp: Hyper):
    """Train one network on (x (n, T, F) float32, y (n,) int) and return (params, loss per epoch (epochs,)).

    ``key`` fixes initialization, shuffling and dropout. Batches are consecutive slices of a fresh permutation each
    epoch; the last, short batch is completed by wrapping around the permutation.
    """
    n, _, F = x.shape
    graphdef = _graphdef(F, hp)
    k_init, k_run = jax.random.split(key)
    params = init_params(k_init, F, hp)
    opt = optax.adam(hp.learning_rate)
    opt_state = opt.init(params)
    n_batches = max(1, -(-n // hp.batch_size))

    def loss_fn(params, xb, yb, xu, k_drop):
        out = logits(graphdef, params, xb, k_drop)
        loss = optax.softmax_cross_entropy_with_integer_labels(out, yb).mean() + hp.l2 * _l2(params)
        if hp.confidence_weight > 0:
            p = jax.nn.softmax(logits(graphdef, params, xu, None))
            loss = loss + hp.confidence_weight * jnp.mean(-jnp.sum(p * jnp.log(p + 1e-12), axis=-1))
        return loss

    def epoch(carry, k_epoch):
        params, opt_state = carry
        k_perm, k_unl, k_drop = jax.random.split(k_epoch, 3)
        perm = jnp.resize(jax.random.permutation(k_perm, n), (n_batches * hp.batch_size,))
        unl = jax.random.randint(k_unl, (n_batches, hp.batch_size), 0, max(1, x_unlabeled.shape[0]))

        def step(carry, b):
            params, opt_state = carry
            idx = jax.lax.dynamic_slice(perm, (b * hp.batch_size,), (hp.batch_size,))
            loss, grads = jax.value_and_grad(loss_fn)(
                params, x[idx], y[idx], x_unlabeled[unl[b]], jax.random.fold_in(k_drop, b)
            )
            updates, opt_state = opt.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), jnp.arange(n_batches))
        return (params, opt_state), losses.mean()

    (params, _), loss_curve = jax.lax.scan(epoch, (params, opt_state), jax.random.split(k_run, hp.epochs))
    return params, loss_curve


@partial(jax.jit, static_argnames=("hp",))
def _train_seeds(keys, x, y, x_unlabeled, hp: Hyper):
    return jax.vmap(train_one, in_axes=(0, None, None, None, None))(keys, x, y, x_unlabeled, hp)


def train_seeds(keys, x, y, x_unlabeled, hp: Hyper):
    """k independent trainings (one per key, keys (k, 2)) as one vectorized computation: stacked params, losses.

    Runs under phasetrace's numerical state only (:func:`phasetrace.runner.configure`): the random draws of
    initialization, shuffling and dropout depend on JAX's 64-bit mode."""
    require_configured("train_seeds")
    return _train_seeds(keys, x, y, x_unlabeled, hp)


train_single = jax.jit(train_one, static_argnames=("hp",))


@partial(jax.jit, static_argnames=("hp", "n_features"))
def _predict_seeds(params, x, hp: Hyper, n_features: int):
    graphdef = _graphdef(n_features, hp)
    return jax.vmap(lambda p: jax.nn.softmax(logits(graphdef, p, x)))(params)


def predict_seeds(params, x, hp: Hyper, n_features: int):
    """Softmax outputs of every network of a stacked set on x (n, T, F): (k, n, n_classes)."""
    require_configured("predict_seeds")
    return _predict_seeds(params, x, hp, n_features)


def confusion(p: np.ndarray) -> np.ndarray:
    """C = −log₂[p₁/(p₁ + p₂)] over the last axis, p₁ ≥ p₂ the two largest outputs: 0 when certain, 1 when torn."""
    p = np.asarray(p, dtype=np.float64)
    top = -np.sort(-p, axis=-1)
    return -np.log2(top[..., 0] / (top[..., 0] + top[..., 1]))


def seed_keys(seed: int, k: int, *context: int) -> jax.Array:
    """k training keys derived from the root seed and the identity of the network set (e.g. model id, ε index)."""
    seq = np.random.SeedSequence(int(seed), spawn_key=(3, *map(int, context)))
    return jnp.asarray(seq.generate_state(2 * k, dtype=np.uint32).reshape(k, 2))


def flat_params(params) -> dict[str, np.ndarray]:
    """Parameter arrays by path (for storage)."""
    leaves, _ = jax.tree_util.tree_flatten_with_path(params)
    return {_name(path): np.asarray(v) for path, v in leaves}


def _name(path) -> str:
    return jax.tree_util.keystr(path, simple=True, separator=".")


def unflat_params(arrays: dict[str, np.ndarray], n_features: int, hp: Hyper, stacked: bool = True):
    """Inverse of :func:`flat_params` for a network (set) of this architecture."""
    template = init_params(jax.random.key(0), n_features, hp)
    leaves, treedef = jax.tree_util.tree_flatten_with_path(template)
    out = []
    for path, leaf in leaves:
        name = _name(path)
        if name not in arrays:
            raise ValueError(f"saved network is missing parameter {name}")
        value = jnp.asarray(arrays[name])
        if value.shape[int(stacked):] != leaf.shape:
            raise ValueError(f"parameter {name} has shape {value.shape}, expected (k,) + {leaf.shape}")
        out.append(value)
    return jax.tree_util.tree_unflatten(treedef, out)


def hyper_attrs(hp: Hyper) -> dict:
    return asdict(hp)

"""Classifiers: one contract for every way phasetrace turns labeled traces into phase probabilities.

Every kind takes inputs x (n, T, F) (T times, F sites, values ⟨σᶻᵢ⟩(t) ∈ [−1, 1]) and returns p (n, classes).
A *set* is k members fitted at once (:func:`fit_members`): member j draws its own bootstrap resample of the
training samples (``train_idx[j]``), and, for the networks, its own initialization, shuffling and dropout (``keys[j]``),
so the spread over members carries both the training noise and the disorder-sampling noise of the training data.

Kinds (``training.classifier`` / ``training.compare`` in the config):

==========  =================================================================================================
lstm        the paper's network: LSTM(units) over time → dropout → dense softmax (van Nieuwenburg et al. 2018)
mlp         feed-forward: the whole (time, site) trace flattened → dense(units, ReLU) → dropout → dense softmax
logistic    multinomial logistic regression on the flattened trace (dense softmax; L2 on its weights)
imbalance   no training: the late-time imbalance I = Σᵢ mᵢ(t) mᵢ(0)/L averaged over the last ``late_times``
            points (and its period-doubled part, mean of (−1)ⁿ I(tₙ)), assigned to the nearest class mean of
            the training windows: halfway thresholds between the windows' means; p is one-hot
==========  =================================================================================================

The networks share one training loop (Adam, mini-batches, cross-entropy + ``l2`` · Σ‖kernel‖², optional
confidence enhancement) and one parameter store; a saved set records its kind and hyper-parameters
(:class:`Hyper`), so :mod:`phasetrace.__main__`'s ``classify`` rebuilds any kind.

Input encoding (``training.input``): ``raw`` feeds mᵢ(t) as the paper did; ``aligned`` feeds mᵢ(t)·mᵢ(0), the
trace relative to the initial product state (which an experiment prepares and knows, and which the trace's first
point holds: mᵢ(0) = ±1). See the README for what each encoding measured.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from .measurement import imbalance
from .runner import require_configured

NETWORKS = ("lstm", "mlp", "logistic")
INPUTS = ("aligned", "raw")


@dataclass(frozen=True)
class Hyper:
    """A classifier's kind and every hyper-parameter (a config key each, see config.yaml)."""

    n_classes: int
    kind: str = "lstm"
    input: str = "aligned"
    units: int = 32
    dropout: float = 0.2
    l2: float = 0.01
    learning_rate: float = 1e-3
    batch_size: int = 64
    steps: int = 50
    confidence_weight: float = 0.0
    late_times: int = 10


def encode(x: np.ndarray, encoding: str) -> np.ndarray:
    """The network input of traces x (n, T, F): ``raw`` mᵢ(t), or ``aligned`` mᵢ(t)·mᵢ(0)."""
    x = np.asarray(x, dtype=np.float32)
    if encoding == "raw":
        return x
    if encoding == "aligned":
        return x * x[:, :1, :]
    raise ValueError(f"input = {encoding!r} is outside the allowed range: one of {list(INPUTS)}")


# --- networks ------------------------------------------------------------------------------------------------------


class LSTMNet(nnx.Module):
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


class MLPNet(nnx.Module):
    """Flattened (time, site) trace → dense(units, ReLU) → dropout → dense(n_classes) logits."""

    def __init__(self, n_time: int, n_features: int, hp: Hyper, *, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(n_time * n_features, hp.units, rngs=rngs)
        self.dropout = nnx.Dropout(hp.dropout)
        self.head = nnx.Linear(hp.units, hp.n_classes, rngs=rngs)

    def __call__(self, x: jax.Array, dropout_key: jax.Array | None = None) -> jax.Array:
        h = jax.nn.relu(self.hidden(x.reshape(x.shape[0], -1)))
        h = self.dropout(h, deterministic=dropout_key is None, rngs=dropout_key)
        return self.head(h)


class LogisticNet(nnx.Module):
    """Multinomial logistic regression on the flattened trace."""

    def __init__(self, n_time: int, n_features: int, hp: Hyper, *, rngs: nnx.Rngs):
        self.head = nnx.Linear(n_time * n_features, hp.n_classes, rngs=rngs)

    def __call__(self, x: jax.Array, dropout_key: jax.Array | None = None) -> jax.Array:
        return self.head(x.reshape(x.shape[0], -1))


MODULES = {"lstm": LSTMNet, "mlp": MLPNet, "logistic": LogisticNet}


def _graphdef(n_time: int, n_features: int, hp: Hyper):
    return nnx.split(MODULES[hp.kind](n_time, n_features, hp, rngs=nnx.Rngs(0)), nnx.Param)[0]


def init_params(key: jax.Array, n_time: int, n_features: int, hp: Hyper):
    """The parameter State of a freshly initialized network of kind ``hp.kind``."""
    return nnx.split(MODULES[hp.kind](n_time, n_features, hp, rngs=nnx.Rngs(params=key)), nnx.Param)[1]


def logits(graphdef, params, x, dropout_key=None):
    return nnx.merge(graphdef, params)(x, dropout_key)


def _l2(params) -> jax.Array:
    return sum(jnp.sum(w**2) for w in jax.tree.leaves(params) if w.ndim >= 2)


def train_one(key, x, y, train_idx, x_unlabeled, hp: Hyper):
    """Train one network on the samples ``train_idx`` (with repeats: a bootstrap resample) of (x (n, T, F)
    float32, y (n,) int) for ``hp.steps`` optimizer steps; return (params, loss per epoch (epochs,)), where
    epochs = ⌈steps / batches per epoch⌉ (the last one may be cut short; its loss is the mean of its steps).

    A fixed number of steps, not of epochs: the training budget does not grow with the data, so the learned function,
    and the boundary read from it, converge as realizations are added instead of drifting with the number of updates.
    ``key`` fixes initialization, shuffling and dropout. Batches are consecutive slices of a fresh permutation of
    ``train_idx`` each epoch; the last, short batch is completed by wrapping around the permutation.
    """
    n = train_idx.shape[0]
    _, T, F = x.shape
    graphdef = _graphdef(T, F, hp)
    k_init, k_run = jax.random.split(key)
    params = init_params(k_init, T, F, hp)
    opt = optax.adam(hp.learning_rate)
    opt_state = opt.init(params)
    n_batches = max(1, -(-n // hp.batch_size))
    n_epochs = -(-hp.steps // n_batches)

    def loss_fn(params, xb, yb, xu, k_drop):
        out = logits(graphdef, params, xb, k_drop)
        loss = optax.softmax_cross_entropy_with_integer_labels(out, yb).mean() + hp.l2 * _l2(params)
        if hp.confidence_weight > 0:
            p = jax.nn.softmax(logits(graphdef, params, xu, None))
            loss = loss + hp.confidence_weight * jnp.mean(-jnp.sum(p * jnp.log(p + 1e-12), axis=-1))
        return loss

    def epoch(carry, e_key):
        params, opt_state = carry
        e, k_epoch = e_key
        k_perm, k_unl, k_drop = jax.random.split(k_epoch, 3)
        perm = jnp.resize(train_idx[jax.random.permutation(k_perm, n)], (n_batches * hp.batch_size,))
        unl = jax.random.randint(k_unl, (n_batches, hp.batch_size), 0, max(1, x_unlabeled.shape[0]))

        def step(carry, b):
            params, opt_state = carry
            idx = jax.lax.dynamic_slice(perm, (b * hp.batch_size,), (hp.batch_size,))
            loss, grads = jax.value_and_grad(loss_fn)(
                params, x[idx], y[idx], x_unlabeled[unl[b]], jax.random.fold_in(k_drop, b)
            )
            updates, new_state = opt.update(grads, opt_state, params)
            live = e * n_batches + b < hp.steps  # the last epoch stops at the step budget
            keep = lambda new, old: jax.tree.map(lambda a, c: jnp.where(live, a, c), new, old)  # noqa: E731
            return (keep(optax.apply_updates(params, updates), params), keep(new_state, opt_state)), (loss, live)

        (params, opt_state), (losses, live) = jax.lax.scan(step, (params, opt_state), jnp.arange(n_batches))
        return (params, opt_state), jnp.sum(losses * live) / jnp.sum(live)

    keys = jax.random.split(k_run, n_epochs)
    (params, _), loss_curve = jax.lax.scan(epoch, (params, opt_state), (jnp.arange(n_epochs), keys))
    return params, loss_curve


@partial(jax.jit, static_argnames=("hp",))
def _train_networks(keys, x, y, train_idx, x_unlabeled, hp: Hyper):
    return jax.vmap(train_one, in_axes=(0, None, None, 0, None, None))(keys, x, y, train_idx, x_unlabeled, hp)


train_single = jax.jit(train_one, static_argnames=("hp",))


@partial(jax.jit, static_argnames=("hp", "n_time", "n_features"))
def _predict_networks(params, x, hp: Hyper, n_time: int, n_features: int):
    graphdef = _graphdef(n_time, n_features, hp)
    return jax.vmap(lambda p: jax.nn.softmax(logits(graphdef, p, x)))(params)


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


# --- the imbalance threshold --------------------------------------------------------------------------------------


def imbalance_features(x: np.ndarray, late_times: int) -> np.ndarray:
    """(n, 2): the late-time mean of I(t) = Σᵢ mᵢ(t) mᵢ(0)/L, and of (−1)ⁿ I(tₙ) (period doubling), over the
    last ``late_times`` points of raw traces x (n, T, F)."""
    x = np.asarray(x, dtype=np.float64)
    imb = imbalance(x)  # (n, T)
    n_late = min(late_times, x.shape[1] - 1)
    late = imb[:, -n_late:]
    sign = (-1.0) ** np.arange(x.shape[1])[-n_late:]
    return np.stack([late.mean(axis=1), (late * sign).mean(axis=1)], axis=1)


def _nearest_mean(features: np.ndarray, means: np.ndarray) -> np.ndarray:
    """One-hot p (k, n, classes) of the nearest class mean; means (k, classes, 2)."""
    d = ((features[None, :, None, :] - means[:, None, :, :]) ** 2).sum(-1)  # (k, n, classes)
    return np.eye(means.shape[1])[d.argmin(-1)]


# --- the contract ------------------------------------------------------------------------------------------------


def fit_members(keys, x: np.ndarray, y: np.ndarray, train_idx: np.ndarray, x_unlabeled: np.ndarray, hp: Hyper):
    """Fit k members (keys (k, 2), train_idx (k, n_train)) on raw traces x (n, T, F) and labels y (n,).

    Returns (params, loss (k, epochs)); params are stacked over members (a pytree of (k, ...) arrays).
    """
    require_configured("fit_members")
    if hp.kind == "imbalance":
        f = imbalance_features(x, hp.late_times)
        means = np.stack([[f[idx][y[idx] == c].mean(axis=0) for c in range(hp.n_classes)] for idx in train_idx])
        p = _nearest_mean(f, means)
        errors = np.stack([(p[j, idx].argmax(-1) != y[idx]).mean() for j, idx in enumerate(train_idx)])
        return {"means": means}, errors[:, None]
    xe = encode(x, hp.input)
    xu = encode(x_unlabeled, hp.input)
    params, loss = _train_networks(keys, xe, jnp.asarray(y, jnp.int32), jnp.asarray(train_idx), xu, hp)
    return params, np.asarray(loss)


def predict_members(params, x: np.ndarray, hp: Hyper) -> np.ndarray:
    """p (k, n, classes) of every member of a set on raw traces x (n, T, F)."""
    require_configured("predict_members")
    if hp.kind == "imbalance":
        return _nearest_mean(imbalance_features(x, hp.late_times), np.asarray(params["means"]))
    _, T, F = x.shape
    return np.asarray(_predict_networks(params, encode(x, hp.input), hp, T, F))


def member_keys(seed: int, k: int, *context: int) -> jax.Array:
    """k member keys derived from the root seed and the identity of the set (model id, ε index; not the kind, so
    every kind of a comparison starts from the same keys)."""
    from .seeds import stream_sequence

    seq = stream_sequence(seed, "training", *context)
    return jnp.asarray(seq.generate_state(2 * k, dtype=np.uint32).reshape(k, 2))


# --- storage ------------------------------------------------------------------------------------------------------


def flat_params(params) -> dict[str, np.ndarray]:
    """Parameter arrays by path (for storage)."""
    leaves, _ = jax.tree_util.tree_flatten_with_path(params)
    return {_name(path): np.asarray(v) for path, v in leaves}


def _name(path) -> str:
    return jax.tree_util.keystr(path, simple=True, separator=".")


def unflat_params(arrays: dict[str, np.ndarray], n_time: int, n_features: int, hp: Hyper):
    """Inverse of :func:`flat_params` for a stacked set of kind ``hp.kind``."""
    if hp.kind == "imbalance":
        means = arrays.get("means")
        if means is None or means.ndim != 3 or means.shape[1:] != (hp.n_classes, 2):
            raise ValueError(f"saved imbalance set needs means of shape (k, {hp.n_classes}, 2)")
        return {"means": means}
    template = init_params(jax.random.key(0), n_time, n_features, hp)
    leaves, treedef = jax.tree_util.tree_flatten_with_path(template)
    out = []
    for path, leaf in leaves:
        name = _name(path)
        if name not in arrays:
            raise ValueError(f"saved network is missing parameter {name}")
        value = jnp.asarray(arrays[name])
        if value.shape[1:] != leaf.shape:
            raise ValueError(f"parameter {name} has shape {value.shape}, expected (k,) + {leaf.shape}")
        out.append(value)
    return jax.tree_util.tree_unflatten(treedef, out)


def hyper_attrs(hp: Hyper) -> dict:
    return asdict(hp)

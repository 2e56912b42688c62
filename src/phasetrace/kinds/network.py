"""The networks' shared training loop (Adam, mini-batches, cross-entropy + ``l2`` · Σ‖kernel‖², optional
confidence enhancement) and their fit, predict and unflat: a network kind's module defines its ``Net`` (an
:class:`flax.nnx.Module` built as ``Net(n_time, n_features, hp, rngs=...)`` and called as ``net(x, dropout_key)``
on encoded inputs (n, T, F), returning logits) and takes ``fit``, ``predict`` and ``unflat`` from here."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from ..classifiers import Hyper, encode
from . import implementation


def _graphdef(n_time: int, n_features: int, hp: Hyper):
    return nnx.split(implementation(hp.kind).Net(n_time, n_features, hp, rngs=nnx.Rngs(0)), nnx.Param)[0]


def init_params(key: jax.Array, n_time: int, n_features: int, hp: Hyper):
    """The parameter State of a freshly initialized network of kind ``hp.kind``."""
    return nnx.split(implementation(hp.kind).Net(n_time, n_features, hp, rngs=nnx.Rngs(params=key)), nnx.Param)[1]


def logits(graphdef, params, x, dropout_key=None):
    return nnx.merge(graphdef, params)(x, dropout_key)


def _l2(params) -> jax.Array:
    return sum(jnp.sum(w**2) for w in jax.tree.leaves(params) if w.ndim >= 2)


# What a network's outputs mean, and the loss it is trained with (a detection scheme's choice, phasetrace.schemes):
# "softmax": classes, cross-entropy on integer labels (the supervised scheme, every classifier kind); "sigmoid": one
# independent binary task per output, y (n, outputs) in {0, 1} (the multi-task scan of learning by confusion);
# "squared": one real output regressed on y (n,) (the prediction-based scheme).
OBJECTIVES = ("softmax", "sigmoid", "squared")


def _data_loss(out, yb, objective: str):
    if objective == "softmax":
        return optax.softmax_cross_entropy_with_integer_labels(out, yb).mean()
    if objective == "sigmoid":
        return optax.sigmoid_binary_cross_entropy(out, yb).mean()
    if objective == "squared":
        return jnp.mean((out[:, 0] - yb) ** 2)
    raise ValueError(f"objective = {objective!r} is not one of {list(OBJECTIVES)}")


def _outputs(out, objective: str):
    """What a network returns from its logits: probabilities of its classes (softmax), of each binary task
    (sigmoid), or the regressed value (squared: the single output)."""
    if objective == "softmax":
        return jax.nn.softmax(out)
    if objective == "sigmoid":
        return jax.nn.sigmoid(out)
    return out


def train_one(key, x, y, train_idx, x_unlabeled, hp: Hyper, objective: str = "softmax"):
    """Train one network on the samples ``train_idx`` (with repeats: a bootstrap resample) of (x (n, T, F)
    float32, y (n,) int) for ``hp.steps`` optimizer steps; return (params, loss per epoch (epochs,)), where
    epochs = ⌈steps / batches per epoch⌉ (the last one may be cut short; its loss is the mean of its steps).

    A fixed number of steps, not of epochs: the training budget does not grow with the data, so the learned function,
    and the boundary read from it, converge as realizations are added instead of drifting with the number of updates.
    ``key`` fixes initialization, shuffling and dropout. Batches are consecutive slices of a fresh permutation of
    ``train_idx`` each epoch; the last, short batch is completed by wrapping around the permutation.
    ``objective`` (:data:`OBJECTIVES`): the loss, and the form of y; the confidence term applies to ``softmax`` only.
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
        loss = _data_loss(out, yb, objective) + hp.l2 * _l2(params)
        if hp.confidence_weight > 0 and objective == "softmax":
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


@partial(jax.jit, static_argnames=("hp", "objective"))
def _train_networks(keys, x, y, train_idx, x_unlabeled, hp: Hyper, objective: str = "softmax"):
    return jax.vmap(train_one, in_axes=(0, None, None, 0, None, None, None))(
        keys, x, y, train_idx, x_unlabeled, hp, objective
    )


train_single = jax.jit(train_one, static_argnames=("hp",))


@partial(jax.jit, static_argnames=("hp", "n_time", "n_features", "objective"))
def _predict_networks(params, x, hp: Hyper, n_time: int, n_features: int, objective: str = "softmax"):
    graphdef = _graphdef(n_time, n_features, hp)
    return jax.vmap(lambda p: _outputs(logits(graphdef, p, x), objective))(params)


def fit(
    keys, x: np.ndarray, y: np.ndarray, train_idx: np.ndarray, x_unlabeled: np.ndarray, hp: Hyper,
    objective: str = "softmax",
):  # fmt: skip
    """Train k networks at once (vmapped over keys (k, 2) and train_idx (k, n_train)) on raw traces x (n, T, F);
    ``objective``: :data:`OBJECTIVES` (y: integer classes for softmax, else float targets)."""
    xe = encode(x, hp.input)
    xu = encode(x_unlabeled, hp.input)
    y = jnp.asarray(y, jnp.int32 if objective == "softmax" else jnp.float32)
    params, loss = _train_networks(keys, xe, y, jnp.asarray(train_idx), xu, hp, objective)
    return params, np.asarray(loss)


def predict(params, x: np.ndarray, hp: Hyper, objective: str = "softmax") -> np.ndarray:
    _, T, F = x.shape
    return np.asarray(_predict_networks(params, encode(x, hp.input), hp, T, F, objective))


def _name(path) -> str:
    return jax.tree_util.keystr(path, simple=True, separator=".")


def flat(params) -> dict[str, np.ndarray]:
    """Parameter arrays by path (for storage)."""
    leaves, _ = jax.tree_util.tree_flatten_with_path(params)
    return {_name(path): np.asarray(v) for path, v in leaves}


def unflat(arrays: dict[str, np.ndarray], n_time: int, n_features: int, hp: Hyper):
    """Inverse of :func:`flat` for a stacked set of kind ``hp.kind``."""
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

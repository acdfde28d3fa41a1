"""Keras's own numbers for masklab's differential test (`just test-keras`).

For a small network with fixed weights, a fixed batch and targets holding -1 for missing
labels, writes as JSON: the inputs, and for each of masklab's losses the value and the
gradient of every weight as Keras 3 computes them (JAX backend, float32), plus the weights
after one Adam step and after one AdamW step (decoupled weight decay) on the masked loss. `tests/keras.rs` recomputes all of it with masklab.

The losses, each from Keras's own functions:
  plain         keras.losses.binary_crossentropy(y, sigmoid(z)): clipped probabilities, -1 a target
  plain-logits  keras.losses.binary_crossentropy(y, z, from_logits=True)
  seed-masked   keras.losses.binary_crossentropy(y*m, sigmoid(z)*m): the original post's loss
  masked        sum(m * keras.ops.binary_crossentropy(y*m, z, from_logits=True)) / sum(m)

Usage: python keras_reference.py OUT.json
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

SIZES = [2, 5, 4, 3]
ROWS = 16
LR = 1e-3
WD = 0.05  # large enough that the decay (lr * wd * w) shows against a 1e-5 tolerance


def forward(params, x):
    h = x
    for i, (w, b) in enumerate(params):
        h = keras.ops.matmul(h, w) + b
        if i < len(params) - 1:
            h = keras.ops.relu(h)
    return h


def losses(y, m):
    ym = y * m

    def plain(params, x):
        return keras.ops.mean(keras.losses.binary_crossentropy(y, keras.ops.sigmoid(forward(params, x))))

    def plain_logits(params, x):
        return keras.ops.mean(keras.losses.binary_crossentropy(y, forward(params, x), from_logits=True))

    def seed_masked(params, x):
        p = keras.ops.sigmoid(forward(params, x)) * m
        return keras.ops.mean(keras.losses.binary_crossentropy(ym, p))

    def masked(params, x):
        cells = keras.ops.binary_crossentropy(ym, forward(params, x), from_logits=True)
        return keras.ops.sum(cells * m) / keras.ops.sum(m)

    return {"plain": plain, "plain-logits": plain_logits, "seed-masked": seed_masked, "masked": masked}


def main(out):
    rng = np.random.default_rng(20261129)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        params.append(
            (
                rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32),
                rng.uniform(0.05, 0.3, fan_out).astype(np.float32),  # alive ReLUs
            )
        )
    x = rng.uniform(0.0, 1.0, (ROWS, SIZES[0])).astype(np.float32)
    x[2] = [400.0, 400.0]  # logits far past Keras's clipping, where plain and plain-logits differ
    y = (rng.uniform(0.0, 1.0, (ROWS, SIZES[-1])) > 0.5).astype(np.float32)
    missing = rng.uniform(0.0, 1.0, y.shape) < 0.35
    missing[0, :] = False  # a complete row
    missing[1, :] = True  # a row with nothing observed
    y[missing] = -1.0
    m = (~missing).astype(np.float32)

    jparams = [(jnp.asarray(w), jnp.asarray(b)) for w, b in params]
    result = {
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "jax_version": jax.__version__,
        "sizes": SIZES,
        "x": x.tolist(),
        "y": y.tolist(),
        "weights": [w.tolist() for w, _ in params],
        "biases": [b.tolist() for _, b in params],
        "losses": {},
    }
    for name, fn in losses(jnp.asarray(y), jnp.asarray(m)).items():
        value, grads = jax.value_and_grad(fn)(jparams, jnp.asarray(x))
        result["losses"][name] = {
            "value": float(value),
            "grad_weights": [np.asarray(gw).tolist() for gw, _ in grads],
            "grad_biases": [np.asarray(gb).tolist() for _, gb in grads],
        }

    # One Adam step (Keras defaults: beta 0.9 / 0.999, epsilon 1e-7) on the masked loss.
    variables = []
    for w, b in params:
        variables += [keras.Variable(w), keras.Variable(b)]
    _, grads = jax.value_and_grad(losses(jnp.asarray(y), jnp.asarray(m))["masked"])(jparams, jnp.asarray(x))
    flat = []
    for gw, gb in grads:
        flat += [gw, gb]
    optimizer = keras.optimizers.Adam(learning_rate=LR)
    optimizer.apply_gradients(zip(flat, variables))
    result["adam"] = {
        "learning_rate": LR,
        "weights": [np.asarray(v.value).tolist() for v in variables[0::2]],
        "biases": [np.asarray(v.value).tolist() for v in variables[1::2]],
    }
    # One AdamW step from the same start: Keras 3 decays every variable by lr * wd first.
    variables = []
    for w, b in params:
        variables += [keras.Variable(w), keras.Variable(b)]
    optimizer = keras.optimizers.AdamW(learning_rate=LR, weight_decay=WD)
    optimizer.apply_gradients(zip(flat, variables))
    result["adamw"] = {
        "weight_decay": WD,
        "weights": [np.asarray(v.value).tolist() for v in variables[0::2]],
        "biases": [np.asarray(v.value).tolist() for v in variables[1::2]],
    }
    with open(out, "w") as f:
        json.dump(result, f)
    print(f"keras {keras.__version__} ({keras.backend.backend()}): reference written to {out}")


if __name__ == "__main__":
    main(sys.argv[1])

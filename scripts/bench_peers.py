"""One training step of masklab's networks in its peers, timed the same way.

The seed network 2-10-40-30-3 (ReLU, logits out), a batch of 5,000 rows of the seed data
with one label in ten missing, the masked binary cross-entropy (mean over observed
labels), Adam at 1e-3; one thread each. `torch-tox21-dense` and `torch-tox21-csr` time
Tox21's network instead, 2048-512-128-12 at batch 256, as `nn/tox21_step` and
`nn/tox21_step_sparse` do in masklab's bench: fingerprint-shaped inputs (about 50 of 2,048
bits set a row), 12 tasks with a sixth of the labels missing; the first layer reads the
batch dense, or as a sparse CSR tensor (`torch.sparse.mm`). Each framework warms up, then
runs `--reps` timed blocks of `--steps` steps; the median block gives the time of a step.

    python bench_peers.py PEER [--steps 200] [--reps 7]

Prints one line: `<name> <median seconds a step> <version>`. Run each under
`taskset -c 0` (the recipe `just bench-peers` does), so no framework can use a second core.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

BATCH, SIZES = 5000, [2, 10, 40, 30, 3]


def seed_batch():
    rng = np.random.default_rng(42)
    x = rng.random((BATCH, 2), dtype=np.float32)
    y = np.stack([x[:, 1] <= 0.5, x[:, 0] >= 0.5, x.sum(1) > 1.0], 1).astype(np.float32)
    y[rng.random(y.shape) < 0.1] = -1.0  # missing
    return x, y


def timed(step, steps, reps):
    for _ in range(steps):  # warm-up: compilation, allocator, caches
        step()
    blocks = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        blocks.append((time.perf_counter() - start) / steps)
    return statistics.median(blocks)


def keras_step(backend):
    os.environ["KERAS_BACKEND"] = backend
    if backend == "jax":
        os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    import keras
    from keras import ops

    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)

    def masked_bce(y_true, logits):
        mask = ops.cast(ops.not_equal(y_true, -1.0), "float32")
        y = ops.where(mask > 0, y_true, 0.0)
        cell = ops.maximum(logits, 0) - logits * y + ops.log1p(ops.exp(-ops.abs(logits)))
        return ops.sum(cell * mask) / ops.maximum(ops.sum(mask), 1.0)

    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [keras.Input((SIZES[0],))]
        + [keras.layers.Dense(k, activation="relu") for k in SIZES[1:-1]]
        + [keras.layers.Dense(SIZES[-1])]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=masked_bce)
    x, y = seed_batch()
    engine = __import__(keras.backend.backend())  # the backend Keras really runs on
    version = f"keras {keras.__version__}, {engine.__name__} {engine.__version__}"
    return (lambda: model.train_on_batch(x, y)), version


def torch_step():
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)
    layers = []
    for i, (a, b) in enumerate(zip(SIZES, SIZES[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i + 2 < len(SIZES):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = (torch.from_numpy(a) for a in seed_batch())
    mask = (y != -1).float()
    target = torch.where(mask > 0, y, torch.zeros_like(y))

    return masked_adam_step(lambda: model(x), target, mask, opt), f"torch {torch.__version__}"


def masked_adam_step(logits, target, mask, opt):
    """A PyTorch step: the masked BCE of `logits()` (mean over observed cells), then Adam."""
    import torch

    def step():
        opt.zero_grad(set_to_none=True)
        cell = torch.nn.functional.binary_cross_entropy_with_logits(
            logits(), target, reduction="none"
        )
        loss = (cell * mask).sum() / mask.sum().clamp(min=1)
        loss.backward()
        opt.step()

    return step


def torch_tox21_step(csr):
    """Tox21's step in PyTorch: 2048-512-128-12, batch 256, masked BCE, Adam; the first
    layer's input dense or a CSR tensor (its weight gradient then comes from sparse.mm's
    backward)."""
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)
    rng = np.random.default_rng(43)
    x = (rng.random((256, 2048)) < 50.0 / 2048.0).astype(np.float32)
    y = (rng.random((256, 12)) < 0.08).astype(np.float32)
    mask = torch.from_numpy((rng.random((256, 12)) >= 0.17).astype(np.float32))
    first = torch.nn.Linear(2048, 512)
    rest = torch.nn.Sequential(
        torch.nn.ReLU(), torch.nn.Linear(512, 128), torch.nn.ReLU(), torch.nn.Linear(128, 12)
    )
    opt = torch.optim.Adam(list(first.parameters()) + list(rest.parameters()), lr=1e-3)
    dense = torch.from_numpy(x)
    sparse = dense.to_sparse_csr()
    target = torch.from_numpy(y)

    def logits():
        if csr:
            return rest(torch.sparse.mm(sparse, first.weight.t()) + first.bias)
        return rest(first(dense))

    return masked_adam_step(logits, target, mask, opt), f"torch {torch.__version__}"


PEERS = ["keras-jax", "keras-tensorflow", "torch", "torch-tox21-dense", "torch-tox21-csr"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("peer", choices=PEERS)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--reps", type=int, default=7)
    a = p.parse_args()
    if a.peer == "torch":
        step, version = torch_step()
    elif a.peer.startswith("torch-tox21-"):
        step, version = torch_tox21_step(csr=a.peer.endswith("csr"))
    else:
        step, version = keras_step(a.peer.split("-", 1)[1])
    seconds = timed(step, a.steps, a.reps)
    print(f"{a.peer} {seconds:.6e} {version}")


if __name__ == "__main__":
    sys.exit(main())

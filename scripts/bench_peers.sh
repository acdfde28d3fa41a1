#!/usr/bin/env bash
# `just bench-peers`: masklab's training step (criterion median) beside Keras 3 on JAX and
# on TensorFlow and PyTorch, the same network, batch, loss and optimizer, one thread each,
# measured in this one session; then Tox21's step (2048-512-128-12, batch 256) beside
# PyTorch's with dense and with CSR input. The peers live in a virtual environment outside
# the repo.
set -euo pipefail
venv="${XDG_CACHE_HOME:-$HOME/.cache}/masklab/peers-venv"
if [ ! -x "$venv/bin/python" ]; then
    echo "making $venv with Keras 3, JAX, TensorFlow and PyTorch from PyPI (a few GB)..."
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet "keras>=3" "jax[cpu]" tensorflow-cpu torch
fi
cargo bench --bench bench_main -- 'nn/(train_step|tox21_step|tox21_step_sparse)$' >/dev/null
target="${CARGO_TARGET_DIR:-target}"
median() {
    python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['median']['point_estimate'] * 1e-9)" \
        "$target/criterion/nn/$1/new/estimates.json"
}
masklab_s=$(median train_step)
# Pinned to one core: no framework can use a second one, whatever its own settings.
pin=""; command -v taskset >/dev/null && pin="taskset -c 0"
results=("masklab $masklab_s masklab $(cargo pkgid -p masklab | sed 's/.*[#@]//') (criterion median)")
for peer in keras-jax keras-tensorflow torch; do
    results+=("$($pin "$venv/bin/python" scripts/bench_peers.py "$peer" 2>/dev/null | tail -1)")
done
table() { # TITLE MASKLAB_SECONDS LINE...
    echo
    echo "$1"
    local m=$2
    shift 2
    printf "| %-22s | %-38s | %10s | %14s |\n" "" "version" "ms a step" "× masklab time"
    printf "|%s|%s|%s|%s|\n" "------------------------" "----------------------------------------" "------------" "----------------"
    for line in "$@"; do
        read -r name seconds version <<<"$line"
        awk -v n="$name" -v v="$version" -v s="$seconds" -v m="$m" \
            'BEGIN { printf "| %-22s | %-38s | %10.3f | %14.2f |\n", n, v, s * 1000, s / m }'
    done
}
table "One training step: 2-10-40-30-3, batch 5000, masked BCE, Adam; one thread each" \
    "$masklab_s" "${results[@]}"

version=$(cargo pkgid -p masklab | sed 's/.*[#@]//')
indexed_s=$(median tox21_step)
tox21=("masklab-indexed $indexed_s masklab $version (nn/tox21_step)"
    "masklab-dense-batch $(median tox21_step_sparse) masklab $version (nn/tox21_step_sparse)")
for peer in torch-tox21-dense torch-tox21-csr; do
    tox21+=("$($pin "$venv/bin/python" scripts/bench_peers.py "$peer" --steps 50 2>/dev/null | tail -1)")
done
table "Tox21's step: 2048-512-128-12, batch 256, fingerprint-shaped inputs, masked BCE, Adam; one thread each" \
    "$indexed_s" "${tox21[@]}"

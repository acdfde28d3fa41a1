# masklab's recipes. Each installs what it needs (Debian's libopenblas-dev) when missing.

set shell := ["bash", "-euo", "pipefail", "-c"]

# List the recipes
default:
    @just --list

# Install what building and testing need when missing (Debian's libopenblas-dev, the BLAS masklab links against; strace, for the durability test); sudo when not root
deps:
    #!/usr/bin/env bash
    set -euo pipefail
    need=""
    for p in libopenblas-dev strace; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need="$need $p"
    done
    [ -z "$need" ] && exit 0
    echo "installing$need..."
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $need

# Run every test: unit, integration and doc tests, and each benchmark once as a smoke test
test: deps
    cargo test --release --workspace --all-targets
    cargo test --release --workspace --doc

# Check losses, gradients and an Adam step against Keras 3 itself (makes a Python venv outside the repo)
test-keras: deps
    #!/usr/bin/env bash
    set -euo pipefail
    venv="${XDG_CACHE_HOME:-$HOME/.cache}/masklab/keras-venv"
    if [ ! -x "$venv/bin/python" ]; then
        echo "making $venv with Keras 3 and JAX from PyPI..."
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --upgrade pip
        "$venv/bin/pip" install --quiet "keras>=3" "jax[cpu]"
    fi
    reference="$(mktemp -d)/keras_reference.json"
    "$venv/bin/python" scripts/keras_reference.py "$reference"
    MASKLAB_KERAS_REFERENCE="$reference" cargo test --release --test tests keras:: -- --ignored --nocapture

# Run a sweep on a real Slurm cluster (one is installed and started here when none answers) and check it
test-slurm: deps
    #!/usr/bin/env bash
    set -euo pipefail
    bash scripts/slurm-cluster.sh start
    trap 'bash scripts/slurm-cluster.sh stop' EXIT
    set -a; . "${MASKLAB_SLURM_STATE:-/tmp/masklab-slurm}/env"; set +a
    cargo test --release --test tests slurm:: -- --ignored --nocapture --test-threads 1

# Run an experiment file's sweep (resumes where it stopped), e.g. `just sweep experiments/drop_rates.toml`
sweep FILE *ARGS: deps
    @[ -x target/release/masklab ] || echo "building masklab first: the first build takes several minutes (cargo shows its progress)"
    cargo run --release -- sweep {{FILE}} {{ARGS}}

# Run the criterion benchmarks (one BLAS thread); pass a filter such as `train_step`
bench *FILTER: deps
    cargo bench --bench bench_main -- {{ if FILTER == "" { "" } else { quote(FILTER) } }}

# masklab's training step beside Keras 3 (JAX, TensorFlow) and PyTorch, one thread each (makes a venv outside the repo)
bench-peers: deps
    bash scripts/bench_peers.sh

# Sweep and report 10,000, 30,000 and 100,000 tiny runs: disk per run, report time and peak memory (about 2 minutes here)
scale *SIZES: deps
    cargo build --release
    bash scripts/scale.sh {{SIZES}}

# Print the linked BLAS and its thread setting
info: deps
    cargo run --release -- info

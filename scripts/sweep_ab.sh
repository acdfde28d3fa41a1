#!/usr/bin/env bash
# Times one experiment's whole sweep at two revisions, back to back, in one session:
#
#     scripts/sweep_ab.sh REV_A REV_B EXPERIMENT [JOBS]
#
# Each revision is built in its own worktree and target directory under
# ~/.cache/masklab/ab/ (the first build of a revision takes minutes), then each sweeps
# EXPERIMENT into a fresh folder there with --jobs JOBS (default 2). Prints each sweep's
# wall seconds and peak memory, its runs' seconds (from the manifest), and whether the
# two summary.csv files are byte-identical.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,10p' "$0"; exit 2; }
# Both revisions are resolved before anything is built, so a commit made meanwhile
# changes neither.
a=$(git rev-parse --short "$1") b=$(git rev-parse --short "$2")
experiment=$(realpath "$3") jobs=${4:-2}
cache="${XDG_CACHE_HOME:-$HOME/.cache}/masklab/ab"
mkdir -p "$cache"
binary() { # SHA -> path of its release binary, built if missing
    local sha=$1 dir="$cache/src-$1"
    [ -d "$dir" ] || git worktree add --detach "$dir" "$sha" >/dev/null 2>&1
    CARGO_TARGET_DIR="$cache/target-$sha" cargo build --quiet --release \
        --manifest-path "$dir/Cargo.toml" -p masklab >&2
    echo "$cache/target-$sha/release/masklab"
}
bins=("$(binary "$a")" "$(binary "$b")")
outs=()
for i in 0 1; do
    rev=$([ "$i" = 0 ] && echo "$a" || echo "$b")
    out="$cache/out-$i"
    rm -rf "$out"
    # From the revision's own worktree: a sweep's provenance is the git state of the
    # directory it runs in, which must be the revision built.
    (cd "$cache/src-$rev" && /usr/bin/time -f "$rev: %e s wall, peak %M KB" "${bins[$i]}" \
        sweep "$experiment" --out "$out" --jobs "$jobs" >/dev/null)
    python3 -c "import json,statistics as st,sys; s=sorted(r['wall_seconds'] for r in \
json.load(open(sys.argv[1]))['runs']); print(f'  {len(s)} runs: {s[0]:.1f} s to {s[-1]:.1f} s, \
median {st.median(s):.1f} s; in order:', ' '.join(f'{v:.1f}' for v in s[:12]), '...' * (len(s) > 12))" \
        "$out/manifest.json"
    outs+=("$out")
done
cmp -s "${outs[0]}/summary.csv" "${outs[1]}/summary.csv" &&
    echo "summary.csv: byte-identical" || echo "summary.csv: differs"

#!/usr/bin/env bash
# Issue 11's scale check: sweeps of 10,000, 30,000 and 100,000 tiny runs (one epoch on 400
# rows), then `masklab report` on each, measured as whole processes. Prints, per size, the
# sweep's wall time, the records' disk use per run (run logs, grid and manifests, as `du`
# counts blocks; boundary grids apart), and the report's wall time and peak memory.
# Usage: scripts/scale.sh [SIZE...]   (default: 10000 30000 100000; about 2 minutes in all on 2 cores)
set -euo pipefail
masklab="${MASKLAB:-target/release/masklab}"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 30000 100000)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf "%8s  %9s  %13s  %13s  %9s  %12s\n" runs "sweep s" "records B/run" "boundary KB" "report s" "report MB"
for n in "${sizes[@]}"; do
    # 5 strategies x 8 rates = 40 runs a seed.
    seeds=$((n / 40))
    cat > "$work/tiny_$n.toml" <<TOML
description = "Scale check: $n tiny runs"
seed = 1
seeds = $seeds
strategies = ["masked", "seed-masked", "plain", "impute-negative", "single-task"]

[data]
source = "toy"
rows = 400

[split]
test-rows = 100
dev-fraction = 0.1

[missing]
mechanism = "mcar"
rate = [0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9]

[training]
epochs = 1
batch-size = 100
TOML
    out="$work/out_$n"
    start=$(date +%s.%N)
    "$masklab" sweep "$work/tiny_$n.toml" --out "$out" --no-report >/dev/null 2>&1
    sweep_s=$(echo "$(date +%s.%N) - $start" | bc)
    runs=$(( seeds * 40 ))
    record_kb=$(du -sk "$out/runs" "$out/grid.json" "$out"/manifest*.json | awk '{s += $1} END {print s}')
    boundary_kb=$(du -sk "$out/boundaries" | awk '{print $1}')
    /usr/bin/time -f "%e %M" -o "$work/time_$n" "$masklab" report "$out" >/dev/null 2>&1
    read -r report_s report_kb < "$work/time_$n"
    printf "%8d  %9.1f  %13.0f  %13d  %9.1f  %12.0f\n" "$runs" "$sweep_s" \
        "$(echo "$record_kb * 1024 / $runs" | bc -l)" "$boundary_kb" "$report_s" \
        "$(echo "$report_kb / 1024" | bc -l)"
done

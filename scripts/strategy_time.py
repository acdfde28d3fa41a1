"""How long a sweep of every strategy on Tox21 takes against the six strategies masklab
started with, from the per-run wall times the sweeps' manifests record.

Issue 19 asks for all strategies on one split (random), three drop rates (0, 0.5, 0.9) and
five seeds within three times the six's time. The six are results/tox21's runs of those
settings; the partial-label strategies are results/strategies_tox21's (same seeds, splits
and streams). Both sweeps ran two jobs at a time on this machine; the sums are of each
run's own wall time, so the ratio does not depend on how runs were packed.

Usage: python3 scripts/strategy_time.py   (from the repository root)
"""

import glob
import json

SIX = {"masked", "seed-masked", "plain", "impute-negative", "complete-case", "single-task"}


def run_seconds(folder):
    """Wall seconds per run id, and each run's spec, for a results folder."""
    seconds = {}
    for path in glob.glob(f"{folder}/manifest*.json"):
        for run in json.load(open(path))["runs"]:
            seconds[run["id"]] = run["wall_seconds"]
    grid = json.load(open(f"{folder}/grid.json"))
    return seconds, {r["id"]: r["spec"] for r in grid["runs"]}


def chosen(spec):
    rate = spec["missing"].get("rate")
    return spec.get("variant") == "random" and rate in (0.0, 0.5, 0.9)


def main():
    base, base_specs = run_seconds("results/tox21")
    new, new_specs = run_seconds("results/strategies_tox21")
    six = {i: s for i, s in base_specs.items() if chosen(s) and s["strategy"] in SIX}
    extra = {i: s for i, s in new_specs.items() if chosen(s) and s["strategy"] not in SIX}
    t_six = sum(base[i] for i in six)
    t_extra = sum(new[i] for i in extra)
    print(f"six strategies: {len(six)} runs, {t_six:.0f} s summed")
    print(f"the {len({s['strategy'] for s in extra.values()})} partial-label strategies: "
          f"{len(extra)} runs, {t_extra:.0f} s summed")
    print(f"all {len(SIX) + len({s['strategy'] for s in extra.values()})} strategies: "
          f"{t_six + t_extra:.0f} s summed, {(t_six + t_extra) / t_six:.2f} times the six's")
    # Both sweeps ran masked and impute-negative on these settings: their times show how
    # far the machine drifted between the two sweeps.
    both = {"masked", "impute-negative"}
    here = sum(new[i] for i, s in new_specs.items() if chosen(s) and s["strategy"] in both)
    there = sum(base[i] for i, s in six.items() if s["strategy"] in both)
    print(f"masked and impute-negative, run in both sweeps: {there:.0f} s in the six's, "
          f"{here:.0f} s in the partial-label sweep ({here / there:.2f})")
    by = {}
    for i, s in extra.items():
        by.setdefault(s["strategy"], 0.0)
        by[s["strategy"]] += new[i]
    for name, t in sorted(by.items()):
        print(f"  {name}: {t:.0f} s")


if __name__ == "__main__":
    main()

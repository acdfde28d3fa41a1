"""Compares masklab's descriptors with RDKit's on whole data files (not part of `just test`).

    python3 scripts/rdkit_descriptors_check.py data/tox21.csv.gz [more files...]

For each file: `masklab featurize FILE --descriptors` (the release binary, built by
`cargo build --release`), then RDKit's `rdMolDescriptors.Properties` on each SMILES that
both read; prints, per descriptor, how many molecules agree (to 1e-6, relative above 1) and
the first that does not, and how fast RDKit parsed and computed them. Needs only
`pip install rdkit`.
"""
import csv
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rdkit import Chem, RDLogger
from rdkit.Chem import rdMolDescriptors

RDLogger.DisableLog("rdApp.*")
ROOT = Path(__file__).resolve().parent.parent


def check(path: str) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "features.csv"
        subprocess.run([str(ROOT / "target/release/masklab"), "featurize", path,
                        "--descriptors", "--out", str(out)], check=True)
        rows = [r for r in csv.DictReader(out.open()) if not r["skipped"]]
    props = rdMolDescriptors.Properties()
    names = list(props.GetPropertyNames())
    ours_names = [n for n in names if n in rows[0]]
    agree = {n: 0 for n in ours_names}
    first = {}
    compared = 0
    parse_s = props_s = 0.0
    for r in rows:
        t0 = time.perf_counter()
        mol = Chem.MolFromSmiles(r["smiles"])
        t1 = time.perf_counter()
        parse_s += t1 - t0
        if mol is None:
            continue
        compared += 1
        values = props.ComputeProperties(mol)
        props_s += time.perf_counter() - t1
        theirs = dict(zip(names, values))
        for n in ours_names:
            a, b = float(r[n]), theirs[n]
            if abs(a - b) <= 1e-6 * max(abs(b), 1.0) or (math.isnan(a) and math.isnan(b)):
                agree[n] += 1
            elif n not in first:
                first[n] = f"{r['smiles']}: masklab {a}, RDKit {b}"
    print(f"{path}: {compared} molecules read by both; RDKit parsed "
          f"{len(rows) / parse_s:.0f} molecules/s and computed its Properties at "
          f"{compared / props_s:.0f} molecules/s (one core)")
    for n in ours_names:
        print(f"  {n:>26} {agree[n]}/{compared} {first.get(n, '')}")
    return all(v == compared for v in agree.values())


if __name__ == "__main__":
    ok = all([check(p) for p in sys.argv[1:]])
    sys.exit(0 if ok else 1)

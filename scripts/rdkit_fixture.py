"""RDKit's side of masklab's chemistry tests: writes crates/datagen/tests/data/rdkit_kekule.csv.

For every 20th molecule of data/tox21.csv.gz that RDKit reads: RDKit's canonical aromatic
SMILES, the same molecule written in Kekulé form (aromatic flags cleared), the number of
atoms RDKit perceives as aromatic, its Bemis-Murcko scaffold as RDKit's MurckoScaffold
writes it (the grouping chemprop and DeepChem split by), and the number of distinct Morgan
environments of radius 2 with RDKit's own atom invariants (unfolded, as counted by
GetMorganFingerprint's non-zero elements). masklab must read both spellings as one molecule (same
aromatic atoms, same fingerprint). Not part of `just test` (it needs RDKit); run it with
`python3 scripts/rdkit_fixture.py` in an environment with `pip install rdkit`, and commit
the file it writes. The RDKit version is written into the file's first line.
"""
import csv
import gzip
import io
import sys
from pathlib import Path

import rdkit
from rdkit import Chem, RDLogger
from rdkit.Chem import rdMolDescriptors
from rdkit.Chem.Scaffolds import MurckoScaffold

RDLogger.DisableLog("rdApp.*")
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/datagen/tests/data/rdkit_kekule.csv"


def main() -> None:
    text = gzip.open(ROOT / "data/tox21.csv.gz", "rt").read()
    rows = list(csv.DictReader(io.StringIO(text)))
    out = io.StringIO()
    out.write(f"# RDKit {rdkit.__version__}: every 20th molecule of data/tox21.csv.gz\n")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["aromatic", "kekule", "aromatic_atoms", "murcko", "morgan2_environments"])
    kept = 0
    for i, row in enumerate(rows):
        if i % 20:
            continue
        mol = Chem.MolFromSmiles(row["SMILES"])
        if mol is None:
            continue
        aromatic = Chem.MolToSmiles(mol)
        murcko = MurckoScaffold.MurckoScaffoldSmiles(mol=mol)
        environments = len(rdMolDescriptors.GetMorganFingerprint(mol, 2).GetNonzeroElements())
        n_aromatic = sum(a.GetIsAromatic() for a in mol.GetAtoms())
        Chem.Kekulize(mol, clearAromaticFlags=True)
        kekule = Chem.MolToSmiles(mol, kekuleSmiles=True)
        w.writerow([aromatic, kekule, n_aromatic, murcko, environments])
        kept += 1
    OUT.write_text(out.getvalue())
    print(f"wrote {kept} molecules to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()

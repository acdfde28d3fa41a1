"""RDKit's side of masklab's descriptor block. Writes two files, both committed:

* crates/datagen/tests/data/rdkit_descriptors.csv: for every 10th molecule of
  data/tox21.csv.gz that RDKit reads, the SMILES as the file writes it and RDKit's 43
  `rdMolDescriptors.Properties` values (repr, full precision). `just test` compares
  masklab's descriptors against it (crates/datagen/src/molecule/descriptors/tests.rs).
* crates/datagen/src/molecule/descriptors/elements.rs: the per-element constants the
  descriptors use, read from RDKit's periodic table (default valence, outer electrons,
  Rb0 radius, average atomic weight, most common isotope's mass) and the masses of the
  isotopes of the light elements.

Not part of `just test` (it needs RDKit): run it with `python3 scripts/rdkit_descriptors.py`
in an environment with `pip install rdkit`. The RDKit version is written into both files.
"""
import csv
import gzip
import io
import sys
from pathlib import Path

import rdkit
from rdkit import Chem, RDLogger
from rdkit.Chem import rdMolDescriptors

RDLogger.DisableLog("rdApp.*")
ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "crates/datagen/tests/data/rdkit_descriptors.csv"
ELEMENTS = ROOT / "crates/datagen/src/molecule/descriptors/elements.rs"


def fixture() -> None:
    rows = list(csv.DictReader(io.StringIO(gzip.open(ROOT / "data/tox21.csv.gz", "rt").read())))
    props = rdMolDescriptors.Properties()
    names = list(props.GetPropertyNames())
    out = io.StringIO()
    out.write(f"# RDKit {rdkit.__version__}: every 10th molecule of data/tox21.csv.gz, "
              "rdMolDescriptors.Properties\n")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["smiles"] + names)
    kept = 0
    for i, row in enumerate(rows):
        if i % 10:
            continue
        mol = Chem.MolFromSmiles(row["SMILES"])
        if mol is None:
            continue
        w.writerow([row["SMILES"]] + [repr(v) for v in props.ComputeProperties(mol)])
        kept += 1
    FIXTURE.write_text(out.getvalue())
    print(f"wrote {kept} molecules to {FIXTURE}", file=sys.stderr)


def elements() -> None:
    pt = Chem.GetPeriodicTable()
    lines = [
        f"//! Per-element constants from RDKit {rdkit.__version__}'s periodic table, written by",
        "//! `scripts/rdkit_descriptors.py` (do not edit by hand).",
        "",
        "/// One element's constants, indexed by atomic number (0: the `*` wildcard).",
        "pub struct Element {",
        "    pub default_valence: i32,",
        "    pub outer_electrons: i32,",
        "    /// RDKit's `Rb0`: the radius Labute's ASA and Hall-Kier's alpha use.",
        "    pub rb0: f64,",
        "    pub atomic_weight: f64,",
        "    pub monoisotopic_mass: f64,",
        "}",
        "",
        "pub const ELEMENTS: [Element; 119] = [",
    ]
    for z in range(0, 119):
        lines.append(
            f"    Element {{ default_valence: {pt.GetDefaultValence(z)}, "
            f"outer_electrons: {pt.GetNOuterElecs(z)}, rb0: {pt.GetRb0(z)!r}, "
            f"atomic_weight: {pt.GetAtomicWeight(z)!r}, "
            f"monoisotopic_mass: {pt.GetMostCommonIsotopeMass(z)!r} }},"
        )
    lines += ["];", "", "/// `(atomic number, mass number, mass)` of the light elements' isotopes.",
              "pub const ISOTOPES: &[(u8, u16, f64)] = &["]
    for z in (1, 5, 6, 7, 8, 9, 15, 16, 17, 35, 53):
        for a in range(1, 140):
            mass = pt.GetMassForIsotope(z, a)
            if mass > 0:
                lines.append(f"    ({z}, {a}, {mass!r}),")
    lines += ["];", ""]
    ELEMENTS.write_text("\n".join(lines))
    print(f"wrote {ELEMENTS}", file=sys.stderr)


if __name__ == "__main__":
    fixture()
    elements()

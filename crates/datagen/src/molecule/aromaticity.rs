//! Aromaticity perception, so that a molecule written in Kekulé form (`CC1=CC=CC=C1`, as SDF
//! exports often are) is the same molecule as its aromatic spelling (`Cc1ccccc1`): same
//! aromatic atoms, aromatic bonds, fingerprint and scaffold.
//!
//! The model follows RDKit's default (Hückel's 4n + 2 rule over rings and fused pairs of
//! rings): each ring atom gives 0, 1 or 2 π electrons, or rules its rings out:
//! * a carbon with a double bond inside the ring system gives 1, with an exocyclic double
//!   bond to N, O or S 0 (the carbonyl carbon of 2-pyridone), as an anion 2, as a cation 0;
//! * N and P give 1 with a ring double bond, 2 with three neighbours and none (pyrrole's
//!   NH), 2 as an anion;
//! * O, S, Se and Te give 2 with two neighbours and no double bond, 1 as a cation with a
//!   ring double bond (pyrylium);
//! * anything else (an sp3 carbon, a sulfoxide sulfur, a quaternary N) rules the ring out.
//!
//! A ring of up to [`MAX_RING`] atoms is aromatic when its electrons number 4n + 2; so is the
//! union of two rings that share a bond (azulene's perimeter) up to [`MAX_FUSED`] atoms.
//! Rings with an atom already written aromatic are left as written. Against RDKit, on 392
//! Tox21 molecules (`tests/data/rdkit_kekule.csv`): the Kekulé spelling gives RDKit's
//! aromatic atoms for all 392, and the same fingerprint and scaffold as the aromatic
//! spelling for 391 (the exception is in the test).

use super::{BondOrder, Molecule};
use std::collections::BTreeSet;

/// The largest single ring considered.
pub const MAX_RING: usize = 8;
/// The largest union of two fused rings considered.
pub const MAX_FUSED: usize = 24;
/// Enough rings for any drug-like molecule; a cage with more is left as written.
const MAX_RINGS: usize = 2000;

/// Marks the atoms and bonds of aromatic rings as aromatic.
pub(super) fn perceive(m: &mut Molecule) {
    let rings = rings(m);
    if rings.is_empty() {
        return;
    }
    let electrons: Vec<Option<u32>> = (0..m.atoms.len()).map(|a| electrons(m, a)).collect();
    let candidate = |ring: &[usize]| {
        ring.iter()
            .all(|&a| electrons[a].is_some() && !m.atoms[a].aromatic)
    };
    let huckel = |atoms: &BTreeSet<usize>| {
        let total: u32 = atoms.iter().map(|&a| electrons[a].unwrap_or(0)).sum();
        total % 4 == 2
    };
    let rings: Vec<&Vec<usize>> = rings.iter().filter(|r| candidate(r)).collect();
    let sets: Vec<BTreeSet<usize>> = rings.iter().map(|r| r.iter().copied().collect()).collect();
    let mut aromatic = vec![false; rings.len()];
    for (i, set) in sets.iter().enumerate() {
        aromatic[i] = huckel(set);
    }
    let mut fused: Vec<(usize, usize)> = Vec::new();
    for i in 0..rings.len() {
        for j in i + 1..rings.len() {
            if aromatic[i] && aromatic[j] {
                continue;
            }
            let shared = sets[i].intersection(&sets[j]).count();
            let union: BTreeSet<usize> = sets[i].union(&sets[j]).copied().collect();
            if shared >= 2
                && shares_a_bond(rings[i], rings[j])
                && union.len() <= MAX_FUSED
                && huckel(&union)
            {
                fused.push((i, j));
            }
        }
    }
    for (i, j) in fused {
        aromatic[i] = true;
        aromatic[j] = true;
    }
    for (ring, _) in rings.iter().zip(&aromatic).filter(|(_, &a)| a) {
        for k in 0..ring.len() {
            let (a, b) = (ring[k], ring[(k + 1) % ring.len()]);
            m.atoms[a].aromatic = true;
            set_order(m, a, b, BondOrder::Aromatic);
            set_order(m, b, a, BondOrder::Aromatic);
        }
    }
}

fn set_order(m: &mut Molecule, from: usize, to: usize, order: BondOrder) {
    if let Some(b) = m.bonds[from].iter_mut().find(|b| b.0 == to) {
        b.1 = order;
    }
}

/// Whether two rings (as closed paths) have a bond in common.
fn shares_a_bond(a: &[usize], b: &[usize]) -> bool {
    let edges = |r: &[usize]| -> BTreeSet<(usize, usize)> {
        (0..r.len())
            .map(|k| {
                let (x, y) = (r[k], r[(k + 1) % r.len()]);
                (x.min(y), x.max(y))
            })
            .collect()
    };
    !edges(a).is_disjoint(&edges(b))
}

/// Every simple cycle of ring bonds of up to [`MAX_RING`] atoms, as a closed path starting
/// at its smallest atom (each once).
fn rings(m: &Molecule) -> Vec<Vec<usize>> {
    let mut found: Vec<Vec<usize>> = Vec::new();
    let mut seen: BTreeSet<Vec<usize>> = BTreeSet::new();
    for start in 0..m.atoms.len() {
        if !m.atoms[start].in_ring {
            continue;
        }
        let mut path = vec![start];
        extend(m, start, &mut path, &mut found, &mut seen);
        if found.len() > MAX_RINGS {
            return Vec::new();
        }
    }
    found
}

fn extend(
    m: &Molecule,
    start: usize,
    path: &mut Vec<usize>,
    found: &mut Vec<Vec<usize>>,
    seen: &mut BTreeSet<Vec<usize>>,
) {
    if found.len() > MAX_RINGS {
        return;
    }
    let last = *path.last().expect("a path has its start");
    for &(next, _, in_ring) in &m.bonds[last] {
        if !in_ring || next < start {
            continue;
        }
        if next == start && path.len() >= 3 {
            let mut key = path.clone();
            key.sort_unstable();
            if seen.insert(key) {
                found.push(path.clone());
            }
        } else if next != start && !path.contains(&next) && path.len() < MAX_RING {
            path.push(next);
            extend(m, start, path, found, seen);
            path.pop();
        }
    }
}

/// The π electrons atom `a` gives a ring (see the module docs), or `None` when it cannot
/// be part of an aromatic ring.
fn electrons(m: &Molecule, a: usize) -> Option<u32> {
    let atom = &m.atoms[a];
    let bonds = &m.bonds[a];
    let ring_double = bonds
        .iter()
        .any(|&(_, order, in_ring)| in_ring && order == BondOrder::Double);
    let exo_double: Vec<u8> = bonds
        .iter()
        .filter(|&&(_, order, in_ring)| !in_ring && order == BondOrder::Double)
        .map(|&(n, _, _)| m.atoms[n].element)
        .collect();
    let any_triple = bonds.iter().any(|b| b.1 == BondOrder::Triple);
    if any_triple || bonds.iter().filter(|b| b.1 == BondOrder::Double).count() > 1 {
        return None;
    }
    let neighbours = bonds.len() + atom.hydrogens as usize;
    match (atom.element, atom.charge) {
        (6, 0) if ring_double => Some(1),
        (6, 0) if exo_double.len() == 1 && matches!(exo_double[0], 7 | 8 | 16) => Some(0),
        (6, -1) if !ring_double && exo_double.is_empty() => Some(2),
        (6, 1) if !ring_double && exo_double.is_empty() => Some(0),
        (7 | 15, 0) if ring_double => Some(1),
        (7 | 15, 0) if exo_double.is_empty() && neighbours == 3 => Some(2),
        (7 | 15, 1) if ring_double => Some(1),
        (7 | 15, -1) if !ring_double && exo_double.is_empty() => Some(2),
        (8 | 16 | 34 | 52, 0) if !ring_double && exo_double.is_empty() && neighbours == 2 => {
            Some(2)
        }
        (8 | 16 | 34 | 52, 1) if ring_double => Some(1),
        (16 | 34, 0) if ring_double && neighbours == 2 => Some(1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::molecule::Molecule;

    fn aromatic_atoms(smiles: &str) -> usize {
        Molecule::from_smiles(smiles)
            .unwrap()
            .atoms
            .iter()
            .filter(|a| a.aromatic)
            .count()
    }

    #[test]
    fn kekule_rings_are_perceived_by_huckels_rule() {
        for (smiles, aromatic) in [
            ("C1=CC=CC=C1", 6),          // benzene
            ("CC1=CC=CC=C1", 6),         // toluene
            ("C1=CC=C2C=CC=CC2=C1", 10), // naphthalene
            ("C1=CNC=C1", 5),            // pyrrole
            ("O=C1C=CC=CN1", 6),         // 2-pyridone
            ("C1=CC=C2C=CC=C2C=C1", 10), // azulene: only the fused pair is 4n + 2
            ("C1=CCC=C1", 0),            // cyclopentadiene: an sp3 carbon
            ("C1=CC=CC=CC=C1", 0),       // cyclooctatetraene: 8 electrons
            ("O=C1C=CC(=O)C=C1", 0),     // benzoquinone: 4 electrons
            ("C1CCCCC1", 0),
            ("C[N+]1=CC=CC=C1", 6), // N-methylpyridinium
            ("C1=CSC=C1", 5),       // thiophene
        ] {
            assert_eq!(aromatic_atoms(smiles), aromatic, "{smiles}");
        }
    }

    /// RDKit's aromatic and Kekulé spellings of 392 Tox21 molecules
    /// (`scripts/rdkit_fixture.py`): the Kekulé spelling must give RDKit's aromatic atoms,
    /// and both spellings one fingerprint and one scaffold.
    #[test]
    fn both_spellings_of_tox21_molecules_are_one_molecule_as_rdkit_says() {
        use crate::molecule::ecfp::{identifiers, EcfpParams};
        use crate::molecule::scaffold::scaffold_hash;
        let (mut total, mut atoms_agree, mut same) = (0, 0, 0);
        let mut differ = Vec::new();
        let radius = EcfpParams::default().radius;
        for row in crate::molecule::rdkit_fixture() {
            let (aromatic, kekule) = (
                Molecule::from_smiles(&row[0]).unwrap(),
                Molecule::from_smiles(&row[1]).unwrap(),
            );
            let rdkit: usize = row[2].parse().unwrap();
            total += 1;
            let perceived = kekule.atoms.iter().filter(|a| a.aromatic).count();
            atoms_agree += (perceived == rdkit) as usize;
            // Atom order differs between spellings: the environments compare as multisets.
            let sorted = |m: &Molecule| {
                let mut ids = identifiers(m, radius);
                ids.sort_unstable();
                ids
            };
            let one = sorted(&aromatic) == sorted(&kekule)
                && scaffold_hash(&aromatic) == scaffold_hash(&kekule);
            same += one as usize;
            if perceived != rdkit || !one {
                differ.push(format!(
                    "{} / {}: {perceived} aromatic atoms, RDKit {rdkit}",
                    &row[0], &row[1]
                ));
            }
        }
        eprintln!(
            "{total} molecules: aromatic atoms as RDKit's in {atoms_agree}, one fingerprint and scaffold for both spellings in {same}"
        );
        assert_eq!(total, 392);
        assert_eq!(atoms_agree, 392, "{}", differ.join("\n"));
        // The one known difference: a rhodamine whose xanthene ring RDKit writes with a
        // single bond between two aromatic atoms (`c-2`); masklab makes every bond of a
        // perceived fused pair aromatic, so its Kekulé spelling has one aromatic bond more.
        assert_eq!(same, 391, "{}", differ.join("\n"));
        assert!(
            differ[0].starts_with("CC/N=c1/cc2oc3cc(NCC)"),
            "{}",
            differ.join("\n")
        );
    }
}

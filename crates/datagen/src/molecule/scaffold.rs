//! Bemis–Murcko frameworks and the scaffold split.
//!
//! A molecule's framework is what is left after repeatedly removing atoms of degree one
//! that are not in a ring: side chains go, rings and the linkers between them stay, and so
//! do atoms double-bonded to them (cyclohexanone keeps its oxygen), as RDKit's
//! `MurckoScaffold` keeps them. Acyclic molecules have the empty framework. Molecules are
//! grouped by a key of their framework graph (element, aromaticity, charge, an aromatic
//! nitrogen's hydrogen, bond orders) computed from a canonical labelling of it
//! (`canonical`): two frameworks share a key only when they are the same graph, which a
//! plain Weisfeiler–Lehman hash cannot promise (cyclododecane and two cyclohexanes look
//! alike to it). Whole groups are assigned to train, dev and test, largest groups to train
//! first, as chemprop and DeepChem do: a test molecule's scaffold is never seen in training.

use super::Molecule;
use crate::Split;

mod canonical;

/// The framework's atoms, as indices into the molecule (empty for an acyclic molecule).
pub fn framework_atoms(m: &Molecule) -> Vec<usize> {
    let n = m.n_atoms();
    let mut alive = vec![true; n];
    let mut degree: Vec<usize> = m.bonds.iter().map(Vec::len).collect();
    let mut queue: Vec<usize> = (0..n)
        .filter(|&v| degree[v] <= 1 && !m.atoms[v].in_ring)
        .collect();
    while let Some(v) = queue.pop() {
        if !alive[v] {
            continue;
        }
        alive[v] = false;
        for &(w, _, _) in &m.bonds[v] {
            if alive[w] {
                degree[w] -= 1;
                if degree[w] <= 1 && !m.atoms[w].in_ring {
                    queue.push(w);
                }
            }
        }
    }
    // Atoms double-bonded to the framework stay with it (RDKit's MurckoScaffold).
    let kept: Vec<usize> = (0..n).filter(|&v| alive[v]).collect();
    if kept.is_empty() {
        return kept;
    }
    let mut with = alive.clone();
    for &v in &kept {
        for &(w, order, _) in &m.bonds[v] {
            if order == super::BondOrder::Double && !alive[w] {
                with[w] = true;
            }
        }
    }
    (0..n).filter(|&v| with[v]).collect()
}

/// The key of a molecule's framework: equal for two molecules exactly when their
/// frameworks are the same graph (up to a 64-bit hash of the canonical form). 0 for the
/// empty framework.
pub fn scaffold_hash(m: &Molecule) -> u64 {
    let keep = framework_atoms(m);
    if keep.is_empty() {
        return 0;
    }
    let form = canonical::form(m, &keep);
    let digest = blake3::hash(form.as_bytes());
    u64::from_le_bytes(digest.as_bytes()[..8].try_into().expect("8 bytes")).max(1)
}

/// Splits rows into train, dev and test by scaffold group: groups sorted by size (largest
/// first; ties by the group's first row), each whole group into train while it fits in the
/// training share, else into dev while it fits in the dev share, else into test. As in
/// [`crate::split`], `test_fraction` is of all rows and `dev_fraction` of the rest (80/10/10
/// is 0.1 and 1/9). Rows in each split keep file order.
pub fn scaffold_split(scaffolds: &[u64], test_fraction: f64, dev_fraction: f64) -> Split {
    let n = scaffolds.len();
    let mut groups: std::collections::HashMap<u64, Vec<usize>> = std::collections::HashMap::new();
    for (row, &s) in scaffolds.iter().enumerate() {
        groups.entry(s).or_default().push(row);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    let rest = (1.0 - test_fraction) * n as f64;
    let train_cap = ((1.0 - dev_fraction) * rest).round() as usize;
    let dev_cap = (dev_fraction * rest).round() as usize;
    let (mut train, mut dev, mut test) = (Vec::new(), Vec::new(), Vec::new());
    for g in groups {
        if train.len() + g.len() <= train_cap {
            train.extend(g);
        } else if dev.len() + g.len() <= dev_cap {
            dev.extend(g);
        } else {
            test.extend(g);
        }
    }
    for v in [&mut train, &mut dev, &mut test] {
        v.sort_unstable();
    }
    Split { train, dev, test }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framework_elements(smiles: &str) -> Vec<u8> {
        let m = Molecule::from_smiles(smiles).unwrap();
        framework_atoms(&m)
            .into_iter()
            .map(|v| m.atoms[v].element)
            .collect()
    }

    #[test]
    fn side_chains_go_rings_and_linkers_stay() {
        // Toluene and phenol: the benzene ring.
        assert_eq!(framework_elements("Cc1ccccc1"), vec![6; 6]);
        assert_eq!(framework_elements("Oc1ccccc1"), vec![6; 6]);
        // Ibuprofen: the ring only (both chains are side chains).
        assert_eq!(framework_elements("CC(C)Cc1ccc(cc1)C(C)C(=O)O"), vec![6; 6]);
        // Diphenylmethane: two rings and the CH2 linker between them.
        assert_eq!(framework_elements("c1ccccc1Cc1ccccc1").len(), 13);
        // Pyridine keeps its nitrogen; hexane has nothing left.
        assert_eq!(
            framework_elements("CCc1ccncc1")
                .iter()
                .filter(|&&e| e == 7)
                .count(),
            1
        );
        assert!(framework_elements("CCCCCC").is_empty());
    }

    #[test]
    fn scaffold_hash_groups_molecules_by_framework_not_by_writing() {
        let h = |s: &str| scaffold_hash(&Molecule::from_smiles(s).unwrap());
        assert_eq!(
            h("Cc1ccccc1"),
            h("c1ccccc1CC"),
            "toluene and ethylbenzene share benzene"
        );
        assert_eq!(h("c1ccccc1"), h("Oc1ccccc1"));
        assert_eq!(h("c1ccccc1Cc1ccccc1"), h("c1ccc(cc1)Cc1ccccc1"));
        assert_ne!(h("c1ccccc1"), h("c1ccncc1"), "pyridine is another scaffold");
        assert_ne!(h("c1ccccc1"), h("C1CCCCC1"), "aromaticity counts");
        assert_ne!(
            h("c1ccccc1Cc1ccccc1"),
            h("c1ccccc1CCc1ccccc1"),
            "linker length counts"
        );
        assert_eq!(h("CCO"), 0);
        assert_eq!(h("CCCCN"), 0, "acyclic molecules share the empty framework");
        // What the issue found colliding or merged, and RDKit's MurckoScaffold keeps apart.
        assert_ne!(
            h("C1CCCCCCCCCCC1"),
            h("C1CCCCC1.C1CCCCC1"),
            "cyclododecane, two cyclohexanes"
        );
        assert_ne!(
            h("C1CCC2CCCCC2C1"),
            h("C1CCC(C1)C1CCCC1"),
            "decalin, bicyclopentyl"
        );
        assert_ne!(
            h("O=C1CCCCC1"),
            h("C1CCCCC1"),
            "cyclohexanone keeps its oxygen"
        );
        assert_ne!(
            h("O=C(c1ccccc1)c1ccccc1"),
            h("c1ccccc1Cc1ccccc1"),
            "benzophenone"
        );
        assert_ne!(
            h("C[n+]1ccccc1"),
            h("c1ccncc1"),
            "pyridinium keeps its charge"
        );
        assert_eq!(
            h("CC(=O)C1CCCCC1"),
            h("C1CCCCC1"),
            "a side chain's C=O goes"
        );
        assert_eq!(
            h("Cc1ccc2ccccc2c1"),
            h("c1ccc2cc(O)ccc2c1"),
            "atom order does not matter"
        );
    }

    #[test]
    fn the_split_keeps_groups_whole_and_fills_train_with_the_largest() {
        // Groups: a x5, b x3, c x1, d x1 -> 10 rows; 80/10/10.
        let s = [1, 2, 1, 1, 3, 2, 1, 4, 2, 1u64];
        let split = scaffold_split(&s, 0.1, 1.0 / 9.0);
        assert_eq!(split.train, vec![0, 1, 2, 3, 5, 6, 8, 9]);
        assert_eq!(split.dev, vec![4]);
        assert_eq!(split.test, vec![7]);
        let empty = scaffold_split(&[], 0.1, 0.1);
        assert!(empty.train.is_empty() && empty.dev.is_empty() && empty.test.is_empty());
    }

    /// RDKit's MurckoScaffold of 392 Tox21 molecules (`scripts/rdkit_fixture.py`): masklab
    /// groups two molecules together exactly when RDKit gives them one scaffold.
    #[test]
    fn scaffold_groups_are_rdkits_murcko_groups() {
        let rows: Vec<(String, u64, u64)> = crate::molecule::rdkit_fixture()
            .into_iter()
            .map(|r| {
                let ours = scaffold_hash(&Molecule::from_smiles(&r[0]).unwrap());
                let kekule = scaffold_hash(&Molecule::from_smiles(&r[1]).unwrap());
                (r[3].to_string(), ours, kekule)
            })
            .collect();
        let mut disagree = Vec::new();
        let mut pairs = 0;
        for i in 0..rows.len() {
            for j in i + 1..rows.len() {
                pairs += 1;
                let rdkit = rows[i].0 == rows[j].0;
                let ours = rows[i].1 == rows[j].1;
                if rdkit != ours {
                    disagree.push(format!(
                        "`{}` and `{}`: RDKit {rdkit}, masklab {ours}",
                        rows[i].0, rows[j].0
                    ));
                }
            }
        }
        let groups = rows
            .iter()
            .map(|r| r.0.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        eprintln!(
            "{} molecules, {groups} RDKit scaffolds: {} of {pairs} pairs grouped alike",
            rows.len(),
            pairs - disagree.len()
        );
        assert!(disagree.is_empty(), "{}", disagree.join("\n"));
        // The Kekulé spelling has the aromatic spelling's scaffold (one known exception, see
        // the aromaticity test).
        assert!(rows.iter().filter(|r| r.1 != r.2).count() <= 1);
    }
}

//! Bemis–Murcko frameworks and the scaffold split.
//!
//! A molecule's framework is what is left after repeatedly removing atoms of degree one
//! that are not in a ring: side chains go, rings and the linkers between them stay. Acyclic
//! molecules have the empty framework. Molecules are grouped by a hash of their framework
//! graph that does not depend on atom order (Weisfeiler–Lehman refinement of element,
//! aromaticity and bond orders), and whole groups are assigned to train, dev and test,
//! largest groups to train first, as chemprop and DeepChem do: a test molecule's scaffold is
//! never seen in training.

use super::Molecule;
use crate::Split;

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
    (0..n).filter(|&v| alive[v]).collect()
}

fn mix(h: u64, x: u64) -> u64 {
    let mut h = (h ^ x).wrapping_mul(0x0000_0100_0000_01b3);
    h ^= h >> 29;
    h.wrapping_mul(0xbf58_476d_1ce4_e5b9)
}

/// A hash of the framework graph that two writings of one molecule share. 0 for the empty
/// framework.
pub fn scaffold_hash(m: &Molecule) -> u64 {
    let keep = framework_atoms(m);
    if keep.is_empty() {
        return 0;
    }
    let index: std::collections::HashMap<usize, usize> =
        keep.iter().enumerate().map(|(i, &v)| (v, i)).collect();
    let mut labels: Vec<u64> = keep
        .iter()
        .map(|&v| mix(m.atoms[v].element as u64, m.atoms[v].aromatic as u64))
        .collect();
    // Refine as many times as there are atoms (enough to separate what WL can), at most 32.
    for _ in 0..keep.len().min(32) {
        let next: Vec<u64> = keep
            .iter()
            .map(|&v| {
                let mut around: Vec<u64> = m.bonds[v]
                    .iter()
                    .filter_map(|&(w, order, _)| {
                        index.get(&w).map(|&j| mix(order.code() as u64, labels[j]))
                    })
                    .collect();
                around.sort_unstable();
                around.into_iter().fold(labels[index[&v]], mix)
            })
            .collect();
        labels = next;
    }
    labels.sort_unstable();
    labels.into_iter().fold(keep.len() as u64, mix).max(1)
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
}

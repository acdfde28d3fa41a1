//! The rings RDKit's ring counts, spiro and bridgehead atoms are defined over: its
//! "symmetrized SSSR", which is the set of relevant cycles (the union of all minimum cycle
//! bases: a cycle is relevant when it is not a sum of shorter cycles). Cubane has six.
//!
//! First a smallest set of smallest rings (SSSR), for the cycle rank and the largest ring size:
//! Horton's construction: for every ring atom `r` and ring bond `(u, v)`, the cycle made of
//! the shortest path `r → u`, the bond, and the shortest path `v → r` (when the two paths
//! meet only at `r`) is a candidate; candidates are taken shortest first, and each is kept
//! when it is independent (over GF(2), as a set of bonds) of those already kept, until there
//! are as many rings as the graph's cycle rank (bonds − atoms + components). Shortest paths
//! and ties are broken by atom order, so the set is the same on every run.

use super::super::Molecule;
use std::collections::VecDeque;

/// Rings as atom lists (in ring order) and as indices into `bond_list`.
#[derive(Debug)]
pub struct Rings {
    pub atoms: Vec<Vec<usize>>,
    pub bonds: Vec<Vec<usize>>,
    /// The molecule's bonds once each, `(a, b)` with `a < b`, sorted.
    pub bond_list: Vec<(usize, usize)>,
}

/// The most simple cycles looked at to find the relevant ones; a molecule with more keeps
/// its SSSR.
const MAX_CYCLES: usize = 20_000;

impl Rings {
    /// The relevant cycles (RDKit's ring set); the SSSR when there are too many cycles to
    /// look at.
    pub fn relevant(m: &Molecule) -> Rings {
        let bond_list = sorted_bonds(m);
        let rank = cycle_rank(m, bond_list.len());
        if rank == 0 {
            return Rings {
                atoms: Vec::new(),
                bonds: Vec::new(),
                bond_list,
            };
        }
        // Cycles of up to eight atoms span the cycle space of almost every molecule; when
        // they do, no longer cycle is relevant.
        if let Some(rings) = Rings::relevant_up_to(m, &bond_list, 8) {
            if rings.rank(&bond_list) == rank {
                return rings;
            }
        }
        let sssr = Rings::sssr(m);
        let longest = sssr.atoms.iter().map(Vec::len).max().unwrap_or(0);
        Rings::relevant_up_to(m, &bond_list, longest).unwrap_or(sssr)
    }

    /// The rank of the space the rings span.
    fn rank(&self, bond_list: &[(usize, usize)]) -> usize {
        let words = bond_list.len().div_ceil(64);
        let mut basis: Vec<(usize, Vec<u64>)> = Vec::new();
        for bonds in &self.bonds {
            let mut bits = vec![0u64; words];
            for &b in bonds {
                bits[b / 64] ^= 1 << (b % 64);
            }
            if reduce(&basis, &mut bits) {
                basis.push((first_bit(&bits).expect("non-zero"), bits));
            }
        }
        basis.len()
    }

    /// The relevant cycles among the simple cycles of up to `longest` atoms.
    fn relevant_up_to(m: &Molecule, bond_list: &[(usize, usize)], longest: usize) -> Option<Rings> {
        let mut cycles = simple_cycles(m, longest)?;
        cycles.sort_by_key(|c| c.len());
        let words = bond_list.len().div_ceil(64);
        let mut rings = Rings {
            atoms: Vec::new(),
            bonds: Vec::new(),
            bond_list: bond_list.to_vec(),
        };
        let mut shorter: Vec<(usize, Vec<u64>)> = Vec::new();
        let mut this_length: Vec<Vec<u64>> = Vec::new();
        let mut length = 0;
        for cycle in cycles {
            if cycle.len() != length {
                for bits in this_length.drain(..) {
                    let mut bits = bits;
                    if reduce(&shorter, &mut bits) {
                        shorter.push((first_bit(&bits).expect("non-zero"), bits));
                    }
                }
                length = cycle.len();
            }
            let bonds = rings.bonds_of(&cycle);
            let mut bits = vec![0u64; words];
            for &b in &bonds {
                bits[b / 64] ^= 1 << (b % 64);
            }
            this_length.push(bits.clone());
            if reduce(&shorter, &mut bits) {
                rings.atoms.push(cycle);
                rings.bonds.push(bonds);
            }
        }
        Some(rings)
    }

    /// A cycle's bonds, as sorted indices into `bond_list`.
    fn bonds_of(&self, cycle: &[usize]) -> Vec<usize> {
        let mut bonds: Vec<usize> = (0..cycle.len())
            .map(|i| {
                let (a, b) = (cycle[i], cycle[(i + 1) % cycle.len()]);
                self.bond_list
                    .binary_search(&(a.min(b), a.max(b)))
                    .expect("a bond of the molecule")
            })
            .collect();
        bonds.sort_unstable();
        bonds
    }

    /// A smallest set of smallest rings.
    pub fn sssr(m: &Molecule) -> Rings {
        let bond_list = sorted_bonds(m);
        let rank = cycle_rank(m, bond_list.len());
        let mut rings = Rings {
            atoms: Vec::new(),
            bonds: Vec::new(),
            bond_list,
        };
        if rank == 0 {
            return rings;
        }
        let index = |a: usize, b: usize| {
            let key = (a.min(b), a.max(b));
            rings
                .bond_list
                .binary_search(&key)
                .expect("a bond of the molecule")
        };
        let mut candidates: Vec<Vec<usize>> = Vec::new();
        for root in (0..m.n_atoms()).filter(|&a| m.atoms[a].in_ring) {
            let parent = shortest_paths(m, root);
            for &(u, v) in &rings.bond_list {
                if parent[u].is_none() || parent[v].is_none() || !is_ring_bond(m, u, v) {
                    continue;
                }
                if let Some(cycle) = cycle_through(&parent, root, u, v) {
                    candidates.push(cycle);
                }
            }
        }
        candidates.sort_by_key(|c| c.len());
        let words = rings.bond_list.len().div_ceil(64);
        let mut basis: Vec<(usize, Vec<u64>)> = Vec::new();
        for cycle in candidates {
            let mut bits = vec![0u64; words];
            let mut bonds: Vec<usize> = (0..cycle.len())
                .map(|i| index(cycle[i], cycle[(i + 1) % cycle.len()]))
                .collect();
            for &b in &bonds {
                bits[b / 64] ^= 1 << (b % 64);
            }
            if reduce(&basis, &mut bits) {
                let pivot = first_bit(&bits).expect("non-zero");
                basis.push((pivot, bits));
                bonds.sort_unstable();
                rings.atoms.push(cycle);
                rings.bonds.push(bonds);
                if rings.atoms.len() == rank {
                    break;
                }
            }
        }
        rings
    }
}

fn sorted_bonds(m: &Molecule) -> Vec<(usize, usize)> {
    let mut bond_list: Vec<(usize, usize)> = (0..m.n_atoms())
        .flat_map(|a| {
            m.bonds[a]
                .iter()
                .filter(move |b| a < b.0)
                .map(move |b| (a, b.0))
        })
        .collect();
    bond_list.sort_unstable();
    bond_list
}

fn is_ring_bond(m: &Molecule, u: usize, v: usize) -> bool {
    m.bonds[u].iter().any(|b| b.0 == v && b.2)
}

/// Bonds − atoms + connected components.
fn cycle_rank(m: &Molecule, bonds: usize) -> usize {
    let n = m.n_atoms();
    let mut seen = vec![false; n];
    let mut components = 0;
    for start in 0..n {
        if seen[start] {
            continue;
        }
        components += 1;
        let mut stack = vec![start];
        seen[start] = true;
        while let Some(a) = stack.pop() {
            for b in &m.bonds[a] {
                if !seen[b.0] {
                    seen[b.0] = true;
                    stack.push(b.0);
                }
            }
        }
    }
    bonds + components - n
}

/// Breadth-first parents over ring bonds from `root` (`Some(root)` for the root itself).
fn shortest_paths(m: &Molecule, root: usize) -> Vec<Option<usize>> {
    let mut parent = vec![None; m.n_atoms()];
    parent[root] = Some(root);
    let mut queue = VecDeque::from([root]);
    while let Some(a) = queue.pop_front() {
        for b in m.bonds[a].iter().filter(|b| b.2) {
            if parent[b.0].is_none() {
                parent[b.0] = Some(a);
                queue.push_back(b.0);
            }
        }
    }
    parent
}

/// The path from `a` back to the root, `a` first.
fn path_to_root(parent: &[Option<usize>], root: usize, a: usize) -> Vec<usize> {
    let mut path = vec![a];
    let mut at = a;
    while at != root {
        at = parent[at].expect("reached from the root");
        path.push(at);
    }
    path
}

/// `root → u`, the bond `u–v`, `v → root`, when the two paths share only the root.
fn cycle_through(parent: &[Option<usize>], root: usize, u: usize, v: usize) -> Option<Vec<usize>> {
    if parent[u] == Some(v) || parent[v] == Some(u) {
        return None;
    }
    let to_u = path_to_root(parent, root, u);
    let to_v = path_to_root(parent, root, v);
    if to_u[..to_u.len() - 1].iter().any(|a| to_v.contains(a)) {
        return None;
    }
    let mut cycle: Vec<usize> = to_u.into_iter().rev().collect();
    cycle.extend(to_v[..to_v.len() - 1].iter());
    (cycle.len() >= 3).then_some(cycle)
}

/// Every simple cycle of ring bonds of up to `longest` atoms, once each; `None` when there
/// are more than [`MAX_CYCLES`].
fn simple_cycles(m: &Molecule, longest: usize) -> Option<Vec<Vec<usize>>> {
    let mut found = Vec::new();
    for start in (0..m.n_atoms()).filter(|&a| m.atoms[a].in_ring) {
        let mut path = vec![start];
        if !cycles_from(m, longest, &mut path, &mut found) {
            return None;
        }
    }
    Some(found)
}

/// Extends `path` (whose first atom is its smallest) over ring bonds; false when there are
/// too many cycles.
fn cycles_from(
    m: &Molecule,
    longest: usize,
    path: &mut Vec<usize>,
    found: &mut Vec<Vec<usize>>,
) -> bool {
    let (start, last) = (path[0], *path.last().expect("a start"));
    for &(next, _, in_ring) in &m.bonds[last] {
        if !in_ring || next < start {
            continue;
        }
        if next == start {
            // Each cycle is walked both ways: keep the walk whose second atom is smaller.
            if path.len() >= 3 && path[1] < last {
                found.push(path.clone());
                if found.len() > MAX_CYCLES {
                    return false;
                }
            }
        } else if path.len() < longest && !path.contains(&next) {
            path.push(next);
            let go_on = cycles_from(m, longest, path, found);
            path.pop();
            if !go_on {
                return false;
            }
        }
    }
    true
}

/// Reduces `bits` by the basis; true when something independent remains.
fn reduce(basis: &[(usize, Vec<u64>)], bits: &mut [u64]) -> bool {
    for (pivot, row) in basis {
        if bits[pivot / 64] >> (pivot % 64) & 1 == 1 {
            for (x, y) in bits.iter_mut().zip(row) {
                *x ^= y;
            }
        }
    }
    bits.iter().any(|&w| w != 0)
}

fn first_bit(bits: &[u64]) -> Option<usize> {
    bits.iter()
        .enumerate()
        .find(|(_, &w)| w != 0)
        .map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring_sizes(rings: fn(&Molecule) -> Rings, smiles: &str) -> Vec<usize> {
        let mut s: Vec<usize> = rings(&Molecule::from_smiles(smiles).unwrap())
            .atoms
            .iter()
            .map(Vec::len)
            .collect();
        s.sort_unstable();
        s
    }

    fn sizes(smiles: &str) -> Vec<usize> {
        ring_sizes(Rings::sssr, smiles)
    }

    fn relevant(smiles: &str) -> Vec<usize> {
        ring_sizes(Rings::relevant, smiles)
    }

    #[test]
    fn smallest_rings_of_known_systems() {
        assert_eq!(sizes("CCO"), Vec::<usize>::new());
        assert_eq!(sizes("c1ccccc1"), vec![6]);
        assert_eq!(sizes("c1ccc2ccccc2c1"), vec![6, 6]);
        // Norbornane: two five-membered rings, not the six-membered envelope.
        assert_eq!(sizes("C1CC2CCC1C2"), vec![5, 5]);
        // Spiro[4.5]decane, cubane (rank 5), adamantane (rank 3).
        assert_eq!(sizes("C1CCC2(CC1)CCCC2"), vec![5, 6]);
        assert_eq!(sizes("C12C3C4C1C5C2C3C45"), vec![4, 4, 4, 4, 4]);
        assert_eq!(sizes("C1C2CC3CC1CC(C2)C3"), vec![6, 6, 6]);
        // Biphenyl: two rings joined by a bridge bond.
        assert_eq!(sizes("c1ccccc1-c1ccccc1"), vec![6, 6]);
    }

    #[test]
    fn relevant_cycles_add_the_equal_alternatives() {
        // Cubane: all six faces; adamantane: four chairs; naphthalene: no 10-ring.
        assert_eq!(relevant("C12C3C4C1C5C2C3C45"), vec![4; 6]);
        assert_eq!(relevant("C1C2CC3CC1CC(C2)C3"), vec![6; 4]);
        assert_eq!(relevant("c1ccc2ccccc2c1"), vec![6, 6]);
        assert_eq!(relevant("C1CC2CCC1C2"), vec![5, 5]);
        assert_eq!(relevant("CCO"), Vec::<usize>::new());
        // A twelve-membered ring is found past the first search's eight.
        assert_eq!(relevant("C1CCCCCCCCCCC1"), vec![12]);
        assert_eq!(relevant("C1CCCCCCCCCCC1C1CCCCC1"), vec![6, 12]);
    }
}

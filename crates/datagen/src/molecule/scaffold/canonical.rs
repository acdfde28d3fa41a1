//! A canonical form of a (small) labelled graph: colour refinement to a stable partition,
//! then individualisation of each atom of the first non-singleton cell in turn, keeping the
//! smallest resulting description (the textbook individualisation-refinement search). The
//! description lists, in canonical order, each atom's label and its bonds to lower-ranked
//! atoms, so two graphs with one form are isomorphic. A search that would visit more than
//! [`MAX_LEAVES`] orderings (a highly symmetric cage) stops at the smallest found so far,
//! which is still a valid key of that graph for that atom order.

use crate::molecule::Molecule;
use std::collections::HashMap;

/// The most complete orderings the search looks at.
pub const MAX_LEAVES: usize = 4096;

/// The canonical description of the subgraph of `m` on `atoms`.
pub fn form(m: &Molecule, atoms: &[usize]) -> String {
    let index: HashMap<usize, usize> = atoms.iter().enumerate().map(|(i, &v)| (v, i)).collect();
    let adjacency: Vec<Vec<(usize, u32)>> = atoms
        .iter()
        .map(|&v| {
            m.bonds[v]
                .iter()
                .filter_map(|&(w, order, _)| index.get(&w).map(|&j| (j, order.code())))
                .collect()
        })
        .collect();
    // An aromatic N or P of the pyrrole kind (three neighbours with its hydrogen) that keeps
    // two in the framework carries a hydrogen there, as RDKit writes `[nH]` for it whether
    // the molecule had the hydrogen or a side chain in its place.
    let labels: Vec<String> = atoms
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let a = &m.atoms[v];
            let pyrrole = m.bonds[v].len() + a.hydrogens as usize == 3;
            let nh =
                a.aromatic && matches!(a.element, 7 | 15) && pyrrole && adjacency[i].len() == 2;
            let aromatic = if a.aromatic { "a" } else { "" };
            let h = if nh { "H" } else { "" };
            format!("{}{aromatic}{}{h}", a.element, a.charge)
        })
        .collect();
    let graph = Graph { labels, adjacency };
    let start = graph.refine(graph.initial_colours());
    let mut best: Option<String> = None;
    let mut leaves = 0;
    graph.search(start, &mut best, &mut leaves);
    best.expect("the search reaches at least one ordering")
}

struct Graph {
    labels: Vec<String>,
    adjacency: Vec<Vec<(usize, u32)>>,
}

impl Graph {
    /// Colours from the labels alone, as ranks of the sorted distinct labels.
    fn initial_colours(&self) -> Vec<usize> {
        let mut distinct: Vec<&String> = self.labels.iter().collect();
        distinct.sort();
        distinct.dedup();
        self.labels
            .iter()
            .map(|l| distinct.binary_search(&l).expect("present"))
            .collect()
    }

    /// Refines colours until stable: an atom's new colour is the rank of (its colour, the
    /// sorted (bond, neighbour colour) pairs). Ranks keep the old order, so refinement never
    /// depends on atom order.
    fn refine(&self, mut colours: Vec<usize>) -> Vec<usize> {
        loop {
            let signatures: Vec<(usize, Vec<(u32, usize)>)> = (0..colours.len())
                .map(|v| {
                    let mut around: Vec<(u32, usize)> = self.adjacency[v]
                        .iter()
                        .map(|&(w, b)| (b, colours[w]))
                        .collect();
                    around.sort_unstable();
                    (colours[v], around)
                })
                .collect();
            let mut distinct: Vec<&(usize, Vec<(u32, usize)>)> = signatures.iter().collect();
            distinct.sort();
            distinct.dedup();
            let next: Vec<usize> = signatures
                .iter()
                .map(|s| distinct.binary_search(&s).expect("present"))
                .collect();
            let before = colours
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            if distinct.len() == before {
                return next;
            }
            colours = next;
        }
    }

    fn search(&self, colours: Vec<usize>, best: &mut Option<String>, leaves: &mut usize) {
        if *leaves >= MAX_LEAVES {
            return;
        }
        // The smallest colour shared by more than one atom: the cell to individualise.
        let mut counts = vec![0usize; colours.len()];
        for &c in &colours {
            counts[c] += 1;
        }
        let Some(cell) = (0..counts.len()).find(|&c| counts[c] > 1) else {
            *leaves += 1;
            let form = self.describe(&colours);
            if best.as_ref().is_none_or(|b| form < *b) {
                *best = Some(form);
            }
            return;
        };
        for v in (0..colours.len()).filter(|&v| colours[v] == cell) {
            // Individualise v: it keeps the cell's colour, the rest of the cell moves up one.
            let split: Vec<usize> = colours
                .iter()
                .enumerate()
                .map(|(w, &c)| {
                    if c > cell || (c == cell && w != v) {
                        c + 1
                    } else {
                        c
                    }
                })
                .collect();
            self.search(self.refine(split), best, leaves);
        }
    }

    /// The graph in the order the (discrete) colours give: each atom's label and its bonds
    /// to lower-ordered atoms.
    fn describe(&self, colours: &[usize]) -> String {
        let mut order: Vec<usize> = (0..colours.len()).collect();
        order.sort_by_key(|&v| colours[v]);
        let mut out = String::new();
        for &v in &order {
            let mut bonds: Vec<(usize, u32)> = self.adjacency[v]
                .iter()
                .filter(|&&(w, _)| colours[w] < colours[v])
                .map(|&(w, b)| (colours[w], b))
                .collect();
            bonds.sort_unstable();
            out.push_str(&self.labels[v]);
            for (w, b) in bonds {
                out.push_str(&format!(",{w}:{b}"));
            }
            out.push(';');
        }
        out
    }
}

//! Molecules: SMILES parsed into a graph ([`Molecule`]), ECFP / Morgan fingerprints
//! ([`ecfp`]), descriptors ([`descriptors`]), the feature table of both ([`features`]),
//! Bemis–Murcko scaffolds ([`scaffold`]) and the Tox21-style CSV loader
//! ([`load_smiles_csv`]).
//!
//! Parsing is the `purr` crate's (OpenSMILES); this module turns its adjacency list into
//! what fingerprints need: each atom's element, aromaticity, formal charge, isotope and
//! hydrogen count (explicit in brackets, implicit from the organic subset's standard
//! valences), bond orders, and which bonds and atoms lie in a ring.

mod aromaticity;
pub mod descriptors;
pub mod ecfp;
pub mod features;
mod load;
pub mod scaffold;

pub use load::{load_smiles_csv, SmilesCsv, SmilesOptions};

use purr::feature::{Aliphatic, Aromatic, AtomKind, BondKind, BracketSymbol};

/// A bond's kind as fingerprints see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BondOrder {
    Single,
    Double,
    Triple,
    Quadruple,
    Aromatic,
}

impl BondOrder {
    /// Contribution to an atom's valence (aromatic counts 1, with the aromatic atom's
    /// extra electron handled by `purr`'s hydrogen count).
    pub fn valence(self) -> u32 {
        match self {
            BondOrder::Single | BondOrder::Aromatic => 1,
            BondOrder::Double => 2,
            BondOrder::Triple => 3,
            BondOrder::Quadruple => 4,
        }
    }

    pub fn code(self) -> u32 {
        match self {
            BondOrder::Single => 1,
            BondOrder::Double => 2,
            BondOrder::Triple => 3,
            BondOrder::Quadruple => 4,
            BondOrder::Aromatic => 12,
        }
    }
}

/// One heavy atom (or explicit hydrogen written as `[H]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Atom {
    /// Atomic number (0 for the `*` wildcard).
    pub element: u8,
    pub aromatic: bool,
    pub charge: i8,
    /// Mass number, 0 when not written.
    pub isotope: u16,
    /// Explicit (bracket) plus implicit hydrogens.
    pub hydrogens: u8,
    pub in_ring: bool,
}

/// A molecule graph: atoms and, per atom, its bonds `(neighbour, order, in_ring)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Molecule {
    pub atoms: Vec<Atom>,
    pub bonds: Vec<Vec<(usize, BondOrder, bool)>>,
}

/// Why a SMILES string was not read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SmilesError {
    #[error("SMILES ends early")]
    EndOfLine,
    #[error("unexpected character at position {0}")]
    Character(usize),
    #[error("ring closure {0} is not closed or does not match")]
    Ring(usize),
    #[error("ring closure between atoms {0} and {1} does not fit")]
    Join(usize, usize),
    #[error("an empty SMILES")]
    Empty,
}

const SYMBOLS: [&str; 118] = [
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl",
    "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As",
    "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In",
    "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb",
    "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl",
    "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk",
    "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh",
    "Fl", "Mc", "Lv", "Ts", "Og",
];

/// Atomic number of an element symbol as `purr` writes it.
fn atomic_number(symbol: &str) -> u8 {
    SYMBOLS
        .iter()
        .position(|s| s.eq_ignore_ascii_case(symbol))
        .map_or(0, |i| i as u8 + 1)
}

fn atom_of(kind: &AtomKind, hydrogens: u8) -> Atom {
    let (symbol, aromatic, charge, isotope) = match kind {
        AtomKind::Star => (String::new(), false, 0, 0),
        AtomKind::Aliphatic(a) => (aliphatic_symbol(a).to_string(), false, 0, 0),
        AtomKind::Aromatic(a) => (aromatic_symbol(a).to_string(), true, 0, 0),
        AtomKind::Bracket {
            isotope,
            symbol,
            charge,
            ..
        } => {
            let (s, aromatic) = match symbol {
                BracketSymbol::Star => (String::new(), false),
                BracketSymbol::Element(e) => (e.to_string(), false),
                BracketSymbol::Aromatic(a) => (a.to_string(), true),
            };
            let charge: i8 = charge.as_ref().map_or(0, |c| c.into());
            let isotope = isotope.as_ref().map_or(0, u16::from);
            (s, aromatic, charge, isotope)
        }
    };
    Atom {
        element: if symbol.is_empty() {
            0
        } else {
            atomic_number(&symbol)
        },
        aromatic,
        charge,
        isotope,
        hydrogens,
        in_ring: false,
    }
}

fn aliphatic_symbol(a: &Aliphatic) -> &'static str {
    match a {
        Aliphatic::B => "B",
        Aliphatic::C => "C",
        Aliphatic::N => "N",
        Aliphatic::O => "O",
        Aliphatic::S => "S",
        Aliphatic::P => "P",
        Aliphatic::F => "F",
        Aliphatic::Cl => "Cl",
        Aliphatic::Br => "Br",
        Aliphatic::I => "I",
        Aliphatic::At => "At",
        Aliphatic::Ts => "Ts",
    }
}

fn aromatic_symbol(a: &Aromatic) -> &'static str {
    match a {
        Aromatic::B => "B",
        Aromatic::C => "C",
        Aromatic::N => "N",
        Aromatic::O => "O",
        Aromatic::P => "P",
        Aromatic::S => "S",
    }
}

impl Molecule {
    /// Parses a SMILES string (OpenSMILES, via `purr`). Stereo marks (`@`, `/`, `\`) are read
    /// and ignored: fingerprints here are not stereo-aware. Rings written in Kekulé form are
    /// perceived as aromatic where Hückel's rule says so (`aromaticity`), so both
    /// spellings of a molecule are one molecule.
    pub fn from_smiles(smiles: &str) -> Result<Molecule, SmilesError> {
        let smiles = smiles.trim();
        if smiles.is_empty() {
            return Err(SmilesError::Empty);
        }
        let mut builder = purr::graph::Builder::new();
        purr::read::read(smiles, &mut builder, None).map_err(|e| match e {
            purr::read::Error::EndOfLine => SmilesError::EndOfLine,
            purr::read::Error::Character(i) => SmilesError::Character(i),
        })?;
        let graph = builder.build().map_err(|e| match e {
            purr::graph::Error::Join(a, b) => SmilesError::Join(a, b),
            purr::graph::Error::Rnum(i) => SmilesError::Ring(i),
        })?;
        let atoms: Vec<Atom> = graph
            .iter()
            .map(|a| atom_of(&a.kind, a.suppressed_hydrogens()))
            .collect();
        let bonds: Vec<Vec<(usize, BondOrder, bool)>> = graph
            .iter()
            .enumerate()
            .map(|(i, a)| {
                a.bonds
                    .iter()
                    .map(|b| {
                        let order = match b.kind {
                            BondKind::Double => BondOrder::Double,
                            BondKind::Triple => BondOrder::Triple,
                            BondKind::Quadruple => BondOrder::Quadruple,
                            BondKind::Aromatic => BondOrder::Aromatic,
                            // An unwritten bond between two aromatic atoms is aromatic, and so
                            // is a stereo mark (`/`, `\`) between them, as RDKit reads it.
                            BondKind::Elided | BondKind::Up | BondKind::Down
                                if atoms[i].aromatic && atoms[b.tid].aromatic =>
                            {
                                BondOrder::Aromatic
                            }
                            BondKind::Elided | BondKind::Single | BondKind::Up | BondKind::Down => {
                                BondOrder::Single
                            }
                        };
                        (b.tid, order, false)
                    })
                    .collect()
            })
            .collect();
        let mut m = Molecule { atoms, bonds };
        m.mark_rings();
        aromaticity::perceive(&mut m);
        Ok(m)
    }

    pub fn n_atoms(&self) -> usize {
        self.atoms.len()
    }

    /// Number of bonds (each counted once).
    pub fn n_bonds(&self) -> usize {
        self.bonds.iter().map(Vec::len).sum::<usize>() / 2
    }

    /// Marks ring bonds and atoms: a bond is in a ring when it is not a bridge of the graph
    /// (Tarjan's low-link, iteratively), and an atom when one of its bonds is.
    fn mark_rings(&mut self) {
        let n = self.atoms.len();
        let mut order = vec![usize::MAX; n];
        let mut low = vec![0usize; n];
        let mut bridges = std::collections::HashSet::new();
        let mut counter = 0;
        for root in 0..n {
            if order[root] != usize::MAX {
                continue;
            }
            // (atom, parent, index of the next bond to look at)
            let mut stack = vec![(root, usize::MAX, 0usize)];
            order[root] = counter;
            low[root] = counter;
            counter += 1;
            while let Some(&mut (v, parent, ref mut next)) = stack.last_mut() {
                if *next < self.bonds[v].len() {
                    let (w, _, _) = self.bonds[v][*next];
                    *next += 1;
                    if w == parent {
                        continue;
                    }
                    if order[w] == usize::MAX {
                        order[w] = counter;
                        low[w] = counter;
                        counter += 1;
                        stack.push((w, v, 0));
                    } else {
                        low[v] = low[v].min(order[w]);
                    }
                } else {
                    stack.pop();
                    if parent != usize::MAX {
                        low[parent] = low[parent].min(low[v]);
                        if low[v] > order[parent] {
                            bridges.insert((parent.min(v), parent.max(v)));
                        }
                    }
                }
            }
        }
        for v in 0..n {
            for b in self.bonds[v].iter_mut() {
                b.2 = !bridges.contains(&(v.min(b.0), v.max(b.0)));
            }
            self.atoms[v].in_ring = self.bonds[v].iter().any(|b| b.2);
        }
    }
}

/// RDKit's numbers for 392 Tox21 molecules (`scripts/rdkit_fixture.py`): per molecule its
/// aromatic SMILES, its Kekulé SMILES, RDKit's aromatic atom count and Murcko scaffold.
#[cfg(test)]
pub(crate) fn rdkit_fixture() -> Vec<csv::StringRecord> {
    rdkit_table("rdkit_kekule.csv").1
}

/// A committed table of RDKit's numbers (`tests/data/NAME`, `#` lines for provenance): its
/// header and its rows.
#[cfg(test)]
pub(crate) fn rdkit_table(name: &str) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let text = std::fs::read_to_string(path).unwrap();
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header = reader.headers().unwrap().clone();
    (header, reader.records().map(Result::unwrap).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring_atoms(m: &Molecule) -> Vec<bool> {
        m.atoms.iter().map(|a| a.in_ring).collect()
    }

    #[test]
    fn chains_branches_and_hydrogens() {
        // Ethanol: C(3 H) C(2 H) O(1 H).
        let m = Molecule::from_smiles("CCO").unwrap();
        assert_eq!(
            m.atoms
                .iter()
                .map(|a| (a.element, a.hydrogens))
                .collect::<Vec<_>>(),
            vec![(6, 3), (6, 2), (8, 1)]
        );
        assert_eq!(m.n_bonds(), 2);
        // Acetic acid: the double bond takes two of the carbon's four.
        let m = Molecule::from_smiles("CC(=O)O").unwrap();
        assert_eq!(m.atoms[1].hydrogens, 0);
        assert_eq!(
            m.bonds[1]
                .iter()
                .filter(|b| b.1 == BondOrder::Double)
                .count(),
            1
        );
        assert!(ring_atoms(&m).iter().all(|&r| !r));
    }

    #[test]
    fn rings_and_aromatic_atoms() {
        // Benzene: six aromatic CH, six aromatic ring bonds.
        let m = Molecule::from_smiles("c1ccccc1").unwrap();
        assert!(m
            .atoms
            .iter()
            .all(|a| a.aromatic && a.in_ring && a.hydrogens == 1 && a.element == 6));
        assert!(m
            .bonds
            .iter()
            .flatten()
            .all(|b| b.1 == BondOrder::Aromatic && b.2));
        // Toluene: the methyl and its bond are outside the ring.
        let m = Molecule::from_smiles("Cc1ccccc1").unwrap();
        assert_eq!(
            ring_atoms(&m),
            vec![false, true, true, true, true, true, true]
        );
        assert!(!m.bonds[0][0].2);
        // Pyrrole's [nH] keeps its written hydrogen; pyridine's n has none.
        let m = Molecule::from_smiles("c1cc[nH]c1").unwrap();
        assert_eq!((m.atoms[3].element, m.atoms[3].hydrogens), (7, 1));
        let m = Molecule::from_smiles("c1ccncc1").unwrap();
        assert_eq!(m.atoms[3].hydrogens, 0);
        // Biphenyl: the bond between the rings is a bridge, not a ring bond.
        let m = Molecule::from_smiles("c1ccccc1-c1ccccc1").unwrap();
        assert!(m.atoms.iter().all(|a| a.in_ring));
        let link = m.bonds[5].iter().find(|b| b.0 == 6).unwrap();
        assert!(!link.2 && link.1 == BondOrder::Single);
        // Two-digit and reused ring closures; a fused bicycle (naphthalene).
        let m = Molecule::from_smiles("c1ccc2ccccc2c1").unwrap();
        assert!(m.atoms.iter().all(|a| a.in_ring));
        assert_eq!(m.n_bonds(), 11);
        assert!(Molecule::from_smiles("C%10CCCCC%10")
            .unwrap()
            .atoms
            .iter()
            .all(|a| a.in_ring));
    }

    #[test]
    fn brackets_charges_isotopes_and_stereo_marks() {
        let m = Molecule::from_smiles("[NH4+]").unwrap();
        assert_eq!(
            (m.atoms[0].element, m.atoms[0].charge, m.atoms[0].hydrogens),
            (7, 1, 4)
        );
        let m = Molecule::from_smiles("C(=O)[O-].[Na+]").unwrap();
        assert_eq!(
            m.atoms.iter().map(|a| a.charge).collect::<Vec<_>>(),
            vec![0, 0, -1, 1]
        );
        assert_eq!(m.atoms[3].element, 11);
        let m = Molecule::from_smiles("[13CH4]").unwrap();
        assert_eq!((m.atoms[0].isotope, m.atoms[0].hydrogens), (13, 4));
        let m = Molecule::from_smiles("[Cl-]").unwrap();
        assert_eq!((m.atoms[0].element, m.atoms[0].charge), (17, -1));
        // Stereo marks parse and do not change the graph.
        let plain = Molecule::from_smiles("CC(N)C(=O)O").unwrap();
        let stereo = Molecule::from_smiles("C[C@@H](N)C(=O)O").unwrap();
        assert_eq!(
            plain
                .atoms
                .iter()
                .map(|a| (a.element, a.hydrogens))
                .collect::<Vec<_>>(),
            stereo
                .atoms
                .iter()
                .map(|a| (a.element, a.hydrogens))
                .collect::<Vec<_>>()
        );
        let m = Molecule::from_smiles("F/C=C/F").unwrap();
        assert_eq!(
            m.bonds[1].iter().find(|b| b.0 == 2).unwrap().1,
            BondOrder::Double
        );
        assert_eq!(
            Molecule::from_smiles("[Fe+2]").unwrap().atoms[0].element,
            26
        );
    }

    #[test]
    fn bad_smiles_are_errors() {
        assert!(matches!(
            Molecule::from_smiles("C1CC"),
            Err(SmilesError::Ring(_) | SmilesError::EndOfLine)
        ));
        assert!(Molecule::from_smiles("C(C").is_err());
        assert!(matches!(
            Molecule::from_smiles("CXC"),
            Err(SmilesError::Character(1))
        ));
        assert_eq!(Molecule::from_smiles(" "), Err(SmilesError::Empty));
    }
}

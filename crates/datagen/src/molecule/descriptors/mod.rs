//! Molecular descriptors: the dense block beside the fingerprint. These are RDKit's
//! `rdMolDescriptors.Properties` (the C++ descriptor set), computed here in Rust from
//! RDKit's own definitions (its SMARTS, tables and formulas, cited per function) so that a
//! molecule costs microseconds, not the hundreds RDKit takes. 41 of RDKit's 43: the two
//! stereocentre counts are left out, as masklab reads stereo marks and drops them.
//!
//! Each value is checked against RDKit's on 784 Tox21 molecules (`tests.rs`, fixture from
//! `scripts/rdkit_descriptors.py`).

pub mod elements;
mod rings;
mod smarts;
#[cfg(test)]
mod tests;
mod topology;

use super::{BondOrder, Molecule};
use elements::{ELEMENTS, ISOTOPES};
use ndarray::{Array2, ArrayView2};
use rings::Rings;
use smarts::{HydrogenTest, Pattern, View};
use std::sync::OnceLock;
use topology::{for_each_path, hybridizations, Hybridization};

/// The descriptors' names, RDKit's, in RDKit's order.
pub const NAMES: [&str; 41] = [
    "exactmw",
    "amw",
    "lipinskiHBA",
    "lipinskiHBD",
    "NumRotatableBonds",
    "NumHBD",
    "NumHBA",
    "NumHeavyAtoms",
    "NumAtoms",
    "NumHeteroatoms",
    "NumAmideBonds",
    "FractionCSP3",
    "NumRings",
    "NumAromaticRings",
    "NumAliphaticRings",
    "NumSaturatedRings",
    "NumHeterocycles",
    "NumAromaticHeterocycles",
    "NumSaturatedHeterocycles",
    "NumAliphaticHeterocycles",
    "NumSpiroAtoms",
    "NumBridgeheadAtoms",
    "labuteASA",
    "tpsa",
    "CrippenClogP",
    "CrippenMR",
    "chi0v",
    "chi1v",
    "chi2v",
    "chi3v",
    "chi4v",
    "chi0n",
    "chi1n",
    "chi2n",
    "chi3n",
    "chi4n",
    "hallKierAlpha",
    "kappa1",
    "kappa2",
    "kappa3",
    "Phi",
];

/// RDKit's patterns (Lipinski.cpp, Crippen.cpp), parsed once.
struct Patterns {
    hbd: Pattern,
    hba: Pattern,
    heteroatoms: Pattern,
    amide: Pattern,
    rotatable: Pattern,
    /// Crippen's atom types in order: pattern, logP, MR.
    crippen: Vec<(Pattern, f64, f64)>,
    /// Per (atomic number, aromatic, hydrogens up to 4), the Crippen types (indices, in
    /// order) whose first atom could match such an atom.
    crippen_by_kind: Vec<Vec<usize>>,
    /// Every Crippen type's index, for an atom with more hydrogens than the kinds cover.
    crippen_all: Vec<usize>,
    /// The hydrogen types, in order: the index of the whole pattern in `crippen`, and its
    /// test of a hydrogen counted on an atom.
    crippen_hydrogens: Vec<(usize, HydrogenTest)>,
}

const CRIPPEN: &str = include_str!("crippen.tsv");

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let p = |s: &str| Pattern::parse(s).expect("RDKit's patterns parse");
        let number = |s: &str| if s.is_empty() { 0.0 } else { s.parse().expect("a number") };
        let crippen: Vec<(Pattern, f64, f64)> = CRIPPEN
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (p(f[1]), number(f[2]), number(f[3]))
            })
            .collect();
        let crippen_by_kind = (0..ELEMENTS.len() * 2 * 5)
            .map(|k| {
                let (z, aromatic, h) = ((k / 10) as u8, (k / 5) % 2 == 1, (k % 5) as u8);
                (0..crippen.len())
                    .filter(|&i| crippen[i].0.first_could_match(z, aromatic, h))
                    .collect()
            })
            .collect();
        let crippen_hydrogens = crippen
            .iter()
            .enumerate()
            .filter_map(|(i, (p, _, _))| p.for_counted_hydrogen().map(|t| (i, t)))
            .collect();
        Patterns {
            crippen_all: (0..crippen.len()).collect(),
            crippen,
            crippen_by_kind,
            crippen_hydrogens,
            hbd: p("[N&!H0&v3,N&!H0&+1&v4,O&H1&+0,S&H1&+0,n&H1&+0]"),
            hba: p("[$([O,S;H1;v2]-[!$(*=[O,N,P,S])]),$([O,S;H0;v2]),$([O,S;-]),$([N;v3;!$(N-*=!@[O,N,P,S])]),$([nH0X2,o,s;+0])]"),
            heteroatoms: p("[!#6;!#1]"),
            amide: p("C(=[O;!R])N"),
            rotatable: p(concat!(
                "[!$(*#*)&!D1&!$(C(F)(F)F)&!$(C(Cl)(Cl)Cl)&!$(C(Br)(Br)Br)&!$(C([CH3])(",
                "[CH3])[CH3])&!$([CH3])&!$([CD3](=[N,O,S])-!@[#7,O,S!D1])&!$([#7,O,S!D1]-!@[CD3]=",
                "[N,O,S])&!$([CD3](=[N+])-!@[#7!D1])&!$([#7!D1]-!@[CD3]=[N+])]-,:;!@[!$",
                "(*#*)&!D1&!$(C(F)(F)F)&!$(C(Cl)(Cl)Cl)&!$(C(Br)(Br)Br)&!$(C([CH3])([",
                "CH3])[CH3])&!$([CH3])]"
            )),
        }
    })
}

/// One molecule's descriptors, in the order of [`NAMES`], with RDKit's arithmetic, quirks
/// included (see `electrons_less_hydrogens`). [`Standardizer`] turns any value that is not
/// finite into the training mean.
pub fn descriptors(m: &Molecule) -> [f64; 41] {
    let m = &without_plain_hydrogen_atoms(m);
    let view = View::implicit(m);
    let rings = Rings::relevant(m);
    let pats = patterns();
    let count = |p: &Pattern| p.count_unique(&view) as f64;
    let hybrid = hybridizations(m, &view);
    let (logp, mr) = crippen(m, &view, pats);
    let ring = ring_counts(m, &rings);
    let paths = paths(m, &hk_deltas(m), &n_vals(m));
    let (chi_v, chi_n) = (paths.chi_v, paths.chi_n);
    let alpha = hall_kier_alpha(m, &hybrid);
    let heavy = m.atoms.iter().filter(|a| a.element > 1).count() as f64;
    let (k1, k2, k3) = kappas(paths.count, heavy, alpha);
    let carbons = m.atoms.iter().filter(|a| a.element == 6).count();
    let sp3_carbons = (0..m.n_atoms())
        .filter(|&a| {
            m.atoms[a].element == 6 && m.bonds[a].len() + m.atoms[a].hydrogens as usize == 4
        })
        .count();
    let n_or_o = |a: &&super::Atom| a.element == 7 || a.element == 8;
    [
        exact_mass(m),
        average_mass(m),
        m.atoms.iter().filter(n_or_o).count() as f64,
        (0..m.n_atoms())
            .filter(|&a| n_or_o(&&m.atoms[a]))
            .map(|a| view.atoms[a].total_h as f64)
            .sum(),
        count(&pats.rotatable),
        count(&pats.hbd),
        count(&pats.hba),
        heavy,
        (m.n_atoms() + m.atoms.iter().map(|a| a.hydrogens as usize).sum::<usize>()) as f64,
        count(&pats.heteroatoms),
        count(&pats.amide),
        if carbons == 0 {
            0.0
        } else {
            sp3_carbons as f64 / carbons as f64
        },
        ring[0],
        ring[1],
        ring[2],
        ring[3],
        ring[4],
        ring[5],
        ring[6],
        ring[7],
        spiro_atoms(&rings) as f64,
        bridgehead_atoms(m, &rings) as f64,
        labute_asa(m),
        tpsa(m, &rings),
        logp,
        mr,
        chi_v[0],
        chi_v[1],
        chi_v[2],
        chi_v[3],
        chi_v[4],
        chi_n[0],
        chi_n[1],
        chi_n[2],
        chi_n[3],
        chi_n[4],
        alpha,
        k1,
        k2,
        k3,
        if heavy == 0.0 { 0.0 } else { k1 * k2 / heavy },
    ]
}

/// How far from the training mean a standardised descriptor may lie, in training standard
/// deviations: a few extreme molecules (a 2,000 Da peptide) do not dominate a first layer.
pub const CLIP: f32 = 5.0;

/// Standardises columns of a feature matrix by the mean and standard deviation of the
/// training rows (the only rows [`Standardizer::fit`] looks at), then clips them to
/// ±[`CLIP`]. A value that is not finite, and every value of a column constant over the
/// training rows, becomes 0 (the training mean). Fitted once, it applies to any rows of
/// the same columns (a split's part) with the same arithmetic on each value.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    first: usize,
    /// Per column: the mean and standard deviation of its finite training values.
    moments: Vec<(f64, f64)>,
}

impl Standardizer {
    /// The moments of columns `columns` of `x` over the rows `train`.
    pub fn fit(x: ArrayView2<f32>, columns: std::ops::Range<usize>, train: &[usize]) -> Self {
        Self::fit_cells(|r, j| x[[r, j]], columns, train)
    }

    /// [`Standardizer::fit`] on a table read a cell at a time: `cell(r, j)` is row `r`'s
    /// value in column `j` (a sparse table's, say).
    pub fn fit_cells(
        cell: impl Fn(usize, usize) -> f32,
        columns: std::ops::Range<usize>,
        train: &[usize],
    ) -> Self {
        let first = columns.start;
        let moments = columns
            .map(|j| {
                let values: Vec<f64> = train
                    .iter()
                    .map(|&r| cell(r, j) as f64)
                    .filter(|v| v.is_finite())
                    .collect();
                let n = values.len().max(1) as f64;
                let mean = values.iter().sum::<f64>() / n;
                let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
                (mean, sd)
            })
            .collect();
        Standardizer { first, moments }
    }

    /// Standardises and clips the fitted columns of every row of `x`.
    pub fn apply(&self, x: &mut Array2<f32>) {
        for j in self.columns() {
            for v in x.column_mut(j) {
                *v = self.standardized(j, *v);
            }
        }
    }

    /// The columns fitted.
    pub fn columns(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.moments.len()
    }

    /// Value `v` of fitted column `j`, standardised and clipped (0 where not finite).
    pub fn standardized(&self, j: usize, v: f32) -> f32 {
        let (mean, sd) = self.moments[j - self.first];
        let z = (v as f64 - mean) / sd;
        if z.is_finite() {
            (z as f32).clamp(-CLIP, CLIP)
        } else {
            0.0
        }
    }
}

/// The molecule with `[H]` atoms written in the SMILES folded into their neighbour's
/// hydrogen count, as RDKit's parser does (isotopes such as `[2H]` stay atoms).
fn without_plain_hydrogen_atoms(m: &Molecule) -> std::borrow::Cow<'_, Molecule> {
    let plain = |a: usize| {
        let atom = &m.atoms[a];
        atom.element == 1
            && atom.isotope == 0
            && atom.charge == 0
            && m.bonds[a].len() == 1
            && m.atoms[m.bonds[a][0].0].element > 1
    };
    if !(0..m.n_atoms()).any(plain) {
        return std::borrow::Cow::Borrowed(m);
    }
    let keep: Vec<usize> = (0..m.n_atoms()).filter(|&a| !plain(a)).collect();
    let mut new_index = vec![usize::MAX; m.n_atoms()];
    for (i, &a) in keep.iter().enumerate() {
        new_index[a] = i;
    }
    let mut atoms: Vec<super::Atom> = keep.iter().map(|&a| m.atoms[a].clone()).collect();
    for a in (0..m.n_atoms()).filter(|&a| plain(a)) {
        atoms[new_index[m.bonds[a][0].0]].hydrogens += 1;
    }
    let bonds = keep
        .iter()
        .map(|&a| {
            m.bonds[a]
                .iter()
                .filter(|b| new_index[b.0] != usize::MAX)
                .map(|&(b, o, r)| (new_index[b], o, r))
                .collect()
        })
        .collect();
    std::borrow::Cow::Owned(Molecule { atoms, bonds })
}

const ELECTRON_MASS: f64 = 0.00054857991;

fn isotope_mass(z: u8, isotope: u16) -> f64 {
    ISOTOPES
        .iter()
        .find(|i| i.0 == z && i.1 == isotope)
        .map_or(isotope as f64, |i| i.2)
}

/// RDKit's `getExactMolWt`: most common isotopes (or the written one), less the electrons
/// of a charge.
fn exact_mass(m: &Molecule) -> f64 {
    let mut mass = 0.0;
    let mut hydrogens = 0u32;
    for a in &m.atoms {
        mass += if a.isotope == 0 {
            ELEMENTS[a.element as usize].monoisotopic_mass
        } else {
            isotope_mass(a.element, a.isotope)
        };
        mass -= ELECTRON_MASS * a.charge as f64;
        hydrogens += a.hydrogens as u32;
    }
    mass + hydrogens as f64 * ELEMENTS[1].monoisotopic_mass
}

/// RDKit's `getAvgMolWt`.
fn average_mass(m: &Molecule) -> f64 {
    m.atoms
        .iter()
        .map(|a| {
            let own = if a.isotope == 0 {
                ELEMENTS[a.element as usize].atomic_weight
            } else {
                isotope_mass(a.element, a.isotope)
            };
            own + a.hydrogens as f64 * ELEMENTS[1].atomic_weight
        })
        .sum()
}

/// Ring counts over RDKit's ring set (Lipinski.cpp): all, aromatic, aliphatic, saturated,
/// heterocycles, aromatic / saturated / aliphatic heterocycles.
fn ring_counts(m: &Molecule, rings: &Rings) -> [f64; 8] {
    let mut c = [0.0; 8];
    for bonds in &rings.bonds {
        let order = |b: usize| {
            let (x, y) = rings.bond_list[b];
            m.bonds[x].iter().find(|e| e.0 == y).expect("a bond").1
        };
        let hetero_bond = |b: usize| {
            let (x, y) = rings.bond_list[b];
            m.atoms[x].element != 6 || m.atoms[y].element != 6
        };
        let aromatic = bonds.iter().all(|&b| order(b) == BondOrder::Aromatic);
        let aliphatic = bonds.iter().any(|&b| order(b) != BondOrder::Aromatic);
        let saturated = bonds.iter().all(|&b| order(b) == BondOrder::Single);
        let hetero = bonds.iter().any(|&b| hetero_bond(b));
        for (i, yes) in [
            true,
            aromatic,
            aliphatic,
            saturated,
            hetero,
            aromatic && hetero,
            saturated && hetero,
            aliphatic && hetero,
        ]
        .into_iter()
        .enumerate()
        {
            if yes {
                c[i] += 1.0;
            }
        }
    }
    c
}

/// Atoms that are the only atom two rings share.
fn spiro_atoms(rings: &Rings) -> usize {
    let mut found: Vec<usize> = Vec::new();
    for i in 0..rings.atoms.len() {
        for j in i + 1..rings.atoms.len() {
            let shared: Vec<usize> = rings.atoms[i]
                .iter()
                .copied()
                .filter(|a| rings.atoms[j].contains(a))
                .collect();
            if shared.len() == 1 && !found.contains(&shared[0]) {
                found.push(shared[0]);
            }
        }
    }
    found.len()
}

/// For two rings sharing more than one bond, the ends of the shared bonds' path.
fn bridgehead_atoms(m: &Molecule, rings: &Rings) -> usize {
    let mut found: Vec<usize> = Vec::new();
    for i in 0..rings.bonds.len() {
        for j in i + 1..rings.bonds.len() {
            let shared: Vec<usize> = rings.bonds[i]
                .iter()
                .copied()
                .filter(|b| rings.bonds[j].contains(b))
                .collect();
            if shared.len() < 2 {
                continue;
            }
            let mut times = vec![0u32; m.n_atoms()];
            for b in shared {
                let (x, y) = rings.bond_list[b];
                times[x] += 1;
                times[y] += 1;
            }
            for (a, &t) in times.iter().enumerate() {
                if t == 1 && !found.contains(&a) {
                    found.push(a);
                }
            }
        }
    }
    found.len()
}

/// Labute's approximate surface area (MolSurf.cpp), hydrogens included as RDKit includes
/// them: one hydrogen term per atom.
fn labute_asa(m: &Molecule) -> f64 {
    let rb0 = |z: u8| ELEMENTS[z as usize].rb0;
    let n = m.n_atoms();
    let rads: Vec<f64> = m.atoms.iter().map(|a| rb0(a.element)).collect();
    let mut v = vec![0.0; n];
    for a in 0..n {
        for &(b, order, _) in m.bonds[a].iter().filter(|e| a < e.0) {
            let (ri, rj) = (rads[a], rads[b]);
            let bij = ri + rj
                - match order {
                    BondOrder::Aromatic => 0.1,
                    BondOrder::Single => 0.0,
                    BondOrder::Double => 0.2,
                    BondOrder::Triple => 0.3,
                    BondOrder::Quadruple => 0.0,
                };
            let dij = (ri - rj).abs().max(bij).min(ri + rj);
            v[a] += rj * rj - (ri - dij) * (ri - dij) / dij;
            v[b] += ri * ri - (rj - dij) * (rj - dij) / dij;
        }
    }
    let rh = rb0(1);
    let mut h = 0.0;
    for a in 0..n {
        let ri = rads[a];
        let dij = (ri - rh).abs().max(ri + rh).min(ri + rh);
        v[a] += rh * rh - (ri - dij) * (ri - dij) / dij;
        h += ri * ri - (rh - dij) * (rh - dij) / dij;
    }
    let mut total: f64 = (0..n)
        .map(|a| std::f64::consts::PI * rads[a] * (4.0 * rads[a] - v[a]))
        .sum();
    if h.abs() > 1e-4 {
        total += std::f64::consts::PI * rh * (4.0 * rh - h);
    }
    total
}

/// Ertl's topological polar surface area over N and O (MolSurf.cpp, S and P left out as
/// RDKit's default leaves them).
fn tpsa(m: &Molecule, rings: &Rings) -> f64 {
    let in_3_ring = |a: usize| rings.atoms.iter().any(|r| r.len() == 3 && r.contains(&a));
    let mut total = 0.0;
    for a in 0..m.n_atoms() {
        let atom = &m.atoms[a];
        if atom.element != 7 && atom.element != 8 {
            continue;
        }
        let (mut single, mut double, mut triple, mut arom, mut h_atoms) = (0, 0, 0, 0, 0);
        for &(b, order, _) in &m.bonds[a] {
            if m.atoms[b].element == 1 {
                h_atoms += 1;
                continue;
            }
            match order {
                BondOrder::Single => single += 1,
                BondOrder::Double => double += 1,
                BondOrder::Triple => triple += 1,
                BondOrder::Aromatic => arom += 1,
                BondOrder::Quadruple => {}
            }
        }
        let nbrs = m.bonds[a].len() as i32 - h_atoms;
        let hs = h_atoms + atom.hydrogens as i32;
        let chg = atom.charge as i32;
        let ring3 = in_3_ring(a);
        total += if atom.element == 7 {
            nitrogen_psa(nbrs, hs, chg, single, double, triple, arom, ring3)
        } else {
            oxygen_psa(nbrs, hs, chg, single, double, arom, ring3)
        };
    }
    total
}

#[allow(clippy::too_many_arguments)]
fn nitrogen_psa(nbrs: i32, hs: i32, chg: i32, s: i32, d: i32, t: i32, ar: i32, ring3: bool) -> f64 {
    let known = match (nbrs, hs, chg) {
        (1, 0, 0) if t == 1 => Some(23.79),
        (1, 1, 0) if d == 1 => Some(23.85),
        (1, 2, 0) if s == 1 => Some(26.02),
        (1, 2, 1) if d == 1 => Some(25.59),
        (1, 3, 1) if s == 1 => Some(27.64),
        (2, 0, 0) if s == 1 && d == 1 => Some(12.36),
        (2, 0, 0) if t == 1 && d == 1 => Some(13.60),
        (2, 1, 0) if s == 2 && ring3 => Some(21.94),
        (2, 1, 0) if s == 2 => Some(12.03),
        (2, 0, 1) if t == 1 && s == 1 => Some(4.36),
        (2, 1, 1) if d == 1 && s == 1 => Some(13.97),
        (2, 2, 1) if s == 2 => Some(16.61),
        (2, 0, 0) if ar == 2 => Some(12.89),
        (2, 1, 0) if ar == 2 => Some(15.79),
        (2, 1, 1) if ar == 2 => Some(14.14),
        (3, 0, 0) if s == 3 && ring3 => Some(3.01),
        (3, 0, 0) if s == 3 => Some(3.24),
        (3, 0, 0) if s == 1 && d == 2 => Some(11.68),
        (3, 0, 1) if s == 2 && d == 1 => Some(3.01),
        (3, 1, 1) if s == 3 => Some(4.44),
        (3, 0, 0) if ar == 3 => Some(4.41),
        (3, 0, 0) if s == 1 && ar == 2 => Some(4.93),
        (3, 0, 0) if d == 1 && ar == 2 => Some(8.39),
        (3, 0, 1) if ar == 3 => Some(4.10),
        (3, 0, 1) if s == 1 && ar == 2 => Some(3.88),
        (4, 0, 1) if s == 4 => Some(0.0),
        _ => None,
    };
    known.unwrap_or_else(|| (30.5 - nbrs as f64 * 8.2 + hs as f64 * 1.5).max(0.0))
}

fn oxygen_psa(nbrs: i32, hs: i32, chg: i32, s: i32, d: i32, ar: i32, ring3: bool) -> f64 {
    let known = match (nbrs, hs, chg) {
        (1, 0, 0) if d == 1 => Some(17.07),
        (1, 1, 0) if s == 1 => Some(20.23),
        (1, 0, -1) if s == 1 => Some(23.06),
        (2, 0, 0) if s == 2 && ring3 => Some(12.53),
        (2, 0, 0) if s == 2 => Some(9.23),
        (2, 0, 0) if ar == 2 => Some(13.14),
        _ => None,
    };
    known.unwrap_or_else(|| (28.5 - nbrs as f64 * 8.6 + hs as f64 * 1.5).max(0.0))
}

/// Wildman–Crippen logP and molar refractivity: each atom, and each hydrogen, takes the
/// first type that matches it. RDKit adds the hydrogens as atoms; here a hydrogen counted on
/// an atom is typed from that atom (all of an atom's hydrogens alike), and the sums run in
/// RDKit's order: the atoms, then the hydrogens by their owners.
fn crippen(m: &Molecule, view: &View, pats: &Patterns) -> (f64, f64) {
    let (mut logp, mut mr) = (0.0, 0.0);
    for a in 0..view.atoms.len() {
        let atom = &view.atoms[a];
        let candidates = if atom.total_h <= 4 {
            let kind =
                atom.element as usize * 10 + atom.aromatic as usize * 5 + atom.total_h as usize;
            &pats.crippen_by_kind[kind]
        } else {
            &pats.crippen_all
        };
        if let Some(&i) = candidates
            .iter()
            .find(|&&i| pats.crippen[i].0.matches_at(view, a))
        {
            logp += pats.crippen[i].1;
            mr += pats.crippen[i].2;
        }
    }
    // Hydrogens as atoms, made only for an owner whose type needs them.
    let mut with_atoms: Option<View> = None;
    let mut first_hydrogen = m.n_atoms();
    for a in 0..m.n_atoms() {
        let hydrogens = view.atoms[a].implicit_h;
        if hydrogens == 0 {
            continue;
        }
        let found = pats.crippen_hydrogens.iter().find(|(i, test)| {
            if test.needs_hydrogen_atoms(hydrogens) {
                let explicit = with_atoms.get_or_insert_with(|| View::with_hydrogen_atoms(m));
                pats.crippen[*i].0.matches_at(explicit, first_hydrogen)
            } else {
                test.matches_on(view, a)
            }
        });
        if let Some(&(i, _)) = found {
            let (_, l, r) = pats.crippen[i];
            for _ in 0..hydrogens {
                logp += l;
                mr += r;
            }
        }
        first_hydrogen += hydrogens as usize;
    }
    (logp, mr)
}

/// Outer electrons less hydrogens in RDKit's unsigned arithmetic: more hydrogens than
/// outer electrons (`[SbH6+3]`) wraps around to about 4.3e9, as it does in RDKit.
fn electrons_less_hydrogens(a: &super::Atom) -> f64 {
    let outer = ELEMENTS[a.element as usize].outer_electrons as u32;
    outer.wrapping_sub(a.hydrogens as u32) as f64
}

/// Hall & Kier's valence deltas, as `1/sqrt(δv)` (ConnectivityDescriptors.cpp).
fn hk_deltas(m: &Molecule) -> Vec<f64> {
    m.atoms
        .iter()
        .map(|a| {
            let z = a.element as i32;
            let outer = ELEMENTS[a.element as usize].outer_electrons;
            let d = if z <= 1 {
                0.0
            } else if z <= 10 {
                electrons_less_hydrogens(a)
            } else {
                electrons_less_hydrogens(a) / (z - outer - 1) as f64
            };
            if d != 0.0 {
                1.0 / d.sqrt()
            } else {
                0.0
            }
        })
        .collect()
}

/// The simple deltas of the `chiNn` indices, as `1/sqrt(δ)`.
fn n_vals(m: &Molecule) -> Vec<f64> {
    m.atoms
        .iter()
        .map(|a| {
            let v = electrons_less_hydrogens(a);
            if v != 0.0 {
                1.0 / v.sqrt()
            } else {
                0.0
            }
        })
        .collect()
}

/// What the connectivity and shape indices need from atoms, bonds and paths.
struct PathSums {
    /// chi0v … chi4v and chi0n … chi4n.
    chi_v: [f64; 5],
    chi_n: [f64; 5],
    /// Paths by number of bonds (bonds for 1).
    count: [f64; 5],
}

/// chi0 … chi4 from per-atom `1/sqrt(δ)` (valence `dv`, simple `dn`): sums over atoms,
/// bonds, then paths of 2, 3 and 4 bonds (a path closing a ring counts its first atom once).
fn paths(m: &Molecule, dv: &[f64], dn: &[f64]) -> PathSums {
    let mut s = PathSums {
        chi_v: [0.0; 5],
        chi_n: [0.0; 5],
        count: [0.0; 5],
    };
    s.chi_v[0] = dv.iter().sum();
    s.chi_n[0] = dn.iter().sum();
    for a in 0..m.n_atoms() {
        for e in m.bonds[a].iter().filter(|e| a < e.0) {
            s.chi_v[1] += dv[a] * dv[e.0];
            s.chi_n[1] += dn[a] * dn[e.0];
            s.count[1] += 1.0;
        }
    }
    for_each_path(m, 4, &mut |p| {
        let n = p.len() - 1;
        let product = |d: &[f64]| {
            let inner: f64 = p[..n].iter().map(|&a| d[a]).product();
            if p[n] != p[0] {
                inner * d[p[n]]
            } else {
                inner
            }
        };
        s.chi_v[n] += product(dv);
        s.chi_n[n] += product(dn);
        s.count[n] += 1.0;
    });
    s
}

/// Hall & Kier's alpha: per-element, per-hybridisation corrections, or the radius ratio
/// to carbon's for elements without one.
fn hall_kier_alpha(m: &Molecule, hybrid: &[Hybridization]) -> f64 {
    use Hybridization::*;
    let rc = ELEMENTS[6].rb0;
    m.atoms
        .iter()
        .zip(hybrid)
        .filter(|(a, _)| a.element != 0)
        .map(|(a, &h)| match (a.element, h) {
            (1, _) => 0.0,
            (6, Sp) => -0.22,
            (6, Sp2) => -0.13,
            (6, _) => 0.0,
            (7, Sp) => -0.29,
            (7, Sp2) => -0.20,
            (7, _) => -0.04,
            (8, Sp2) => -0.20,
            (8, _) => -0.04,
            (9, _) => -0.07,
            (15, Sp2) => 0.30,
            (15, _) => 0.43,
            (16, Sp2) => 0.22,
            (16, _) => 0.35,
            (17, _) => 0.29,
            (35, _) => 0.48,
            (53, _) => 0.73,
            (z, _) => ELEMENTS[z as usize].rb0 / rc - 1.0,
        })
        .sum()
}

/// Kier's shape indices kappa1–3 with Hall–Kier's alpha.
fn kappas(paths: [f64; 5], heavy: f64, alpha: f64) -> (f64, f64, f64) {
    let [_, p1, p2, p3, _] = paths;
    let a = heavy;
    let ratio = |num: f64, denom: f64| if denom != 0.0 { num / denom } else { 0.0 };
    let k1 = ratio(
        (a + alpha) * (a + alpha - 1.0).powi(2),
        (p1 + alpha).powi(2),
    );
    let k2 = ratio(
        (a + alpha - 1.0) * (a + alpha - 2.0).powi(2),
        (p2 + alpha).powi(2),
    );
    let k3 = if (a as i64) % 2 == 1 {
        ratio(
            (a + alpha - 1.0) * (a + alpha - 3.0).powi(2),
            (p3 + alpha).powi(2),
        )
    } else {
        ratio(
            (a + alpha - 2.0) * (a + alpha - 3.0).powi(2),
            (p3 + alpha).powi(2),
        )
    };
    (k1, k2, k3)
}

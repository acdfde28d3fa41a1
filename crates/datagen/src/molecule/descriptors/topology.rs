//! Graph facts RDKit's descriptors are computed from: hybridisation (with RDKit's
//! conjugation rules), and the paths of a given number of bonds that connectivity and shape
//! indices sum over.

use super::super::{BondOrder, Molecule};
use super::elements::ELEMENTS;
use super::smarts::View;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hybridization {
    S,
    Sp,
    Sp2,
    Sp3,
    Sp3d,
    Sp3d2,
    Unspecified,
}

fn total_degree(m: &Molecule, a: usize) -> i32 {
    (m.bonds[a].len() + m.atoms[a].hydrogens as usize) as i32
}

fn outer_electrons(z: u8) -> i32 {
    ELEMENTS[z as usize].outer_electrons
}

/// Unpaired electrons: an uncharged main-group atom written in brackets below its default
/// valence (the O of a nitroxide, `N[O]`). Atoms outside brackets never are, as their
/// hydrogens fill the valence.
fn radicals(m: &Molecule, a: usize, valence: i32) -> i32 {
    let atom = &m.atoms[a];
    let dv = ELEMENTS[atom.element as usize].default_valence;
    let main_group = (3..=7).contains(&outer_electrons(atom.element));
    if atom.charge == 0 && main_group && dv > 1 && valence < dv {
        dv - valence
    } else {
        0
    }
}

/// π electrons an atom could give (RDKit's `countAtomElec`); only its sign is used here.
fn available_electrons(m: &Molecule, a: usize, valence: i32) -> i32 {
    let atom = &m.atoms[a];
    let dv = ELEMENTS[atom.element as usize].default_valence;
    let degree = total_degree(m, a);
    if dv <= 1 || degree > 3 {
        return -1;
    }
    let lone = (outer_electrons(atom.element) - dv - atom.charge as i32).max(0);
    (dv - degree) + lone - radicals(m, a, valence)
}

/// RDKit's `isAtomConjugCand`.
fn conjugation_candidate(m: &Molecule, a: usize, valence: i32) -> bool {
    let atom = &m.atoms[a];
    let dv = ELEMENTS[atom.element as usize].default_valence;
    if atom.charge == 0 && dv >= 0 && valence > dv {
        return false;
    }
    let outer = outer_electrons(atom.element);
    (atom.element <= 10 || (outer != 5 && outer != 6) || (outer == 6 && total_degree(m, a) < 2))
        && available_electrons(m, a, valence) > 0
}

fn order_contribution_at_least_one_and_a_half(order: BondOrder) -> bool {
    !matches!(order, BondOrder::Single)
}

/// Per atom, whether one of its bonds is conjugated (RDKit's `setConjugation`: aromatic
/// bonds, and the bonds around a candidate atom with two or three substituents and a
/// multiple bond to another candidate).
fn has_conjugated_bond(m: &Molecule, valences: &[i32]) -> Vec<bool> {
    let n = m.n_atoms();
    let candidate: Vec<bool> = (0..n)
        .map(|a| conjugation_candidate(m, a, valences[a]))
        .collect();
    let substituents: Vec<i32> = (0..n)
        .map(|a| if candidate[a] { total_degree(m, a) } else { 0 })
        .collect();
    let mut marked: Vec<bool> = (0..n)
        .map(|a| m.bonds[a].iter().any(|b| b.1 == BondOrder::Aromatic))
        .collect();
    for a in 0..n {
        if !candidate[a] || !(2..=3).contains(&substituents[a]) {
            continue;
        }
        for (i, &(x, order, _)) in m.bonds[a].iter().enumerate() {
            if !order_contribution_at_least_one_and_a_half(order) || !candidate[x] {
                continue;
            }
            for (j, &(y, _, _)) in m.bonds[a].iter().enumerate() {
                if i == j || substituents[y] > 3 || !candidate[y] {
                    continue;
                }
                for atom in [a, x, y] {
                    marked[atom] = true;
                }
            }
        }
    }
    marked
}

/// Every atom's hybridisation as RDKit's `setHybridization` assigns it.
pub fn hybridizations(m: &Molecule, view: &View) -> Vec<Hybridization> {
    let valences: Vec<i32> = (0..m.n_atoms())
        .map(|a| view.atoms[a].valence as i32)
        .collect();
    let conjugated = has_conjugated_bond(m, &valences);
    (0..m.n_atoms())
        .map(|a| {
            let atom = &m.atoms[a];
            if atom.element == 0 {
                return Hybridization::Unspecified;
            }
            let degree = total_degree(m, a);
            let orbitals = if atom.element <= 1 || atom.element >= 89 {
                degree
            } else {
                let (outer, charge) = (outer_electrons(atom.element), atom.charge as i32);
                let free = outer - (valences[a] + charge);
                if valences[a] + outer - charge < 8 {
                    let unpaired = radicals(m, a, valences[a]);
                    degree + (free - unpaired) / 2 + unpaired
                } else {
                    degree + free / 2
                }
            };
            match orbitals {
                0 | 1 => Hybridization::S,
                2 => Hybridization::Sp,
                3 => Hybridization::Sp2,
                4 if degree > 3 || !conjugated[a] => Hybridization::Sp3,
                4 => Hybridization::Sp2,
                5 => Hybridization::Sp3d,
                6 => Hybridization::Sp3d2,
                _ => Hybridization::Unspecified,
            }
        })
        .collect()
}

/// The paths of 2 to `longest` bonds between non-hydrogen atoms, as RDKit's
/// `findAllPathsOfLengthN` finds them for each length: atom sequences without repeats,
/// except that the last atom may close a ring onto any earlier atom but the one before it;
/// a path counts once per set of bonds. One walk serves every length: `f` gets each path's
/// atoms (bonds = atoms − 1).
pub fn for_each_path(m: &Molecule, longest: usize, f: &mut dyn FnMut(&[usize])) {
    let mut closed: Vec<Vec<(usize, usize)>> = Vec::new();
    let mut path = Vec::with_capacity(longest + 1);
    for start in (0..m.n_atoms()).filter(|&a| m.atoms[a].element != 1) {
        path.clear();
        path.push(start);
        extend(m, longest, &mut path, &mut closed, f);
    }
}

fn extend(
    m: &Molecule,
    longest: usize,
    path: &mut Vec<usize>,
    closed: &mut Vec<Vec<(usize, usize)>>,
    f: &mut dyn FnMut(&[usize]),
) {
    let end = *path.last().expect("non-empty");
    // A simple path is found from both ends: count it from the lower one.
    if path.len() >= 3 && path[0] < end {
        f(path);
    }
    if path.len() > longest {
        return;
    }
    for &(next, _, _) in &m.bonds[end] {
        if m.atoms[next].element == 1 {
            continue;
        }
        if !path.contains(&next) {
            path.push(next);
            extend(m, longest, path, closed, f);
            path.pop();
        } else if path.len() >= 2 && path[path.len() - 2] != next {
            // Closing a ring ends the path; the same bonds closed another way count once.
            path.push(next);
            let mut key: Vec<(usize, usize)> = path
                .windows(2)
                .map(|w| (w[0].min(w[1]), w[0].max(w[1])))
                .collect();
            key.sort_unstable();
            if !closed.contains(&key) {
                closed.push(key);
                f(path);
            }
            path.pop();
        }
    }
}

/// The number of paths of 1 to 4 bonds (index = bonds; index 0 unused).
#[cfg(test)]
pub fn count_paths(m: &Molecule) -> [usize; 5] {
    let mut n = [0; 5];
    n[1] = m.n_bonds();
    for_each_path(m, 4, &mut |p| n[p.len() - 1] += 1);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hyb(smiles: &str) -> Vec<Hybridization> {
        let m = Molecule::from_smiles(smiles).unwrap();
        hybridizations(&m, &View::implicit(&m))
    }

    #[test]
    fn hybridisation_with_conjugation() {
        use Hybridization::*;
        assert_eq!(hyb("CC=O"), vec![Sp3, Sp2, Sp2]);
        assert_eq!(hyb("CC#N"), vec![Sp3, Sp, Sp]);
        // The amide N and the ester O are conjugated with the carbonyl: sp2.
        assert_eq!(hyb("CC(=O)N"), vec![Sp3, Sp2, Sp2, Sp2]);
        assert_eq!(hyb("CC(=O)OC"), vec![Sp3, Sp2, Sp2, Sp2, Sp3]);
        // An amine N and an ether O are not.
        assert_eq!(hyb("CCN"), vec![Sp3, Sp3, Sp3]);
        assert_eq!(hyb("COC"), vec![Sp3, Sp3, Sp3]);
        assert!(hyb("c1ccccc1N").iter().all(|&h| h == Sp2));
        // A nitroxide's O carries an unpaired electron: sp3, as RDKit has it.
        assert_eq!(hyb("CN(C)[O]")[3], Sp3);
    }

    #[test]
    fn paths_as_rdkit_counts_them() {
        let m = |s: &str| Molecule::from_smiles(s).unwrap();
        // Butane: 3 one-bond, 2 two-bond, 1 three-bond paths.
        assert_eq!(count_paths(&m("CCCC")), [0, 3, 2, 1, 0]);
        // Isobutane: three two-bond paths, no longer one.
        assert_eq!(count_paths(&m("CC(C)C")), [0, 3, 3, 0, 0]);
        // Cyclopropane: the ring closes once at three bonds; a four-bond path cannot
        // close on an atom it has just left.
        assert_eq!(count_paths(&m("C1CC1")), [0, 3, 3, 1, 0]);
        // Cyclohexane: six paths of each length; methylcyclopropane's four-bond paths close
        // onto the ring's middle (a P-shaped path, once for its bonds).
        assert_eq!(count_paths(&m("C1CCCCC1")), [0, 6, 6, 6, 6]);
        assert_eq!(count_paths(&m("CC1CC1"))[4], 1);
    }
}

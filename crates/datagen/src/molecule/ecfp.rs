//! Extended-connectivity fingerprints (ECFP, Rogers & Hahn 2010; RDKit's "Morgan").
//!
//! Each atom starts from a hash of its invariants ([`Invariants`]: by default heavy
//! neighbours, valence, atomic number, isotope, charge, hydrogens and ring membership;
//! RDKit's Morgan leaves out the valence). Each of `radius` iterations
//! rehashes an atom with its neighbours' identifiers and the bond orders to them, sorted so
//! that atom order does not matter. An identifier whose environment (the set of bonds it
//! covers) was already seen, at this iteration or an earlier one, is dropped as a duplicate.
//! The identifiers are folded into `bits` positions, as presence bits or as counts.
//!
//! The hash is fixed (FNV-1a over 32-bit words with a final mix), so fingerprints are the
//! same on every platform and run.

use super::Molecule;

/// Fingerprint settings. Default: radius 2 (ECFP4), 2048 bits, presence bits, RDKit's
/// invariants.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EcfpParams {
    pub radius: usize,
    pub bits: usize,
    /// Count how often each folded identifier occurs instead of marking presence.
    pub counts: bool,
    pub invariants: Invariants,
}

impl Default for EcfpParams {
    fn default() -> Self {
        EcfpParams {
            radius: 2,
            bits: 2048,
            counts: false,
            invariants: Invariants::Rdkit,
        }
    }
}

/// What an atom's starting identifier is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invariants {
    /// Rogers & Hahn's, plus the total bond order (valence): masklab's first choice.
    Masklab,
    /// RDKit's Morgan connectivity invariants: atomic number, heavy neighbours, total
    /// hydrogens, charge, isotope, ring membership.
    Rdkit,
}

/// FNV-1a over 32-bit words, then a 64-bit finaliser, folded to 32 bits.
fn hash(words: &[u32]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for w in words {
        for b in w.to_le_bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    (h ^ (h >> 32)) as u32
}

/// The identifiers of a molecule's atom environments, in the order found (radius 0 first):
/// one per atom at radius 0, then one per environment whose bond set is new. Two atoms with
/// the same identifier and different bonds both count (a fingerprint of counts sees 6 for
/// benzene's carbons).
pub fn identifiers(m: &Molecule, radius: usize) -> Vec<u32> {
    identifiers_with(m, radius, Invariants::Masklab)
}

/// [`identifiers`] with a choice of atom invariants.
pub fn identifiers_with(m: &Molecule, radius: usize, invariants: Invariants) -> Vec<u32> {
    let n = m.n_atoms();
    // Bond indices, aligned with `m.bonds`, so that an environment is a set of bonds.
    let mut bond_ids: Vec<Vec<usize>> = m.bonds.iter().map(|b| vec![usize::MAX; b.len()]).collect();
    let mut n_bonds = 0;
    for v in 0..n {
        for k in 0..m.bonds[v].len() {
            let w = m.bonds[v][k].0;
            if v < w {
                bond_ids[v][k] = n_bonds;
                let back = m.bonds[w]
                    .iter()
                    .position(|b| b.0 == v)
                    .expect("bonds go both ways");
                bond_ids[w][back] = n_bonds;
                n_bonds += 1;
            }
        }
    }
    let words = n_bonds.div_ceil(64).max(1);
    let mut ids: Vec<u32> = m
        .atoms
        .iter()
        .enumerate()
        .map(|(v, a)| {
            let heavy = m.bonds[v].len() as u32;
            let valence: u32 =
                m.bonds[v].iter().map(|b| b.1.valence()).sum::<u32>() + a.hydrogens as u32;
            match invariants {
                Invariants::Masklab => hash(&[
                    heavy,
                    valence,
                    a.element as u32,
                    a.isotope as u32,
                    (a.charge as i32) as u32,
                    a.hydrogens as u32,
                    a.in_ring as u32,
                ]),
                Invariants::Rdkit => hash(&[
                    a.element as u32,
                    heavy,
                    a.hydrogens as u32,
                    (a.charge as i32) as u32,
                    a.isotope as u32,
                    a.in_ring as u32,
                ]),
            }
        })
        .collect();
    let mut out: Vec<u32> = Vec::with_capacity(n * (radius + 1));
    // Environments as bond sets, `words` u64s per atom; those already seen, one after another.
    let mut seen: Vec<u64> = Vec::new();
    let mut envs = vec![0u64; n * words];
    let mut next_envs = vec![0u64; n * words];
    let mut next_ids = vec![0u32; n];
    let mut neighbours: Vec<(u32, u32)> = Vec::new();
    let mut hashed: Vec<u32> = Vec::new();
    // Radius 0: every atom's own identifier.
    out.extend(ids.iter().copied());
    for layer in 1..=radius {
        for v in 0..n {
            let env = v * words..(v + 1) * words;
            next_envs[env.clone()].copy_from_slice(&envs[env.clone()]);
            neighbours.clear();
            for (k, &(w, order, _)) in m.bonds[v].iter().enumerate() {
                let b = bond_ids[v][k];
                next_envs[v * words + b / 64] |= 1 << (b % 64);
                for i in 0..words {
                    next_envs[v * words + i] |= envs[w * words + i];
                }
                neighbours.push((order.code(), ids[w]));
            }
            neighbours.sort_unstable();
            hashed.clear();
            hashed.extend([layer as u32, ids[v]]);
            for &(o, id) in &neighbours {
                hashed.extend([o, id]);
            }
            next_ids[v] = hash(&hashed);
        }
        // Among atoms whose environments cover the same bonds, keep one identifier (the
        // smallest); an environment seen at an earlier layer adds nothing.
        let env_of = |v: usize| &next_envs[v * words..(v + 1) * words];
        let mut fresh: Vec<usize> = (0..n)
            .filter(|&v| {
                let e = env_of(v);
                e.iter().any(|&w| w != 0) && !seen.chunks_exact(words).any(|s| s == e)
            })
            .collect();
        fresh.sort_unstable_by(|&a, &b| {
            env_of(a).cmp(env_of(b)).then(next_ids[a].cmp(&next_ids[b]))
        });
        fresh.dedup_by(|a, b| env_of(*a) == env_of(*b));
        for v in fresh {
            seen.extend_from_slice(env_of(v));
            out.push(next_ids[v]);
        }
        std::mem::swap(&mut ids, &mut next_ids);
        std::mem::swap(&mut envs, &mut next_envs);
    }
    out
}

/// The folded fingerprint of one molecule as `(position, value)` pairs, sorted by position.
pub fn ecfp(m: &Molecule, params: &EcfpParams) -> Vec<(usize, f32)> {
    let mut folded: Vec<usize> = identifiers_with(m, params.radius, params.invariants)
        .into_iter()
        .map(|id| id as usize % params.bits)
        .collect();
    folded.sort_unstable();
    let mut out: Vec<(usize, f32)> = Vec::new();
    for bit in folded {
        match out.last_mut() {
            Some((b, count)) if *b == bit => {
                if params.counts {
                    *count += 1.0;
                }
            }
            _ => out.push((bit, 1.0)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(smiles: &str) -> Vec<(usize, f32)> {
        ecfp(
            &Molecule::from_smiles(smiles).unwrap(),
            &EcfpParams::default(),
        )
    }

    #[test]
    fn one_molecule_written_two_ways_has_one_fingerprint() {
        // Atom order and branch writing do not matter.
        for (a, b) in [
            ("OCC", "C(O)C"),
            ("OCC", "CCO"),
            ("c1ccccc1O", "Oc1ccccc1"),
            ("CC(=O)Oc1ccccc1C(=O)O", "OC(=O)c1ccccc1OC(C)=O"),
            ("C1CCCCC1N", "NC1CCCCC1"),
        ] {
            assert_eq!(fp(a), fp(b), "{a} vs {b}");
        }
        assert_ne!(fp("OCC"), fp("OCCC"));
        assert_ne!(fp("c1ccccc1O"), fp("C1CCCCC1O"), "aromaticity shows");
    }

    #[test]
    fn identifiers_count_environments_by_hand() {
        // Ethanol, radius 1: three atoms at radius 0 (CH3, CH2, OH), then three radius-1
        // environments covering bonds {CC}, {CC, CO} and {CO}: all new, so 3 + 3.
        let m = Molecule::from_smiles("CCO").unwrap();
        assert_eq!(identifiers(&m, 1).len(), 6);
        // Radius 2: every atom's environment grows to {CC, CO}, which CH2 already covered at
        // radius 1: all three are duplicates, nothing is added.
        assert_eq!(identifiers(&m, 2).len(), 6);
        // Methane has one atom and no bond: one identifier whatever the radius.
        assert_eq!(
            identifiers(&Molecule::from_smiles("C").unwrap(), 3).len(),
            1
        );
        // Benzene: six alike carbons; at radius 1 six environments of two bonds each, all
        // different bond sets with one identifier: 6 + 6, two distinct identifiers.
        let ids = identifiers(&Molecule::from_smiles("c1ccccc1").unwrap(), 1);
        assert_eq!(ids.len(), 12);
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), 2);
    }

    #[test]
    fn counts_and_folding() {
        let m = Molecule::from_smiles("CCCCCCCC").unwrap();
        let params = EcfpParams {
            radius: 0,
            bits: 2048,
            counts: true,
            ..EcfpParams::default()
        };
        // Octane at radius 0: two CH3 and six CH2.
        let f = ecfp(&m, &params);
        let mut counts: Vec<f32> = f.iter().map(|p| p.1).collect();
        counts.sort_by(f32::total_cmp);
        assert_eq!(counts, vec![2.0, 6.0]);
        let bits = ecfp(
            &m,
            &EcfpParams {
                counts: false,
                ..params
            },
        );
        assert!(bits.iter().all(|&(_, c)| c == 1.0) && bits.len() == 2);
        let small = EcfpParams {
            radius: 2,
            bits: 8,
            counts: true,
            ..EcfpParams::default()
        };
        let f = ecfp(&m, &small);
        assert!(f.iter().all(|&(b, _)| b < 8));
        let total: f32 = f.iter().map(|p| p.1).sum();
        assert_eq!(total as usize, identifiers(&m, 2).len());
        let x = crate::molecule::features::feature_matrix(
            &[m.clone(), Molecule::from_smiles("O").unwrap()],
            &[crate::molecule::features::Block::Ecfp(EcfpParams::default())],
        );
        assert_eq!(x.dim(), (2, 2048));
        assert!(x.iter().all(|&v| v == 0.0 || v == 1.0));
    }

    /// RDKit's count of distinct radius-2 Morgan environments with its own invariants, for
    /// the 392 fixture molecules (`scripts/rdkit_fixture.py`), against masklab's with
    /// `Invariants::Rdkit`.
    #[test]
    fn rdkit_invariants_give_rdkits_environment_counts() {
        let mut differ = Vec::new();
        let rows = crate::molecule::rdkit_fixture();
        for row in &rows {
            let m = Molecule::from_smiles(&row[0]).unwrap();
            let mut ids = identifiers_with(&m, 2, Invariants::Rdkit);
            ids.sort_unstable();
            ids.dedup();
            let rdkit: usize = row[4].parse().unwrap();
            if ids.len() != rdkit {
                differ.push(format!("{}: masklab {}, RDKit {rdkit}", &row[0], ids.len()));
            }
        }
        eprintln!(
            "{} of {} molecules: RDKit's environment count",
            rows.len() - differ.len(),
            rows.len()
        );
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }
}

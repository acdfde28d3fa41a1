//! masklab's descriptors against RDKit's own values (`tests/data/rdkit_descriptors.csv`).

use super::*;

/// Per descriptor: how many of the fixture's molecules agree with RDKit (to 1e-6,
/// relative for large values), and the first that does not.
fn agreement() -> Vec<(&'static str, usize, usize, Option<String>)> {
    let (header, rows) = crate::molecule::rdkit_table("rdkit_descriptors.csv");
    let ours: Vec<[f64; 41]> = rows
        .iter()
        .map(|r| descriptors(&Molecule::from_smiles(&r[0]).unwrap()))
        .collect();
    NAMES
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let col = header.iter().position(|h| h == *name).unwrap();
            let mut agree = 0;
            let mut first = None;
            for (r, row) in rows.iter().enumerate() {
                let theirs: f64 = row[col].parse().unwrap();
                let mine = ours[r][j];
                let same = (mine - theirs).abs() <= 1e-6 * theirs.abs().max(1.0)
                    || (mine.is_nan() && theirs.is_nan());
                if same {
                    agree += 1;
                } else if first.is_none() {
                    first = Some(format!("{} ours {mine} RDKit {theirs}", &row[0]));
                }
            }
            (*name, agree, rows.len(), first)
        })
        .collect()
}

#[test]
fn every_descriptor_agrees_with_rdkit_on_every_fixture_molecule() {
    let table = agreement();
    let disagreeing: Vec<String> = table
        .iter()
        .filter(|(_, agree, total, _)| agree != total)
        .map(|(name, agree, total, first)| {
            format!(
                "{name}: {agree}/{total}, first: {}",
                first.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(table.len(), 41);
    assert!(
        table.iter().all(|t| t.2 == 784),
        "the fixture has 784 molecules"
    );
    assert!(disagreeing.is_empty(), "{}", disagreeing.join("\n"));
}

#[test]
fn degenerate_molecules_have_defined_values() {
    // A lone atom: no bonds, no paths, no rings; kappa's denominators are not zero.
    let d = descriptors(&Molecule::from_smiles("[Na+]").unwrap());
    assert!(d.iter().all(|v| v.is_finite()), "{d:?}");
    assert_eq!(d[NAMES.iter().position(|n| *n == "NumRings").unwrap()], 0.0);
    // Methane: FractionCSP3 is 1; a molecule without carbon has 0.
    let csp3 = NAMES.iter().position(|n| *n == "FractionCSP3").unwrap();
    assert_eq!(descriptors(&Molecule::from_smiles("C").unwrap())[csp3], 1.0);
    assert_eq!(descriptors(&Molecule::from_smiles("O").unwrap())[csp3], 0.0);
    // Water's hydrogens are typed with hydrogens as atoms, as RDKit types them (H2, not
    // HS): RDKit 2026.09.1 gives logP -0.8247 (2 × -0.2677 - 0.2893) and MR 3.6138.
    let logp = NAMES.iter().position(|n| *n == "CrippenClogP").unwrap();
    let water = descriptors(&Molecule::from_smiles("O").unwrap());
    assert!((water[logp] - -0.8247).abs() < 1e-9, "{}", water[logp]);
    assert!(
        (water[logp + 1] - 3.6138).abs() < 1e-9,
        "{}",
        water[logp + 1]
    );
    // Written hydrogens fold into counts, as RDKit reads them.
    assert_eq!(
        descriptors(&Molecule::from_smiles("[H]C([H])([H])O[H]").unwrap()),
        descriptors(&Molecule::from_smiles("CO").unwrap())
    );
}

#[test]
fn standardised_on_the_training_rows_only_and_clipped() {
    // Column 0: training rows 0..4 hold 1, 2, 3, 4 (mean 2.5, sd sqrt(1.25)); row 4 is a
    // test row far out, clipped. Column 1 is constant on the training rows; column 2 has a
    // NaN. Column 3 is left alone.
    let mut x = ndarray::array![
        [1.0, 7.0, f32::NAN, 9.0],
        [2.0, 7.0, 1.0, 9.0],
        [3.0, 7.0, 3.0, 9.0],
        [4.0, 7.0, 5.0, 9.0],
        [100.0, 8.0, 3.0, 9.0]
    ];
    Standardizer::fit(x.view(), 0..3, &[0, 1, 2, 3]).apply(&mut x);
    let sd = 1.25f64.sqrt();
    for r in 0..4 {
        assert!((x[[r, 0]] as f64 - (r as f64 + 1.0 - 2.5) / sd).abs() < 1e-6);
    }
    assert_eq!(x[[4, 0]], CLIP);
    assert!(x.column(1).iter().all(|&v| v == 0.0));
    assert_eq!(x[[0, 2]], 0.0);
    assert_eq!(x[[4, 2]], 0.0, "the training mean of 1, 3, 5");
    assert!(x.column(3).iter().all(|&v| v == 9.0));
}

#[test]
fn a_fitted_standardizer_applied_to_parts_gives_the_whole_matrix_standardised() {
    let raw = ndarray::array![
        [1.0, 7.0, f32::NAN, 9.0],
        [2.0, 7.5, 1.0, 9.0],
        [3.0, 6.0, 3.0, 9.0],
        [4.0, 7.0, 5.0, 9.0],
        [100.0, 8.0, 3.0, 9.0]
    ];
    let fitted = Standardizer::fit(raw.view(), 1..3, &[3, 0, 2]);
    // Read a cell at a time (as from a sparse table), the same moments to the bit.
    let cells = Standardizer::fit_cells(|r, j| raw[[r, j]], 1..3, &[3, 0, 2]);
    assert_eq!(cells, fitted);
    let mut whole = raw.clone();
    fitted.apply(&mut whole);
    for rows in [&[4usize, 1][..], &[0, 3, 2], &[]] {
        let mut part = raw.select(ndarray::Axis(0), rows);
        fitted.apply(&mut part);
        let expected = whole.select(ndarray::Axis(0), rows);
        let bits = |a: &ndarray::Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&part), bits(&expected), "rows {rows:?}");
    }
}

//! The table a network reads: each molecule's feature blocks (fingerprint bits,
//! descriptors) side by side, a row a molecule.

use super::descriptors::{self, descriptors};
use super::ecfp::{ecfp, EcfpParams};
use super::Molecule;
use ndarray::Array2;
use rayon::prelude::*;

/// A block of columns of the feature table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Block {
    /// The folded ECFP fingerprint, `params.bits` columns.
    Ecfp(EcfpParams),
    /// The descriptors ([`descriptors::NAMES`]), as `f32`.
    Descriptors,
}

impl Block {
    pub fn width(&self) -> usize {
        match self {
            Block::Ecfp(params) => params.bits,
            Block::Descriptors => descriptors::NAMES.len(),
        }
    }
}

/// The `blocks` of every molecule side by side, `(molecules, Σ widths)`, made a row at a
/// time on all cores straight into the table (each molecule on its own: the same table in
/// any order, with no block-sized copy on the way).
pub fn feature_matrix(molecules: &[Molecule], blocks: &[Block]) -> Array2<f32> {
    let width: usize = blocks.iter().map(Block::width).sum();
    let mut x = Array2::zeros((molecules.len(), width));
    if width > 0 {
        x.as_slice_mut()
            .expect("a new table is row-major")
            .par_chunks_mut(width)
            .zip(molecules)
            .for_each(|(row, m)| fill_row(row, m, blocks));
    }
    x
}

fn fill_row(row: &mut [f32], m: &Molecule, blocks: &[Block]) {
    let mut offset = 0;
    for block in blocks {
        let cells = &mut row[offset..offset + block.width()];
        match block {
            Block::Ecfp(params) => {
                for (bit, v) in ecfp(m, params) {
                    cells[bit] = v;
                }
            }
            Block::Descriptors => {
                for (cell, v) in cells.iter_mut().zip(descriptors(m)) {
                    *cell = v as f32;
                }
            }
        }
        offset += block.width();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each block holds what its own function gives, in its own columns, whatever the
    /// blocks' order; a table of no blocks or no molecules is empty.
    #[test]
    fn blocks_sit_side_by_side_each_as_its_own_function_makes_it() {
        let molecules: Vec<Molecule> = ["CCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O", "[Na+].[Cl-]"]
            .iter()
            .map(|s| Molecule::from_smiles(s).unwrap())
            .collect();
        let params = EcfpParams {
            bits: 64,
            counts: true,
            ..EcfpParams::default()
        };
        let x = feature_matrix(&molecules, &[Block::Descriptors, Block::Ecfp(params)]);
        let d = descriptors::NAMES.len();
        assert_eq!(x.dim(), (4, d + 64));
        for (i, m) in molecules.iter().enumerate() {
            let expected: Vec<f32> = descriptors(m).iter().map(|&v| v as f32).collect();
            let got: Vec<f32> = x.row(i).iter().take(d).copied().collect();
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&expected), "molecule {i}");
            let mut fingerprint = vec![0.0f32; 64];
            for (bit, v) in ecfp(m, &params) {
                fingerprint[bit] = v;
            }
            assert_eq!(
                x.row(i).iter().skip(d).copied().collect::<Vec<_>>(),
                fingerprint
            );
        }
        assert!(x.row(0).iter().skip(d).any(|&v| v > 0.0));
        assert_eq!(feature_matrix(&molecules, &[]).dim(), (4, 0));
        assert_eq!(feature_matrix(&[], &[Block::Descriptors]).dim(), (0, d));
    }
}

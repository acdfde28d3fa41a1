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

/// The table [`feature_matrix`] makes, kept as each row's stored cells: a fingerprint sets
/// about one bit in forty, so MUV's 93,087 × 2,089 table is about 70 MB this way against
/// 780 MB dense, and a sweep holds it for all its runs. Rows come back dense, a part of a
/// split at a time ([`FeatureRows::dense_rows`]), with the very bits the dense table has.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureRows {
    width: usize,
    /// Row `r`'s cells are `starts[r]..starts[r + 1]` of `columns` and `values`.
    starts: Vec<usize>,
    /// Each row's stored columns, ascending.
    columns: Vec<u32>,
    values: Vec<f32>,
}

impl FeatureRows {
    pub fn n_rows(&self) -> usize {
        self.starts.len() - 1
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// The value at row `r`, column `j`. Panics if either is out of range.
    pub fn get(&self, r: usize, j: usize) -> f32 {
        assert!(j < self.width, "column {j} of a table {} wide", self.width);
        let cells = self.starts[r]..self.starts[r + 1];
        let columns = &self.columns[cells.clone()];
        match columns.binary_search(&(j as u32)) {
            Ok(at) => self.values[cells.start + at],
            Err(_) => 0.0,
        }
    }

    /// Row `r`'s stored cells: their columns (ascending) and values.
    pub fn row_cells(&self, r: usize) -> (&[u32], &[f32]) {
        let cells = self.starts[r]..self.starts[r + 1];
        (&self.columns[cells.clone()], &self.values[cells])
    }

    /// The rows `rows`, in that order, as a dense table (`rows.len()` × the width).
    pub fn dense_rows(&self, rows: &[usize]) -> Array2<f32> {
        let mut x = Array2::zeros((rows.len(), self.width));
        if self.width > 0 {
            let table = x.as_slice_mut().expect("a new table is row-major");
            for (out, &r) in table.chunks_exact_mut(self.width).zip(rows) {
                let cells = self.starts[r]..self.starts[r + 1];
                for (&j, &v) in self.columns[cells.clone()].iter().zip(&self.values[cells]) {
                    out[j as usize] = v;
                }
            }
        }
        x
    }
}

/// [`feature_matrix`]'s table as [`FeatureRows`], made a row at a time on all cores. A cell
/// is stored unless its bits are those of `0.0` (a `-0.0` or a NaN is kept), so the dense
/// rows are the same bits.
pub fn feature_rows(molecules: &[Molecule], blocks: &[Block]) -> FeatureRows {
    let width: usize = blocks.iter().map(Block::width).sum();
    let rows: Vec<(Vec<u32>, Vec<f32>)> = molecules
        .par_iter()
        .map_init(
            || vec![0.0f32; width],
            |row, m| {
                row.fill(0.0);
                fill_row(row, m, blocks);
                row.iter()
                    .enumerate()
                    .filter(|(_, v)| v.to_bits() != 0)
                    .map(|(j, &v)| (j as u32, v))
                    .unzip()
            },
        )
        .collect();
    let mut table = FeatureRows {
        width,
        starts: Vec::with_capacity(rows.len() + 1),
        columns: Vec::new(),
        values: Vec::new(),
    };
    table.starts.push(0);
    for (columns, values) in rows {
        table.columns.extend(columns);
        table.values.extend(values);
        table.starts.push(table.columns.len());
    }
    table
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
        // The same table kept sparse: the same bits, row by row, in any order of rows.
        let sparse = feature_rows(&molecules, &[Block::Descriptors, Block::Ecfp(params)]);
        assert_eq!((sparse.n_rows(), sparse.width()), x.dim());
        let rows = [3, 0, 2, 2, 1];
        let bits = |a: &Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&sparse.dense_rows(&rows)),
            bits(&x.select(ndarray::Axis(0), &rows))
        );
        for (r, j) in [(0, 0), (1, d + 3), (3, d + 63), (2, 5)] {
            assert_eq!(sparse.get(r, j).to_bits(), x[[r, j]].to_bits());
        }
        assert_eq!(sparse.dense_rows(&[]).dim(), (0, d + 64));
        assert_eq!(feature_matrix(&molecules, &[]).dim(), (4, 0));
        assert_eq!(feature_matrix(&[], &[Block::Descriptors]).dim(), (0, d));
    }
}

#[cfg(test)]
mod sparse_tests {
    use super::*;

    /// A cell whose bits are not `0.0`'s is kept: `-0.0` and NaN come back as they were.
    #[test]
    fn negative_zero_and_nan_survive_the_sparse_table() {
        let table = FeatureRows {
            width: 4,
            starts: vec![0, 2, 2],
            columns: vec![1, 3],
            values: vec![-0.0, f32::NAN],
        };
        let x = table.dense_rows(&[0, 1]);
        assert_eq!(x[[0, 1]].to_bits(), (-0.0f32).to_bits());
        assert!(x[[0, 3]].is_nan());
        assert_eq!(x.row(1).to_vec(), vec![0.0; 4]);
        assert_eq!(table.get(0, 2), 0.0);
        assert!(table.get(0, 3).is_nan());
    }

    #[test]
    fn no_molecules_and_no_columns_make_empty_tables() {
        let none = feature_rows(&[], &[Block::Descriptors]);
        assert_eq!((none.n_rows(), none.width()), (0, descriptors::NAMES.len()));
        let m = Molecule::from_smiles("CCO").unwrap();
        let narrow = feature_rows(std::slice::from_ref(&m), &[]);
        assert_eq!(narrow.dense_rows(&[0, 0]).dim(), (2, 0));
    }

    #[test]
    #[should_panic(expected = "column 4 of a table 4 wide")]
    fn a_column_past_the_width_is_refused() {
        let table = FeatureRows {
            width: 4,
            starts: vec![0, 0],
            columns: vec![],
            values: vec![],
        };
        table.get(0, 4);
    }
}

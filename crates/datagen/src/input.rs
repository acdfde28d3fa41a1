//! Input files, read once: their bytes, decompressed when the name ends in `.gz` (DeepChem
//! ships `tox21.csv.gz`), and checked against the content hash a sweep was planned with.
//!
//! The content hash is of the data, not of its encoding: `tox21.csv` and `tox21.csv.gz`
//! holding the same table have the same hash (and so, the path aside, the same runs).
//!
//! A sweep hashes every input file when it plans (the hash is part of each run's id) and
//! loads it again when a run starts, perhaps hours later on another node. [`Input::read`]
//! hashes the very bytes it parses, so a file edited in between fails the run ("input changed
//! since the sweep was planned") instead of being trained on under the old id.

use crate::DataError;
use std::io::Read;
use std::path::Path;

/// An input file, and the content hash it must still have (`None`: not checked).
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    pub path: &'a Path,
    pub content_hash: Option<&'a str>,
}

impl<'a> From<&'a Path> for Input<'a> {
    fn from(path: &'a Path) -> Self {
        Input {
            path,
            content_hash: None,
        }
    }
}

impl<'a> From<&'a std::path::PathBuf> for Input<'a> {
    fn from(path: &'a std::path::PathBuf) -> Self {
        Input::from(path.as_path())
    }
}

/// The content hash of a file's bytes (blake3, hex): what run ids are made from.
pub fn content_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

impl Input<'_> {
    /// The file's bytes, decompressed if its name ends in `.gz`. An empty file, a hash that
    /// differs from the planned one, or a gzip that does not decode is an error naming the
    /// file.
    pub fn read(&self) -> Result<Vec<u8>, DataError> {
        let bytes = self.read_unchecked()?;
        if let Some(planned) = self.content_hash {
            if content_hash(&bytes) != planned {
                return Err(DataError::InputChanged {
                    path: self.path.into(),
                });
            }
        }
        Ok(bytes)
    }

    /// The file's bytes and their content hash, for planning.
    pub fn read_and_hash(&self) -> Result<(Vec<u8>, String), DataError> {
        let bytes = self.read_unchecked()?;
        let hash = content_hash(&bytes);
        Ok((bytes, hash))
    }

    fn read_unchecked(&self) -> Result<Vec<u8>, DataError> {
        let path = self.path;
        let raw = std::fs::read(path).map_err(|source| DataError::Io {
            path: path.into(),
            source,
        })?;
        let bytes = if path.extension().is_some_and(|e| e == "gz") {
            let mut out = Vec::with_capacity(raw.len() * 4);
            flate2::read::MultiGzDecoder::new(raw.as_slice())
                .read_to_end(&mut out)
                .map_err(|source| DataError::Io {
                    path: path.into(),
                    source,
                })?;
            out
        } else {
            raw
        };
        if bytes.is_empty() {
            return Err(DataError::Empty { path: path.into() });
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_edited_since_planning_is_refused_and_gzip_reads_like_plain() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("t.csv");
        std::fs::write(&plain, "a,y\n1,0\n").unwrap();
        let planned = content_hash(b"a,y\n1,0\n");
        let input = Input {
            path: &plain,
            content_hash: Some(&planned),
        };
        assert_eq!(input.read().unwrap(), b"a,y\n1,0\n");
        std::fs::write(&plain, "a,y\n1,1\n").unwrap();
        let e = input.read().unwrap_err().to_string();
        assert!(
            e.contains("t.csv") && e.contains("input changed since the sweep was planned"),
            "{e}"
        );
        let gz = dir.path().join("t.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"a,y\n1,0\n").unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let (bytes, hash) = Input::from(gz.as_path()).read_and_hash().unwrap();
        assert_eq!(bytes, b"a,y\n1,0\n");
        assert_eq!(
            hash, planned,
            "the same table, compressed or not, has one hash"
        );
        std::fs::write(&gz, b"not gzip").unwrap();
        let e = Input::from(gz.as_path()).read().unwrap_err().to_string();
        assert!(e.contains("t.csv.gz: cannot read"), "{e}");
    }
}

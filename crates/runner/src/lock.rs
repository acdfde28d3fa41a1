//! One sweep per results folder and shard at a time.
//!
//! An unsharded sweep holds `<out>/.lock` exclusively; a shard holds it shared (shards of one
//! grid may share a folder) and `<out>/.lock-shard-K-of-N` exclusively (the same shard twice
//! may not run). The locks are the operating system's advisory file locks, so they go away
//! with the process, however it ends; the files only say who held them last.
//!
//! The lock is `flock(2)` (Rust's `File::lock`). Where it holds: local file systems, NFSv4
//! (Linux maps `flock` to NFS byte-range locks, which the server keeps across clients),
//! Lustre mounted with `-o flock` (cluster-wide), BeeGFS and GPFS. Where it does not:
//! Lustre mounted with `-o localflock` holds it on one node only (shards on two nodes
//! would not see each other's lock), and Lustre without either option, or NFSv3 without a
//! lock manager, refuses it (`ENOLCK`, `EOPNOTSUPP`): masklab then stops with an error
//! naming the file system, and never runs unlocked.

use crate::error::SweepError;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Held locks; released when dropped.
#[derive(Debug)]
pub struct SweepLock {
    _files: Vec<File>,
}

fn open(path: &Path) -> Result<File, SweepError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(crate::error::io_error(path))
}

fn holder_text(paths: &[PathBuf]) -> String {
    let texts: Vec<String> = paths
        .iter()
        .filter_map(|p| {
            let mut s = String::new();
            File::open(p).ok()?.read_to_string(&mut s).ok()?;
            let s = s.trim().to_string();
            (!s.is_empty()).then_some(s)
        })
        .collect();
    if texts.is_empty() {
        "a process that has not said who it is".into()
    } else {
        texts.join("; ")
    }
}

fn sign(file: &mut File, what: &str) {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = writeln!(
        file,
        "{what} by process {} since unix time {since}",
        std::process::id()
    );
}

fn shard_lock_paths(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(out)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".lock-shard-"))
        })
        .collect();
    v.sort();
    v
}

/// Takes the locks of a sweep of `shard` on `out`, or says who holds them.
pub fn lock(out: &Path, shard: Option<(usize, usize)>) -> Result<SweepLock, SweepError> {
    let folder = out.join(".lock");
    let mut folder_file = open(&folder)?;
    let busy = |path: &Path, holder: String| SweepError::Locked {
        path: path.into(),
        holder,
    };
    match shard {
        None => match folder_file.try_lock() {
            Ok(()) => {
                sign(&mut folder_file, "an unsharded sweep");
                Ok(SweepLock {
                    _files: vec![folder_file],
                })
            }
            Err(TryLockError::WouldBlock) => {
                let mut paths = vec![folder.clone()];
                paths.extend(shard_lock_paths(out));
                Err(busy(&folder, holder_text(&paths)))
            }
            Err(TryLockError::Error(e)) => Err(lock_error(&folder, e)),
        },
        Some((k, n)) => {
            match folder_file.try_lock_shared() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    return Err(busy(&folder, holder_text(std::slice::from_ref(&folder))))
                }
                Err(TryLockError::Error(e)) => return Err(lock_error(&folder, e)),
            }
            let path = out.join(format!(".lock-shard-{k}-of-{n}"));
            let mut file = open(&path)?;
            match file.try_lock() {
                Ok(()) => {
                    sign(&mut file, &format!("shard {k}/{n}"));
                    Ok(SweepLock {
                        _files: vec![folder_file, file],
                    })
                }
                Err(TryLockError::WouldBlock) => {
                    Err(busy(&path, holder_text(std::slice::from_ref(&path))))
                }
                Err(TryLockError::Error(e)) => Err(lock_error(&path, e)),
            }
        }
    }
}

/// A lock call that failed: a file system without lock support is named as such.
fn lock_error(path: &Path, e: std::io::Error) -> SweepError {
    const ENOLCK: i32 = 37;
    const ENOSYS: i32 = 38;
    const EOPNOTSUPP: i32 = 95;
    match e.raw_os_error() {
        Some(ENOLCK | ENOSYS | EOPNOTSUPP) => SweepError::LockUnsupported {
            path: path.into(),
            file_system: crate::fsinfo::file_system(path),
            source: e,
        },
        _ => crate::error::io_error(path)(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsupported_lock_is_an_error_naming_the_file_system() {
        let dir = tempfile::tempdir().unwrap();
        let e = lock_error(
            &dir.path().join(".lock"),
            std::io::Error::from_raw_os_error(37),
        );
        let text = e.to_string();
        let fs = crate::fsinfo::file_system(dir.path());
        assert!(matches!(e, SweepError::LockUnsupported { .. }), "{text}");
        assert!(
            text.contains(&format!("({fs})")) && text.contains("never runs unlocked"),
            "{text}"
        );
        assert!(!fs.is_empty());
        let other = lock_error(dir.path(), std::io::Error::from_raw_os_error(5));
        assert!(matches!(other, SweepError::Io { .. }));
    }

    #[test]
    fn the_same_shard_twice_is_refused_and_other_shards_share_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let a = lock(dir.path(), Some((0, 2))).unwrap();
        let b = lock(dir.path(), Some((1, 2))).unwrap();
        let e = lock(dir.path(), Some((0, 2))).unwrap_err().to_string();
        assert!(
            e.contains(".lock-shard-0-of-2") && e.contains("shard 0/2 by process"),
            "{e}"
        );
        let e = lock(dir.path(), None).unwrap_err().to_string();
        assert!(e.contains("shard 0/2") && e.contains("shard 1/2"), "{e}");
        drop((a, b));
        let whole = lock(dir.path(), None).unwrap();
        let e = lock(dir.path(), Some((1, 2))).unwrap_err().to_string();
        assert!(e.contains("an unsharded sweep by process"), "{e}");
        assert!(lock(dir.path(), None).is_err());
        drop(whole);
        assert!(lock(dir.path(), None).is_ok());
    }
}

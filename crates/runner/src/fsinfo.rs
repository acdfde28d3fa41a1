//! Which file system a path is on, by name, for messages about locks on cluster storage.

use std::path::Path;

/// The file system `path` (or its nearest existing parent) is on: its name where known
/// (`nfs`, `lustre`, `ext4`, ...), else its magic number; `unknown` where it cannot be told.
pub fn file_system(path: &Path) -> String {
    let mut at = path;
    while !at.exists() {
        match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => at = p,
            _ => break,
        }
    }
    match magic(at) {
        Some(m) => name(m).map_or_else(|| format!("file system type {m:#x}"), String::from),
        None => "unknown".into(),
    }
}

#[cfg(target_os = "linux")]
fn magic(path: &Path) -> Option<i64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `buf` a writable statfs.
    let rc = unsafe { libc::statfs(c.as_ptr(), &mut buf) };
    (rc == 0).then_some(buf.f_type as i64)
}

#[cfg(not(target_os = "linux"))]
fn magic(_: &Path) -> Option<i64> {
    None
}

/// Names of file systems' `statfs` magic numbers (Linux's `magic.h`, and Lustre's, GPFS's
/// and BeeGFS's own).
fn name(magic: i64) -> Option<&'static str> {
    Some(match magic as u32 {
        0x6969 => "nfs",
        0x0BD0_0BD0 => "lustre",
        0x4750_4653 => "gpfs",
        0x1983_0326 => "beegfs",
        0xFF53_4D42 => "cifs",
        0xFE53_4D42 => "smb2",
        0x6573_5546 => "fuse",
        0x00C3_6400 => "ceph",
        0xEF53 => "ext4",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x0102_1994 => "tmpfs",
        0x794C_7630 => "overlayfs",
        0x2FC1_2FC1 => "zfs",
        _ => return None,
    })
}

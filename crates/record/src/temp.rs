//! Temporary files: whose they are, and which may be cleared.
//!
//! A temporary file is named `.masklab-tmp-<host>+<pidns>+<pid>+<unique>.<name>`: the host,
//! the process's PID namespace (the inode of `/proc/self/ns/pid`), its pid, and a part
//! unique within the process (its start time and a counter). Two shards on different
//! nodes, or in different containers of one node (where both may be pid 1), never share a
//! name, and a shard can tell its own host's and namespace's files from anyone else's.
//!
//! Clearing ([`remove_temps`]) removes only what is *provably* dead: a file of this host and
//! this PID namespace whose pid no longer runs, seen through a `/proc` that belongs to this
//! namespace. Anything else (another host's, another namespace's, an older masklab's
//! `<pid>-<n>` name, or no `/proc` to look in) is left alone: a leftover costs a few bytes
//! and readers pass over it, while removing a live writer's file loses its work.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The prefix of every temporary file masklab writes.
pub const TEMP_PREFIX: &str = ".masklab-tmp-";

/// Who writes a temporary file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// The host name, with anything but `[A-Za-z0-9.-]` as `_`.
    pub host: String,
    /// The PID namespace's inode (`0` where there is no `/proc` to read it from).
    pub pid_ns: u64,
    pub pid: u32,
}

impl Owner {
    /// This process.
    pub fn current() -> &'static Owner {
        static OWNER: OnceLock<Owner> = OnceLock::new();
        OWNER.get_or_init(|| Owner {
            host: host_name(),
            pid_ns: pid_namespace("/proc/self/ns/pid").unwrap_or(0),
            pid: std::process::id(),
        })
    }

    /// The owner a temporary file's name gives, if it is of this format.
    pub fn of_name(name: &str) -> Option<Owner> {
        let mut parts = name.strip_prefix(TEMP_PREFIX)?.splitn(4, '+');
        let host = parts.next()?.to_string();
        let pid_ns = parts.next()?.parse().ok()?;
        let pid = parts.next()?.parse().ok()?;
        parts.next()?;
        Some(Owner { host, pid_ns, pid })
    }
}

fn host_name() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let host: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if host.is_empty() {
        "unknown-host".into()
    } else {
        host
    }
}

/// `pid:[4026531836]` -> 4026531836.
fn pid_namespace(link: &str) -> Option<u64> {
    let target = std::fs::read_link(link).ok()?;
    target
        .to_str()?
        .strip_prefix("pid:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// A fresh temporary path beside `path`, ending in `path`'s own file name (so tools that
/// choose a format by extension, like an image encoder, see the right one).
pub fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static STARTED: OnceLock<u128> = OnceLock::new();
    let started = *STARTED.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let me = Owner::current();
    path.with_file_name(format!(
        "{TEMP_PREFIX}{}+{}+{}+{started:x}.{n}.{name}",
        me.host, me.pid_ns, me.pid
    ))
}

/// Whether a file name is one of masklab's temporary files.
pub fn is_temp(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}

/// Removes masklab's temporary files directly inside `dir` whose writer is provably dead
/// (see the module docs). Returns how many were removed.
pub fn remove_temps(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let me = Owner::current();
    let proc_is_ours = proc_shows_this_namespace();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = Owner::of_name(&name) else {
            continue;
        };
        let dead = proc_is_ours
            && owner.host == me.host
            && owner.pid_ns == me.pid_ns
            && me.pid_ns != 0
            && owner.pid != me.pid
            && !Path::new("/proc").join(owner.pid.to_string()).exists();
        if dead && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Whether `/proc` lists this process's own PID namespace (in a namespace made without a
/// `/proc` of its own, it lists the parent's, and its pids mean nothing here).
fn proc_shows_this_namespace() -> bool {
    std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str().and_then(|s| s.parse::<u32>().ok()))
        == Some(std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_of(dir: &Path, owner: &Owner, name: &str) -> PathBuf {
        let p = dir.join(format!(
            "{TEMP_PREFIX}{}+{}+{}+1f.0.{name}",
            owner.host, owner.pid_ns, owner.pid
        ));
        std::fs::write(&p, "x").unwrap();
        p
    }

    #[test]
    fn a_temporary_name_says_whose_it_is() {
        let p = temp_path(Path::new("/r/runs/all.1.jsonl.gz"));
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(name.ends_with(".all.1.jsonl.gz"), "{name}");
        assert_eq!(Owner::of_name(name).as_ref(), Some(Owner::current()));
        assert_ne!(temp_path(&p), temp_path(&p));
        assert_eq!(Owner::of_name(".masklab-tmp-4294967-0.b.json"), None);
    }

    #[test]
    fn only_this_hosts_and_namespaces_dead_writers_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let me = Owner::current().clone();
        // Process ids above the kernel's maximum (4194304) never run.
        let dead = Owner {
            pid: 4_294_967,
            ..me.clone()
        };
        let mine = temp_of(dir.path(), &me, "a.json");
        let gone = temp_of(dir.path(), &dead, "b.json");
        let other_host = temp_of(
            dir.path(),
            &Owner {
                host: format!("{}-other", me.host),
                ..dead.clone()
            },
            "c.json",
        );
        let other_ns = temp_of(
            dir.path(),
            &Owner {
                pid_ns: me.pid_ns + 1,
                ..dead.clone()
            },
            "d.json",
        );
        let old_style = dir.path().join(format!("{TEMP_PREFIX}4294967-0.e.json"));
        std::fs::write(&old_style, "x").unwrap();
        let plain = dir.path().join("f.json");
        std::fs::write(&plain, "x").unwrap();
        let removed = remove_temps(dir.path());
        if me.pid_ns == 0 || !proc_shows_this_namespace() {
            assert_eq!(removed, 0, "no /proc of our own: nothing is provably dead");
            return;
        }
        assert_eq!(removed, 1);
        assert!(!gone.exists());
        for kept in [mine, other_host, other_ns, old_style, plain] {
            assert!(kept.exists(), "{} was kept", kept.display());
        }
    }
}

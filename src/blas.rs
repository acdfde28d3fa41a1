//! Control of the linked OpenBLAS: one thread, and the same kernels on every x86-64 with
//! AVX2 and FMA.

use std::ffi::{c_char, c_int, CStr};

extern "C" {
    fn openblas_set_num_threads(num_threads: c_int);
    fn openblas_get_num_threads() -> c_int;
    fn openblas_get_config() -> *const c_char;
}

/// Makes every BLAS call run on the calling thread alone. masklab gets its parallelism from
/// running many training runs at once; BLAS threads on top of that would oversubscribe the
/// cores and make timings meaningless.
pub fn use_single_thread() {
    // SAFETY: a plain setter in OpenBLAS with no preconditions.
    unsafe { openblas_set_num_threads(1) }
}

/// Threads OpenBLAS will use for one call.
pub fn threads() -> usize {
    // SAFETY: a plain getter in OpenBLAS with no preconditions.
    unsafe { openblas_get_num_threads() as usize }
}

/// OpenBLAS's description of itself (version, build options, core type), for provenance.
pub fn config() -> String {
    // SAFETY: OpenBLAS returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(openblas_get_config()) }
        .to_string_lossy()
        .into_owned()
}

/// The OpenBLAS kernels masklab runs on an x86-64 with AVX2 and FMA, whatever the CPU
/// ([`CORE_VARIABLE`]). Debian's OpenBLAS picks its kernels by CPU model (SkylakeX on an
/// Intel with AVX-512, Cooperlake on AMD's Zen 4 and Zen 5), and each set sums in its own
/// order, so the same molecule sweep wrote other bits on each. Pinned to one set, as MKL's
/// `MKL_CBWR` pins MKL's, a result reproduces byte for byte on any such machine with the
/// same OpenBLAS build; Haswell's is the widest set that every such machine runs.
pub const PINNED_CORE: &str = "Haswell";

/// The environment variable through which OpenBLAS takes its kernels at load.
pub const CORE_VARIABLE: &str = "OPENBLAS_CORETYPE";

/// Set beside [`CORE_VARIABLE`] when masklab set it, so that a process that inherits both
/// (a Slurm task submitted from a pinned `masklab`) tells masklab's pin from a user's choice.
const PINNED_MARK: &str = "MASKLAB_PINNED_BLAS";

/// What [`pin_kernels`] does about OpenBLAS's kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pin {
    /// Leave them: pinned already, a user's choice, or a CPU that cannot run the pin.
    Keep,
    /// Start again on [`PINNED_CORE`]'s.
    Set,
    /// Start again on OpenBLAS's own pick: masklab's pin was inherited by a CPU that
    /// cannot run it (a node without AVX2, say), where OpenBLAS would fault.
    Unset,
}

fn pin_action(core: Option<&std::ffi::OsStr>, set_by_masklab: bool, cpu_runs_pin: bool) -> Pin {
    match core {
        None if cpu_runs_pin => Pin::Set,
        Some(core) if set_by_masklab && core == PINNED_CORE && !cpu_runs_pin => Pin::Unset,
        _ => Pin::Keep,
    }
}

/// Runs this program again with OpenBLAS's kernels pinned to [`PINNED_CORE`], if they are
/// not yet and the CPU runs them. OpenBLAS reads its choice once, as the program loads, so
/// the only way to change it is to start over: this replaces the process (same pid,
/// arguments and environment, plus the variable). Returns without doing anything when the
/// variable is already set (pinned already, or a user's own choice, which stands), when the
/// CPU lacks AVX2 or FMA, or when the program cannot be started again (then OpenBLAS's own
/// pick stays, and `masklab info` shows it). A pin masklab made elsewhere and this CPU
/// cannot run is undone the same way.
pub fn pin_kernels() {
    // Most starts keep what they have (every one after the first): nothing more to do.
    let pin = match pin_action(
        std::env::var_os(CORE_VARIABLE).as_deref(),
        std::env::var_os(PINNED_MARK).is_some(),
        runs_pinned_kernels(),
    ) {
        Pin::Keep => return,
        Pin::Set => true,
        Pin::Unset => false,
    };
    use std::os::unix::process::CommandExt;
    let mut args = std::env::args_os();
    let (Some(arg0), Ok(exe)) = (args.next(), std::env::current_exe()) else {
        return;
    };
    let mut again = std::process::Command::new(exe);
    again.arg0(arg0).args(args);
    if pin {
        again.env(CORE_VARIABLE, PINNED_CORE).env(PINNED_MARK, "1");
    } else {
        again.env_remove(CORE_VARIABLE).env_remove(PINNED_MARK);
    }
    // `exec` only returns on failure.
    let _failed = again.exec();
}

/// Whether this CPU runs [`PINNED_CORE`]'s kernels.
pub fn runs_pinned_kernels() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Which kernels OpenBLAS runs and why, for `masklab info`.
pub fn kernels() -> String {
    match std::env::var(CORE_VARIABLE) {
        Ok(core) if std::env::var_os(PINNED_MARK).is_some() => {
            format!("{core} (pinned by masklab: {CORE_VARIABLE} was unset)")
        }
        Ok(core) => format!("{core} (the environment's {CORE_VARIABLE})"),
        Err(_) => format!("OpenBLAS's pick for this CPU ({CORE_VARIABLE} unset)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn masklab_pins_where_nothing_is_set_and_the_cpu_runs_the_kernels() {
        assert_eq!(pin_action(None, false, true), Pin::Set);
        assert_eq!(pin_action(None, false, false), Pin::Keep);
    }

    #[test]
    fn a_users_choice_stands_even_where_it_names_the_pinned_kernels() {
        for cpu in [true, false] {
            assert_eq!(
                pin_action(Some(OsStr::new("Nehalem")), false, cpu),
                Pin::Keep
            );
            assert_eq!(
                pin_action(Some(OsStr::new("Haswell")), false, cpu),
                Pin::Keep
            );
        }
    }

    #[test]
    fn an_inherited_pin_is_kept_where_it_runs_and_undone_where_it_cannot() {
        assert_eq!(
            pin_action(Some(OsStr::new(PINNED_CORE)), true, true),
            Pin::Keep
        );
        assert_eq!(
            pin_action(Some(OsStr::new(PINNED_CORE)), true, false),
            Pin::Unset
        );
        // After the undo: nothing set, a CPU without the kernels, so OpenBLAS picks.
        assert_eq!(pin_action(None, false, false), Pin::Keep);
    }
}

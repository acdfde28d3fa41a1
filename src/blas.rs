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

/// Runs this program again with OpenBLAS's kernels pinned to [`PINNED_CORE`], if they are
/// not yet and the CPU runs them. OpenBLAS reads its choice once, as the program loads, so
/// the only way to change it is to start over: this replaces the process (same pid,
/// arguments and environment, plus the variable). Returns without doing anything when the
/// variable is already set (pinned already, or a user's own choice, which stands), when the
/// CPU lacks AVX2 or FMA, or when the program cannot be started again (then OpenBLAS's own
/// pick stays, and `masklab info` shows it).
pub fn pin_kernels() {
    if std::env::var_os(CORE_VARIABLE).is_some() || !runs_pinned_kernels() {
        return;
    }
    use std::os::unix::process::CommandExt;
    let mut args = std::env::args_os();
    let Some(arg0) = args.next() else { return };
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    // `exec` only returns on failure.
    let _failed = std::process::Command::new(exe)
        .arg0(arg0)
        .args(args)
        .env(CORE_VARIABLE, PINNED_CORE)
        .exec();
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
        Ok(core) => format!(
            "{core} ({CORE_VARIABLE}; where it is unset and the CPU runs them, masklab sets \
             {PINNED_CORE})"
        ),
        Err(_) => format!("OpenBLAS's pick for this CPU ({CORE_VARIABLE} unset)"),
    }
}

//! Control of the linked OpenBLAS.

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

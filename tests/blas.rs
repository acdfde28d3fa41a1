//! The linked BLAS is the system OpenBLAS, and masklab runs it on one thread.

#[test]
fn openblas_is_linked_and_set_to_one_thread() {
    masklab::blas::use_single_thread();
    assert_eq!(masklab::blas::threads(), 1);
    assert!(
        masklab::blas::config().contains("OpenBLAS"),
        "{}",
        masklab::blas::config()
    );
}

#[test]
fn info_command_reports_the_blas() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_masklab"))
        .arg("info")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("OpenBLAS") && text.contains("(1 thread)"),
        "{text}"
    );
}

/// On an x86-64 with AVX2 and FMA, `masklab` runs OpenBLAS on one set of kernels whatever
/// the CPU model, so that molecule results reproduce across such machines; a user's own
/// `OPENBLAS_CORETYPE` stands.
#[test]
fn masklab_pins_the_blas_kernels_unless_told_otherwise() {
    let info = |core: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_masklab"));
        command
            .arg("info")
            .env_remove("OPENBLAS_CORETYPE")
            .env_remove("MASKLAB_PINNED_BLAS");
        if let Some(core) = core {
            command.env("OPENBLAS_CORETYPE", core);
        }
        let out = command.output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let pinned = masklab::blas::runs_pinned_kernels();
    let default = info(None);
    assert_eq!(
        default.contains(&format!("blas kernels: {} (", masklab::blas::PINNED_CORE)),
        pinned,
        "{default}"
    );
    if pinned {
        assert!(default.contains("pinned by masklab"), "{default}");
        let blas_line = default.lines().find(|l| l.starts_with("blas:")).unwrap();
        assert!(blas_line.contains(masklab::blas::PINNED_CORE), "{default}");
    }
    let chosen = info(Some("Nehalem"));
    assert!(
        chosen.contains("the environment's OPENBLAS_CORETYPE"),
        "{chosen}"
    );
    assert!(
        chosen.contains("blas kernels: Nehalem (") && chosen.contains("Nehalem "),
        "{chosen}"
    );
}

/// The toy path never reaches OpenBLAS: networks of the toy set's width train and are
/// evaluated on masklab's own kernels. So the same toy sweep, with Debian's DYNAMIC_ARCH
/// OpenBLAS forced onto another CPU's kernels (`OPENBLAS_CORETYPE`, as it would pick on
/// that CPU), writes the same records, boundary grids and summary, byte for byte.
#[test]
fn toy_results_do_not_depend_on_the_blas_kernels() {
    use crate::common::{all_records, experiment, masklab, SMALL};
    let dir = tempfile::tempdir().unwrap();
    let body = SMALL
        .replace(
            "strategies = [\"masked\", \"single-task\"]",
            "strategies = [\"masked\", \"impute-negative\", \"single-task\", \"label-conditional\"]",
        )
        .replace("seeds = 3", "seeds = 2")
        .replace("batch-size = 256", "batch-size = 256\neval-every = 1\npatience = 2");
    let file = experiment(dir.path(), "toy", &body);
    let records = |core: &str| {
        let info = masklab()
            .arg("info")
            .env("OPENBLAS_CORETYPE", core)
            .output()
            .unwrap();
        let info = String::from_utf8(info.stdout).unwrap();
        assert!(
            info.contains(core),
            "OpenBLAS takes the {core} kernels: {info}"
        );
        let out = dir.path().join(core);
        let done = masklab()
            .arg("sweep")
            .arg(&file)
            .arg("--out")
            .arg(&out)
            .env("OPENBLAS_CORETYPE", core)
            .output()
            .unwrap();
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        all_records(&out)
    };
    let (haswell, nehalem) = (records("Haswell"), records("Nehalem"));
    assert!(haswell.keys().any(|k| k.starts_with("boundaries/")));
    assert_eq!(haswell, nehalem);
}

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

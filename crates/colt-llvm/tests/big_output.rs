//! A program that prints 50 MB: the tuner checks its output as it streams and holds only a
//! digest and the first KiB, so its own memory grows far less than the output's size. (Its
//! own test binary: the process's peak memory is the measure.)

use colt_llvm::program::Program;
use colt_llvm::{EnvConfig, LlvmEnv, Objective, Toolchain};
use colt_search::OutcomeKind;

/// A field of /proc/self/status in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{field} not in /proc/self/status"))
}

#[test]
fn fifty_megabytes_of_output_cost_the_tuner_no_memory() {
    let tools = Toolchain::discover().expect("LLVM 14+ must be installed for these tests");
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("chatty.c");
    std::fs::write(
        &c,
        "#include <stdio.h>\nint main(void) {\n  for (int i = 0; i < 1000000; i++)\n    printf(\"line %07d of a long output, padded to fifty bytes\\n\", i);\n  return 0;\n}\n",
    )
    .unwrap();
    let p = Program::from_files(&[c]).unwrap();
    // Reset the peak (VmHWM) to the current resident size: what the test binary's start-up
    // touched is not the tuner's doing.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
    let before = status_kib("VmRSS");
    let mut env = LlvmEnv::new(tools, &p, EnvConfig::new(Objective::Size)).unwrap();
    assert!(
        env.prepared().expected.bytes >= 50_000_000,
        "{}",
        env.prepared().expected.bytes
    );
    for s in [
        vec!["default<Oz>".to_string()],
        vec!["sroa".into(), "instcombine".into()],
    ] {
        let r = env.evaluate(&s, true);
        assert_eq!(r.outcome, OutcomeKind::Ok, "{}", r.detail);
    }
    let grown = status_kib("VmHWM").saturating_sub(before);
    assert!(
        grown < 20 * 1024,
        "the tuner's peak memory grew by {grown} KiB while checking 50 MB outputs"
    );
}

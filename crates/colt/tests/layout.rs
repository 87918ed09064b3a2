//! A program's layout follows the compile target's vector registers (`colt_ir::layout_rewrites`
//! with the lanes `COLT_MARCH` or the host gives): a 14-wide conv row fills AVX2 registers and
//! stays the lane loop there, but computes along the output channels for AVX-512. `colt tune`
//! records the lanes; `colt best` rebuilds the program of the run that found the kernel.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// A conv whose output rows are 14 wide: between one AVX2 register and one AVX-512 one.
const CONV14: &str = "conv2d:C=4,F=16,H=14,W=14";

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("colt-layout-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn colt(dir: &Path, march: Option<&str>) -> Command {
    let mut c = Command::cargo_bin("colt").unwrap();
    c.env("COLT_CACHE", dir.join("cache"));
    match march {
        Some(m) => c.env("COLT_MARCH", m),
        None => c.env_remove("COLT_MARCH"),
    };
    c
}

fn ok(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The program `colt show` prints for `CONV14` compiled for `march`.
fn shown(dir: &Path, march: &str) -> String {
    let text = ok(colt(dir, Some(march)).args(["show", "--workload", CONV14]));
    text.split("# loop nest").next().unwrap().to_string()
}

#[test]
fn the_layout_follows_the_compile_target() {
    if !cfg!(target_arch = "x86_64") {
        return;
    }
    let dir = tempdir("show");
    // Showing compiles nothing, so both targets can be asked on any x86-64 machine.
    let avx2 = shown(&dir, "haswell");
    assert!(!avx2.contains("conv_out"), "{avx2}");
    let avx512 = shown(&dir, "skylake-avx512");
    assert!(
        avx512.contains("stage conv: Y_t[n, y, x, f]") && avx512.contains("conv_out"),
        "{avx512}"
    );
}

#[test]
fn runs_record_their_lanes_and_best_exports_with_them() {
    if !cfg!(target_arch = "x86_64") {
        return;
    }
    let dir = tempdir("tune");
    let db = dir.join("l.db");
    let db_s = db.to_str().unwrap();
    let tune = |march: Option<&str>| {
        ok(colt(&dir, march).args([
            "tune",
            "--workload",
            CONV14,
            "--strategy",
            "random",
            "--trials",
            "4",
            "--json",
            "--db",
            db_s,
        ]))
    };
    tune(Some("haswell"));
    let h = colt_db::Db::open(&db).unwrap();
    let run = h.run(colt_db::RunId(1)).unwrap().spec;
    assert_eq!(run.inputs["colt:layout-lanes"], "8");
    // `colt best` on the host's own target (16 lanes on an AVX-512 machine) exports the
    // AVX2 run's kernel: the trace applies to the program that run tuned.
    let export = dir.join("export");
    ok(colt(&dir, None).args([
        "best",
        "--workload",
        CONV14,
        "--out",
        export.to_str().unwrap(),
        "--db",
        db_s,
    ]));
    let c = std::fs::read_to_string(export.join("conv2d.c")).unwrap();
    assert!(
        c.contains("bufs[3] Y (output)") && !c.contains("Y_t"),
        "{}",
        &c[..c.len().min(600)]
    );
    // Where the host runs AVX-512 code, a native run records 16 lanes and tunes the
    // channel-lane layout.
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    if cpuinfo.split_whitespace().any(|f| f == "avx512f") {
        tune(None);
        let run = h.run(colt_db::RunId(2)).unwrap().spec;
        assert_eq!(run.inputs["colt:layout-lanes"], "16");
    }
}

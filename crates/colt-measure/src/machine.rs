//! The machine's limits, measured rather than looked up: peak fp32 FLOP/s (independent
//! FMA chains on every core, at the vector width the compiler finds for `-march=native`)
//! and memory bandwidth (a STREAM-triad-like kernel over arrays far larger than the
//! caches), plus what the OS says about cores and caches. A roofline needs both numbers:
//! a kernel's bound is `min(peak, intensity × bandwidth)`.
//!
//! The probe is one small C program built with the tuned compiler (`$CC`, `-O3
//! -march=native -fopenmp`), run once in its own process; it prints one JSON line.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::compile::Compiler;

/// What the probe measured, and what the OS reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MachineLimits {
    /// CPU model name (`/proc/cpuinfo`), or "unknown".
    pub cpu: String,
    /// Cores the probe ran on (OpenMP threads).
    pub cores: usize,
    /// The vector ISA `-march=native` (or `$COLT_MARCH`) enables: `avx512`, `avx2`, `avx`,
    /// `sse` or `scalar`.
    pub isa: String,
    /// fp32 lanes of one vector register at that ISA.
    pub vector_lanes: u32,
    /// Whether the compiler emits fused multiply-adds (`__FMA__`).
    pub fma: bool,
    /// Peak fp32 GFLOP/s on all cores (FMA counted as 2 FLOPs).
    pub peak_gflops: f64,
    /// Peak fp32 GFLOP/s of one core.
    pub peak_gflops_one_core: f64,
    /// Sustained memory bandwidth, GB/s (triad: 12 bytes moved per element, all cores).
    pub bandwidth_gbs: f64,
    /// Per-core L2 and shared L3 sizes in bytes, from sysfs when it says.
    pub l2_bytes: Option<u64>,
    /// Shared L3 size in bytes.
    pub l3_bytes: Option<u64>,
    /// The clock the OS reports (MHz; on a VM often the nominal one, not the observed one).
    pub mhz_reported: Option<f64>,
}

impl MachineLimits {
    /// The roofline bound in GFLOP/s for a kernel of `intensity` FLOPs per byte of
    /// compulsory memory traffic.
    pub fn bound_gflops(&self, intensity: f64) -> f64 {
        self.peak_gflops.min(intensity * self.bandwidth_gbs)
    }
}

/// Why the probe could not run.
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    /// The probe's files could not be written.
    #[error("cannot write the probe: {0}")]
    Io(#[from] std::io::Error),
    /// The probe did not compile.
    #[error("{cc} failed to build the probe: {stderr}")]
    Build {
        /// The compiler command.
        cc: String,
        /// Its error output.
        stderr: String,
    },
    /// The probe ran but failed or printed something unreadable.
    #[error("the probe failed: {0}")]
    Run(String),
}

/// The probe's source. Lanes and accumulator count follow the ISA the compiler targets:
/// enough independent FMA chains to cover latency × FMA units (4 × 2 on current x86 cores)
/// while leaving registers for the two constants (16 of AVX-512's 32 registers, 12 of
/// AVX2's 16).
const PROBE_C: &str = r##"
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#if defined(__AVX512F__)
#define LANES 16
#define ACC 16
#define ISA "avx512"
#elif defined(__AVX2__)
#define LANES 8
#define ACC 12
#define ISA "avx2"
#elif defined(__AVX__)
#define LANES 8
#define ACC 12
#define ISA "avx"
#elif defined(__SSE2__)
#define LANES 4
#define ACC 12
#define ISA "sse"
#else
#define LANES 1
#define ACC 8
#define ISA "scalar"
#endif
#if defined(__FMA__)
#define HAS_FMA 1
#else
#define HAS_FMA 0
#endif
typedef float vf __attribute__((vector_size(LANES * 4)));
/* Keeps each chain in a register at every step, so the compiler neither interchanges the
   loops (one chain at a time would be latency-bound) nor drops work. */
#if defined(__x86_64__) && defined(__AVX512F__)
#define KEEP(x) __asm__ volatile("" : "+v"(x))
#elif defined(__x86_64__)
#define KEEP(x) __asm__ volatile("" : "+x"(x))
#elif defined(__aarch64__)
#define KEEP(x) __asm__ volatile("" : "+w"(x))
#else
#define KEEP(x) ((void)0)
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* FMA chains on `threads` threads for `iters` iterations; returns GFLOP/s. */
static double fma_gflops(int threads, long iters) {
    double t0 = now();
    float sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    {
        /* Every access to acc[] has a constant index once unrolled, so the array lives
           in registers (an element-wise access anywhere would keep it in memory). */
        vf acc[ACC], m = {0}, a = {0};
        m += 0.9999999f;
        a += 1e-7f;
        float base = 1.0f + omp_get_thread_num();
#pragma GCC unroll 64
        for (int i = 0; i < ACC; i++) acc[i] = m * (base + i);
        for (long it = 0; it < iters; it++) {
#pragma GCC unroll 64
            for (int i = 0; i < ACC; i++) {
                acc[i] = acc[i] * m + a;
                KEEP(acc[i]);
            }
        }
        vf total = {0};
#pragma GCC unroll 64
        for (int i = 0; i < ACC; i++) total += acc[i];
        for (int l = 0; l < LANES; l++) sink += total[l];
    }
    double t = now() - t0;
    if (sink == 12345.0f) printf("#");
    return 2.0 * LANES * ACC * (double)iters * threads / t / 1e9;
}

/* Iterations for a run of `threads` threads to last about 0.2 s. */
static long calibrate(int threads) {
    long iters = 1 << 16;
    while (1) {
        double t0 = now();
        fma_gflops(threads, iters);
        if (now() - t0 > 0.05) break;
        iters *= 2;
    }
    return iters * 4;
}

/* Best of rounds that alternate one thread and all threads, so a slow spell of the
   host (clock ramp, a neighbour's burst) cannot fall on one of the two figures only.
   All threads together cannot beat one thread per thread, so a one-core figure under
   all / threads was taken in such a spell and is raised to it. */
static void peaks(int threads, double *one, double *all) {
    long i1 = calibrate(1), in = calibrate(threads);
    *one = 0;
    *all = 0;
    for (int r = 0; r < 4; r++) {
        double g = fma_gflops(1, i1);
        if (g > *one) *one = g;
        g = fma_gflops(threads, in);
        if (g > *all) *all = g;
    }
    if (*one < *all / threads) *one = *all / threads;
}

static double triad_gbs(long n) {
    float *a = aligned_alloc(64, n * 4), *b = aligned_alloc(64, n * 4), *c = aligned_alloc(64, n * 4);
    if (!a || !b || !c) return -1;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) { a[i] = 0; b[i] = 1; c[i] = 2; }
    double best = 0;
    for (int r = 0; r < 6; r++) {
        float s = 0.5f + r;
        double t0 = now();
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) a[i] = b[i] + s * c[i];
        double t = now() - t0;
        double g = 12.0 * n / t / 1e9;
        if (r > 0 && g > best) best = g;
    }
    if (a[n / 2] < 0) printf("#");
    free(a); free(b); free(c);
    return best;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : (1L << 24);
    int cores = omp_get_max_threads();
    double one, all;
    peaks(cores, &one, &all);
    double bw = triad_gbs(n);
    printf("{\"cores\": %d, \"isa\": \"%s\", \"vector_lanes\": %d, \"fma\": %s, "
           "\"peak_gflops\": %.3f, \"peak_gflops_one_core\": %.3f, \"bandwidth_gbs\": %.3f}\n",
           cores, ISA, LANES, HAS_FMA ? "true" : "false", all, one, bw);
    return bw > 0 ? 0 : 1;
}
"##;

/// The probe's part of [`MachineLimits`].
#[derive(Deserialize)]
struct ProbeOut {
    cores: usize,
    isa: String,
    vector_lanes: u32,
    fma: bool,
    peak_gflops: f64,
    peak_gflops_one_core: f64,
    bandwidth_gbs: f64,
}

/// Build and run the probe in `dir` with `compiler` (its `cc`; the flags are the probe's
/// own). `triad_elements` floats per array (16 Mi = 64 MiB each by default: far past any
/// L3 on these machines).
pub fn measure_limits(
    compiler: &Compiler,
    dir: &Path,
    triad_elements: Option<u64>,
) -> Result<MachineLimits, MachineError> {
    std::fs::create_dir_all(dir)?;
    let src = dir.join("colt-machine-probe.c");
    let exe = dir.join("colt-machine-probe");
    std::fs::write(&src, PROBE_C)?;
    let built = crate::child::command(&compiler.cc)
        .args([
            "-O3",
            &crate::compile::march_flag(),
            "-fopenmp",
            "-std=gnu11",
            "-o",
        ])
        .arg(&exe)
        .arg(&src)
        .output();
    let _ = std::fs::remove_file(&src);
    let built = built.map_err(|e| MachineError::Build {
        cc: compiler.cc.clone(),
        stderr: e.to_string(),
    })?;
    if !built.status.success() {
        return Err(MachineError::Build {
            cc: compiler.cc.clone(),
            stderr: first_line(&String::from_utf8_lossy(&built.stderr)),
        });
    }
    let run = run_probe(&exe, triad_elements.map(|n| n.max(1024)));
    let _ = std::fs::remove_file(&exe);
    let (ok, stdout, stderr) = run?;
    let line = stdout.lines().rev().find(|l| l.starts_with('{'));
    let p: ProbeOut = match line.map(serde_json::from_str) {
        Some(Ok(p)) if ok => p,
        _ => {
            return Err(MachineError::Run(first_line(&format!(
                "{stderr}\n{stdout}"
            ))));
        }
    };
    let (cpu, mhz) = cpuinfo();
    Ok(MachineLimits {
        cpu,
        cores: p.cores,
        isa: p.isa,
        vector_lanes: p.vector_lanes,
        fma: p.fma,
        peak_gflops: p.peak_gflops,
        peak_gflops_one_core: p.peak_gflops_one_core,
        bandwidth_gbs: p.bandwidth_gbs,
        l2_bytes: cache_bytes(2),
        l3_bytes: cache_bytes(3),
        mhz_reported: mhz,
    })
}

/// The vector ISA `compiler` targets with this run's `-march` (`avx512`, `avx2`, `avx`,
/// `sse`) and its f32 lanes, read from the compiler's predefined macros (the probe's own
/// rule, without running anything); `None` when the compiler cannot be asked or targets none.
pub fn vector_isa(compiler: &Compiler) -> Option<(&'static str, u32)> {
    let out = crate::child::command(&compiler.cc)
        .args([
            &crate::compile::march_flag(),
            "-dM",
            "-E",
            "-x",
            "c",
            "/dev/null",
        ])
        .output()
        .ok()?;
    let macros = String::from_utf8_lossy(&out.stdout);
    let has = |m: &str| {
        macros
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some(m))
    };
    [
        ("__AVX512F__", "avx512", 16),
        ("__AVX2__", "avx2", 8),
        ("__AVX__", "avx", 8),
        ("__SSE2__", "sse", 4),
    ]
    .into_iter()
    .find(|(m, _, _)| out.status.success() && has(m))
    .map(|(_, isa, lanes)| (isa, lanes))
}

/// The longest the probe may take (it takes a few seconds).
const PROBE_TIMEOUT: Duration = Duration::from_secs(120);

/// Run the built probe in its own process group: (exited with 0, stdout, stderr).
fn run_probe(
    exe: &Path,
    triad_elements: Option<u64>,
) -> Result<(bool, String, String), MachineError> {
    use std::io::Read;
    use std::process::Stdio;
    use wait_timeout::ChildExt;
    let mut cmd = crate::child::command(exe);
    if let Some(n) = triad_elements {
        cmd.arg(n.to_string());
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut g =
        crate::child::GroupChild::spawn(&mut cmd).map_err(|e| MachineError::Run(e.to_string()))?;
    let status = match g.child.wait_timeout(PROBE_TIMEOUT) {
        Ok(Some(s)) => s,
        Ok(None) => {
            g.kill_group();
            return Err(MachineError::Run(format!(
                "no answer within {} s",
                PROBE_TIMEOUT.as_secs()
            )));
        }
        Err(e) => {
            g.kill_group();
            return Err(MachineError::Run(e.to_string()));
        }
    };
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut o) = g.child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    if let Some(mut e) = g.child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    Ok((status.success(), out, err))
}

/// What identifies this machine's limits in a cache: CPU model, core count and compiler
/// (the probe's code depends on what the compiler makes of `-march=native`).
pub fn machine_key(compiler: &Compiler) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let target = crate::compile::march_cpu().map_or(String::new(), |c| format!(" -march={c}"));
    format!("{} | {cores} cores | {}{target}", cpuinfo().0, compiler.cc)
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// CPU model name and reported MHz of the first processor in `/proc/cpuinfo`.
fn cpuinfo() -> (String, Option<f64>) {
    let text = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    (
        field("model name").unwrap_or_else(|| "unknown".into()),
        field("cpu MHz").and_then(|v| v.parse().ok()),
    )
}

/// The size of cpu0's unified/data cache of `level`, from sysfs (`1024K`, `32M`).
fn cache_bytes(level: u32) -> Option<u64> {
    let base = Path::new("/sys/devices/system/cpu/cpu0/cache");
    for entry in std::fs::read_dir(base).ok()?.flatten() {
        let p = entry.path();
        let read = |f: &str| std::fs::read_to_string(p.join(f)).ok();
        if read("level").and_then(|l| l.trim().parse::<u32>().ok()) != Some(level) {
            continue;
        }
        if read("type").is_some_and(|t| t.trim() == "Instruction") {
            continue;
        }
        return read("size").and_then(|s| parse_size(s.trim()));
    }
    None
}

/// `1024K` / `32M` / `512` as bytes.
fn parse_size(s: &str) -> Option<u64> {
    let (num, mult) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1024),
        'M' | 'm' => (&s[..s.len() - 1], 1024 * 1024),
        'G' | 'g' => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    num.trim().parse::<u64>().ok().map(|n| n * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_sizes_parse() {
        assert_eq!(parse_size("1024K"), Some(1 << 20));
        assert_eq!(parse_size("32M"), Some(32 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("x"), None);
    }

    #[test]
    fn the_bound_is_the_lower_of_peak_and_bandwidth_times_intensity() {
        let m = MachineLimits {
            cpu: "t".into(),
            cores: 2,
            isa: "avx2".into(),
            vector_lanes: 8,
            fma: true,
            peak_gflops: 100.0,
            peak_gflops_one_core: 50.0,
            bandwidth_gbs: 10.0,
            l2_bytes: None,
            l3_bytes: None,
            mhz_reported: None,
        };
        assert_eq!(m.bound_gflops(1.0), 10.0);
        assert_eq!(m.bound_gflops(50.0), 100.0);
    }
}

//! The named benchmark suites: which workloads at which scale, and the trial budgets and
//! strategies a suite uses when the command line does not say. Kept apart from the runner so
//! the suites are one table to read and extend.

use colt_ops::Scale;

/// One workload of a suite at one scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub workload: &'static str,
    pub scale: Scale,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// The five model-serving layers at CI scale, plus matmul 1024^3 (paper scale).
    Default,
    /// Matmul at CI scale with 8 trials and the evolutionary strategy: seconds, for tests.
    Tiny,
}

const SERVING_LAYERS: [&str; 5] = [
    "llama3-8b-attention",
    "llama4-scout-mlp",
    "deepseek-r1-moe",
    "flux-attention",
    "flux-conv",
];

impl std::str::FromStr for Suite {
    type Err = String;
    fn from_str(s: &str) -> Result<Suite, String> {
        match s {
            "default" => Ok(Suite::Default),
            "tiny" => Ok(Suite::Tiny),
            _ => Err(format!("unknown suite {s:?} (known: default, tiny)")),
        }
    }
}

impl Suite {
    pub fn entries(self) -> Vec<Entry> {
        match self {
            Suite::Default => {
                let mut v: Vec<Entry> = SERVING_LAYERS
                    .iter()
                    .map(|&w| Entry {
                        workload: w,
                        scale: Scale::Ci,
                    })
                    .collect();
                v.push(Entry {
                    workload: "matmul",
                    scale: Scale::Paper,
                });
                v
            }
            Suite::Tiny => vec![Entry {
                workload: "matmul",
                scale: Scale::Ci,
            }],
        }
    }

    pub fn default_trials(self) -> Vec<usize> {
        match self {
            Suite::Default => vec![64, 256],
            Suite::Tiny => vec![8],
        }
    }

    pub fn default_strategies(self) -> Vec<String> {
        match self {
            Suite::Default => vec!["evolutionary".into(), "mcts".into(), "colt".into()],
            Suite::Tiny => vec!["evolutionary".into()],
        }
    }
}

/// Workloads whose numpy implementation is GEMM calls into the bundled OpenBLAS (the
/// convolution as im2col + one GEMM): the practical limit of a library call. Softmax has no
/// GEMM, so no OpenBLAS figure.
pub fn gemm_like(workload: &str) -> bool {
    workload != "softmax"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_workload_is_built_in() {
        for suite in [Suite::Default, Suite::Tiny] {
            for e in suite.entries() {
                assert!(
                    colt_ops::list(e.scale).iter().any(|w| w.name == e.workload),
                    "{} not built in",
                    e.workload
                );
            }
        }
    }

    #[test]
    fn default_suite_is_the_five_layers_plus_paper_matmul() {
        let e = Suite::Default.entries();
        assert_eq!(e.len(), 6);
        assert!(e[..5].iter().all(|e| e.scale == Scale::Ci));
        assert_eq!(
            e[5],
            Entry {
                workload: "matmul",
                scale: Scale::Paper
            }
        );
        assert_eq!("tiny".parse::<Suite>(), Ok(Suite::Tiny));
        assert!(
            "huge"
                .parse::<Suite>()
                .unwrap_err()
                .contains("default, tiny")
        );
    }
}

//! The named benchmark suites: which workloads at which scale, and the trial budgets and
//! strategies a suite uses when the command line does not say. Kept apart from the runner so
//! the suites are one table to read and extend.

use colt_ops::Scale;

/// One workload of a bench at one scale: a suite's, or one named by `--workloads` (a
/// built-in name, shape overrides allowed: `matmul:M=197,K=768`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub workload: String,
    pub scale: Scale,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// The five model-serving layers at CI scale, plus matmul 1024^3 (paper scale).
    Default,
    /// Matmul at CI scale with 8 trials and the evolutionary strategy: seconds, for tests.
    Tiny,
    /// The out-of-suite layers at CI scale ([`colt_ops::workloads::OUT_OF_SUITE`]: MLP up
    /// projection, depthwise conv, RMSNorm, GEMV), common layers the search was not
    /// developed on, with the default suite's budgets and strategies, reported apart.
    Outside,
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
            "outside" => Ok(Suite::Outside),
            _ => Err(format!(
                "unknown suite {s:?} (known: default, tiny, outside)"
            )),
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
                        workload: w.into(),
                        scale: Scale::Ci,
                    })
                    .collect();
                v.push(Entry {
                    workload: "matmul".into(),
                    scale: Scale::Paper,
                });
                v
            }
            Suite::Tiny => vec![Entry {
                workload: "matmul".into(),
                scale: Scale::Ci,
            }],
            Suite::Outside => colt_ops::workloads::OUT_OF_SUITE
                .iter()
                .map(|&w| Entry {
                    workload: w.into(),
                    scale: Scale::Ci,
                })
                .collect(),
        }
    }

    /// The entries with every workload at `scale` when given (`--scale`), except the
    /// default suite's matmul, which is 1024^3 (its paper scale) at any scale.
    pub fn entries_at(self, scale: Option<Scale>) -> Vec<Entry> {
        let mut v = self.entries();
        if let Some(scale) = scale {
            for e in &mut v {
                if !(self == Suite::Default && e.workload == "matmul") {
                    e.scale = scale;
                }
            }
        }
        v
    }

    pub fn default_trials(self) -> Vec<usize> {
        match self {
            Suite::Default | Suite::Outside => vec![64, 256],
            Suite::Tiny => vec![8],
        }
    }

    pub fn default_strategies(self) -> Vec<String> {
        match self {
            Suite::Default | Suite::Outside => {
                vec!["evolutionary".into(), "mcts".into(), "colt".into()]
            }
            Suite::Tiny => vec!["evolutionary".into()],
        }
    }
}

/// Workloads whose numpy implementation is GEMM calls into the bundled OpenBLAS (the
/// convolution as im2col + one GEMM, GEMV as one matrix-vector call): the practical limit of
/// a library call. Softmax, RMSNorm and the depthwise convolution (one filter per channel)
/// have no GEMM, so no OpenBLAS figure.
pub fn gemm_like(workload: &str) -> bool {
    !matches!(workload, "softmax" | "rmsnorm" | "depthwise-conv")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_workload_is_built_in() {
        for suite in [Suite::Default, Suite::Tiny, Suite::Outside] {
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
                workload: "matmul".into(),
                scale: Scale::Paper
            }
        );
        assert_eq!("tiny".parse::<Suite>(), Ok(Suite::Tiny));
        assert!(
            "huge"
                .parse::<Suite>()
                .unwrap_err()
                .contains("default, tiny, outside")
        );
    }

    #[test]
    fn a_scale_moves_every_layer_but_the_default_matmul() {
        let paper = Suite::Default.entries_at(Some(Scale::Paper));
        assert_eq!(paper.len(), 6);
        assert!(paper.iter().all(|e| e.scale == Scale::Paper));
        let ci = Suite::Default.entries_at(Some(Scale::Ci));
        assert!(
            ci.iter()
                .all(|e| (e.scale == Scale::Paper) == (e.workload == "matmul"))
        );
        let outside = Suite::Outside.entries_at(Some(Scale::Paper));
        assert_eq!(outside.len(), 4);
        assert!(outside.iter().all(|e| e.scale == Scale::Paper));
        assert_eq!(Suite::Tiny.entries_at(None), Suite::Tiny.entries());
    }

    #[test]
    fn outside_suite_is_the_four_out_of_suite_layers_at_ci_scale() {
        assert_eq!("outside".parse::<Suite>(), Ok(Suite::Outside));
        let e = Suite::Outside.entries();
        let names: Vec<&str> = e.iter().map(|e| e.workload.as_str()).collect();
        assert_eq!(names, ["mlp-up-proj", "depthwise-conv", "rmsnorm", "gemv"]);
        assert!(e.iter().all(|e| e.scale == Scale::Ci));
        // none of them is a layer of the suites the search was developed on
        assert!(
            Suite::Default
                .entries()
                .iter()
                .all(|d| !names.contains(&d.workload.as_str()))
        );
        assert_eq!(
            Suite::Outside.default_trials(),
            Suite::Default.default_trials()
        );
        assert_eq!(
            Suite::Outside.default_strategies(),
            Suite::Default.default_strategies()
        );
        assert!(gemm_like("mlp-up-proj") && gemm_like("gemv"));
        assert!(!gemm_like("rmsnorm") && !gemm_like("depthwise-conv"));
    }
}

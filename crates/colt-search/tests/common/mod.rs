//! A toy environment with a known latency function, cost models and scripted LLM
//! providers, shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use colt_cost::CostModel;
use colt_llm::{
    ActionSpec, Bucket, CallError, Finish, Provider, Reply, Request, Transformation, Usage,
    Vocabulary,
};
use colt_search::{Environment, LlmEnvironment, Measurement, OutcomeKind, SearchRng};
use rand::RngExt;

/// States are vectors of integer decisions in `0..levels`; latency is a separable
/// quadratic bowl around `target` plus an interaction between the first two decisions.
/// States whose last two decisions are both `levels - 1` (or `fail_rule` matches) fail.
#[derive(Clone, Debug)]
pub struct Toy {
    pub dims: usize,
    pub levels: i64,
    pub target: Vec<i64>,
    /// Every state measured, in order.
    pub measured: Vec<Vec<i64>>,
    /// Fail states with `d[0] % fail_mod == fail_mod - 1` (0 = off).
    pub fail_mod: i64,
}

impl Toy {
    pub fn new(dims: usize, levels: i64) -> Toy {
        let target = (0..dims).map(|i| (i as i64 * 5 + 3) % levels).collect();
        Toy {
            dims,
            levels,
            target,
            measured: Vec::new(),
            fail_mod: 0,
        }
    }

    pub fn latency(&self, s: &[i64]) -> Option<f64> {
        let n = s.len();
        if n >= 2 && s[n - 1] == self.levels - 1 && s[n - 2] == self.levels - 1 {
            return None;
        }
        if self.fail_mod > 0 && s[0] % self.fail_mod == self.fail_mod - 1 {
            return None;
        }
        let mut l = 10.0;
        for (i, (d, t)) in s.iter().zip(&self.target).enumerate() {
            let w = 1.0 + i as f64 * 0.5;
            l += w * ((d - t) as f64).powi(2);
        }
        if n >= 2 {
            l += 0.7 * ((s[0] - s[1]).abs() as f64);
        }
        Some(l)
    }
}

fn arg(t: &Transformation, name: &str) -> Result<i64, String> {
    t.args
        .get(name)
        .and_then(|v| v.as_i64())
        .ok_or_else(|| format!("{}: missing integer parameter {name}", t.action))
}

impl Environment for Toy {
    type State = Vec<i64>;

    fn root(&self) -> Vec<i64> {
        vec![0; self.dims]
    }

    fn initial_states(&self, n: usize, rng: &mut SearchRng) -> Vec<Vec<i64>> {
        (0..n)
            .map(|_| {
                (0..self.dims)
                    .map(|_| rng.random_range(0..self.levels))
                    .collect()
            })
            .collect()
    }

    fn mutate(&self, s: &Vec<i64>, rng: &mut SearchRng) -> Option<Vec<i64>> {
        if self.levels < 2 {
            return None;
        }
        let mut s = s.clone();
        let i = rng.random_range(0..self.dims);
        let mut v = rng.random_range(0..self.levels - 1);
        if v >= s[i] {
            v += 1;
        }
        s[i] = v;
        Some(s)
    }

    fn features(&self, s: &Vec<i64>) -> Vec<f32> {
        s.iter().map(|&d| d as f32).collect()
    }

    fn key(&self, s: &Vec<i64>) -> u64 {
        // FNV-1a: stable across runs and platforms.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for d in s {
            for b in d.to_le_bytes() {
                h ^= b as u64;
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        h
    }

    fn measure(&mut self, batch: &[Vec<i64>]) -> Vec<Measurement> {
        batch
            .iter()
            .map(|s| {
                self.measured.push(s.clone());
                match self.latency(s) {
                    Some(l) => Measurement::ok(l),
                    None => {
                        Measurement::failed(OutcomeKind::CompileError, "toy: forbidden combination")
                    }
                }
            })
            .collect()
    }
}

impl LlmEnvironment for Toy {
    fn vocabulary(&self, _s: &Vec<i64>) -> Vocabulary {
        Vocabulary::new(vec![
            ActionSpec::new("set", "set decision `index` to `value`")
                .param("index", 0..self.dims as i64)
                .param("value", 0..self.levels),
            ActionSpec::new("shift", "add `delta` to decision `index`")
                .param("index", 0..self.dims as i64)
                .param("delta", [-1, 1]),
            ActionSpec::new("lock", "freeze decision `index` (never legal in this toy)")
                .param("index", 0..self.dims as i64),
        ])
    }

    fn apply(&self, s: &Vec<i64>, ts: &[Transformation]) -> Result<Vec<i64>, String> {
        let mut s = s.clone();
        for t in ts {
            let i = arg(t, "index")?;
            if i < 0 || i as usize >= self.dims {
                return Err(format!("{}: index {i} out of range", t.action));
            }
            let v = match t.action.as_str() {
                "lock" => return Err(format!("lock: decision {i} cannot be locked")),
                "set" => arg(t, "value")?,
                "shift" => s[i as usize] + arg(t, "delta")?,
                other => return Err(format!("unknown action {other}")),
            };
            if !(0..self.levels).contains(&v) {
                return Err(format!(
                    "{}: decision {i} would become {v}, outside 0..{}",
                    t.action, self.levels
                ));
            }
            s[i as usize] = v;
        }
        Ok(s)
    }

    fn describe(&self, s: &Vec<i64>) -> String {
        format!("decisions = {s:?}")
    }

    fn prompt_prefix(&self) -> String {
        format!(
            "Toy workload: {} integer decisions in 0..{}; latency is smooth in each decision.",
            self.dims, self.levels
        )
    }

    fn schedule_legend(&self) -> String {
        "A toy state is written as its list of decisions.".into()
    }
}

/// k-nearest-neighbour regression (k = 3, L2, ties by index): a simple learned model.
#[derive(Debug, Default)]
pub struct Knn {
    x: Vec<Vec<f32>>,
    y: Vec<f32>,
}

impl CostModel for Knn {
    fn name(&self) -> &str {
        "knn"
    }
    fn fit(&mut self, x: &[Vec<f32>], y: &[f32]) {
        self.x = x.to_vec();
        self.y = y.to_vec();
    }
    fn predict(&self, x: &[Vec<f32>]) -> Vec<f32> {
        x.iter()
            .map(|row| {
                if self.x.is_empty() {
                    return 0.5;
                }
                let mut d: Vec<(f32, usize)> = self
                    .x
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        (
                            r.iter()
                                .zip(row)
                                .map(|(a, b)| (a - b) * (a - b))
                                .sum::<f32>(),
                            i,
                        )
                    })
                    .collect();
                d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let k = d.len().min(3);
                d[..k].iter().map(|(_, i)| self.y[*i]).sum::<f32>() / k as f32
            })
            .collect()
    }
    fn is_trained(&self) -> bool {
        self.x.len() >= 4
    }
}

/// The exact normalised throughput of the toy (10 / latency): regressions are exact.
#[derive(Debug, Clone)]
pub struct Oracle(pub Toy);

impl CostModel for Oracle {
    fn name(&self) -> &str {
        "oracle"
    }
    fn fit(&mut self, _x: &[Vec<f32>], _y: &[f32]) {}
    fn predict(&self, x: &[Vec<f32>]) -> Vec<f32> {
        x.iter()
            .map(|r| {
                self.0
                    .latency(&r.iter().map(|&v| v as i64).collect::<Vec<_>>())
                    .map_or(0.0, |l| (10.0 / l) as f32)
            })
            .collect()
    }
    fn is_trained(&self) -> bool {
        true
    }
}

/// The number after `tag` in `text` (`Expand n12` -> 12).
fn number_after(text: &str, tag: &str) -> Option<u32> {
    text.split(tag)
        .nth(1)?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// The decisions of the acting node, as the question gives them (`Schedule of nX:`
/// followed by the toy's `decisions = [...]` line).
pub fn acting_state(question: &str) -> Option<Vec<i64>> {
    let after = question.split("Schedule of n").nth(1)?;
    let line = after
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("decisions = ["))?;
    let inner = line
        .trim_start_matches("decisions = [")
        .trim_end_matches(']');
    inner.split(',').map(|x| x.trim().parse().ok()).collect()
}

/// How a scripted model answers.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Fix the decision with the largest weighted error; name `next` as next model.
    Greedy { next: String },
    /// Push a decision to its worst value (a regression).
    Worsen { next: String },
    /// Not JSON at all.
    Garbage,
    /// A well-formed answer whose only step is illegal.
    Illegal { next: String },
    /// The greedy step followed by an illegal `shift`: usable once the bad step is dropped.
    PartlyIllegal { next: String },
    /// The provider times out (a transport failure, not the model's judgement).
    Down,
}

pub fn greedy_answer(toy: &Toy, s: &[i64], next: &str) -> String {
    let mut best = 0;
    let mut worst = -1.0;
    for (i, (d, t)) in s.iter().zip(&toy.target).enumerate() {
        let e = (1.0 + i as f64 * 0.5) * ((d - t) as f64).powi(2);
        if e > worst {
            worst = e;
            best = i;
        }
    }
    format!(
        r#"{{"transformations": [{{"action": "set", "index": {best}, "value": {}}}], "next_model": "{next}"}}"#,
        toy.target[best]
    )
}

/// A step that is illegal in any state.
const ILLEGAL_STEP: &str = r#"{"action": "lock", "index": 0}"#;

pub fn answer(b: &Behaviour, toy: &Toy, req: &Request) -> Option<String> {
    let s = acting_state(&req.suffix).unwrap_or_else(|| vec![0; toy.dims]);
    Some(match b {
        Behaviour::Greedy { next } => greedy_answer(toy, &s, next),
        Behaviour::Worsen { next } => {
            // Push the first decision not yet there to the value farthest from its target.
            let far = |i: usize| {
                if toy.target[i] >= toy.levels / 2 {
                    0
                } else {
                    toy.levels - 1
                }
            };
            let i = (0..toy.dims).find(|&i| s[i] != far(i)).unwrap_or(0);
            format!(
                r#"{{"transformations": [{{"action": "set", "index": {i}, "value": {}}}], "next_model": "{next}"}}"#,
                far(i)
            )
        }
        Behaviour::Garbage => "I think you should tile the loops more. Good luck!".to_string(),
        Behaviour::Illegal { next } => {
            format!(r#"{{"transformations": [{ILLEGAL_STEP}], "next_model": "{next}"}}"#)
        }
        Behaviour::PartlyIllegal { next } => {
            let good: serde_json::Value =
                serde_json::from_str(&greedy_answer(toy, &s, next)).unwrap();
            let bad: serde_json::Value = serde_json::from_str(ILLEGAL_STEP).unwrap();
            serde_json::json!({"transformations": [good["transformations"][0].clone(), bad], "next_model": next}).to_string()
        }
        Behaviour::Down => return None,
    })
}

/// A scripted in-process provider; records every request it saw.
#[derive(Debug)]
pub struct Scripted {
    pub toy: Toy,
    pub behaviour: Behaviour,
    pub calls: Arc<AtomicUsize>,
    pub seen: Arc<Mutex<Vec<Request>>>,
}

impl Provider for Scripted {
    fn complete(&self, req: &Request) -> Result<Reply, CallError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.seen.lock().unwrap().push(req.clone());
        let text = answer(&self.behaviour, &self.toy, req).ok_or(CallError::Timeout)?;
        let input = ((req.prefix.len() + req.record.len() + req.suffix.len()) / 4) as u64;
        Ok(Reply {
            text,
            usage: Usage {
                input_tokens: input,
                cached_tokens: (req.prefix.len() / 4) as u64,
                cache_write_tokens: 0,
                output_tokens: 30,
            },
            finish: Finish::Stop,
            structured: false,
            timing: None,
        })
    }
}

/// A bucket of OpenAI-compatible models at `endpoint` (name, params), tiny retries, a 1 s
/// timeout per attempt.
pub fn bucket(models: &[(&str, &str)], endpoint: &str) -> Bucket {
    bucket_with_timeout(models, endpoint, 1)
}

/// [`bucket`] with another timeout per attempt (seconds).
pub fn bucket_with_timeout(models: &[(&str, &str)], endpoint: &str, timeout_s: u32) -> Bucket {
    let mut t = String::from("[bucket]\ncooldown_after_failures = 3\ncooldown_s = 0.2\n");
    for (name, params) in models {
        t.push_str(&format!(
            "[[models]]\nname = \"{name}\"\nprovider = \"openai\"\nendpoint = \"{endpoint}\"\nmodel = \"{name}\"\nparams = \"{params}\"\n\
             prices = {{ input = 1.0, cached_input = 0.1, output = 4.0 }}\ntimeout_s = {timeout_s}\nretry = {{ max_attempts = 2, base_backoff_ms = 1, max_backoff_ms = 2 }}\n"
        ));
    }
    Bucket::from_toml_str(&t).unwrap()
}

/// A client whose models answer by `behaviours` (name -> behaviour).
pub fn scripted_client(
    toy: &Toy,
    models: &[(&str, &str, Behaviour)],
) -> (
    colt_llm::LlmClient,
    Arc<Mutex<Vec<Request>>>,
    Arc<AtomicUsize>,
) {
    let b = bucket(
        &models.iter().map(|(n, p, _)| (*n, *p)).collect::<Vec<_>>(),
        "http://127.0.0.1:9",
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let mut providers: BTreeMap<String, Box<dyn Provider>> = BTreeMap::new();
    for (n, _, beh) in models {
        providers.insert(
            n.to_string(),
            Box::new(Scripted {
                toy: toy.clone(),
                behaviour: beh.clone(),
                calls: calls.clone(),
                seen: seen.clone(),
            }),
        );
    }
    (
        colt_llm::LlmClient::with_providers(&b, providers, 7),
        seen,
        calls,
    )
}

//! What `colt bench --strategies` may name, and the `colt.toml` each one's `colt tune` runs
//! with:
//!
//! - the search strategies of `colt tune` (`random`, `evolutionary`, `mcts`, `single-llm`,
//!   `colt`), run with the bench's `--config` as given (the LLM ones with the bench's bucket,
//!   below);
//! - `colt`: the heterogeneous bucket (every model of the bench's bucket);
//! - `colt-homogeneous`: `colt tune --strategy colt` on the bucket restricted to its largest
//!   model (COLT's policies on, one model: the tune summary says `effective_strategy:
//!   single-llm`, the bench labels the run `colt-homogeneous`);
//! - `single-llm:<model>`: `colt tune --strategy single-llm` on the bucket restricted to that
//!   model (and `[search] single_llm_model` naming it).
//!
//! The bench's bucket is the `colt.toml` bucket (or the two embedded models without one),
//! and its price table gives every LLM run's USD. The embedded models are free; so that the
//! cost of a configuration can be compared at all, the bench prices them as stand-ins for a
//! small and a large API model at OpenAI's public list prices (USD per million tokens, input /
//! cached input / output): `smollm2-135m` as gpt-5-mini ($0.25 / $0.025 / $2.00) and
//! `gemma-3-270m` as gpt-5.2 ($1.75 / $0.175 / $14.00). A configured price (any non-zero
//! one) is kept. The embedded models' "cached" tokens are their reused KV-cache prefix,
//! priced as a provider's prompt cache would be.

use crate::config::ConfigFile;
use anyhow::{Context, bail};
use colt_llm::{Bucket, Prices, ProviderKind};
use colt_search::Strategy;
use std::path::{Path, PathBuf};

/// Stand-in prices of the embedded models in the bench (see the module doc).
pub const STAND_IN_PRICES: [(&str, &str, Prices); 2] = [
    (
        "smollm2-135m",
        "gpt-5-mini",
        Prices {
            input: 0.25,
            cached_input: 0.025,
            output: 2.0,
            cache_write: 0.25,
        },
    ),
    (
        "gemma-3-270m",
        "gpt-5.2",
        Prices {
            input: 1.75,
            cached_input: 0.175,
            output: 14.0,
            cache_write: 1.75,
        },
    ),
];

/// One `--strategies` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchStrategy {
    /// What the bench calls it (rows, CSV, JSON).
    pub label: String,
    /// What `colt tune --strategy` gets.
    pub tune: Strategy,
    /// `None`: the bench's `--config` as given. `Some(models)`: a config written by the bench
    /// with the bench's bucket restricted to these models (in bucket order).
    pub models: Option<Vec<String>>,
    /// `[search] single_llm_model` of the written config.
    pub single_llm_model: Option<String>,
}

impl BenchStrategy {
    pub fn uses_llm(&self) -> bool {
        self.tune.uses_llm()
    }
}

/// Parse one `--strategies` entry against the bench's bucket.
pub fn parse(s: &str, bucket: &Bucket) -> anyhow::Result<BenchStrategy> {
    let s = s.trim();
    let all = || Some(bucket.names());
    let one = |m: &str| -> anyhow::Result<Option<Vec<String>>> {
        if bucket.model(m).is_none() {
            bail!(
                "model \"{m}\" is not in the bucket (models: {})",
                bucket.names().join(", ")
            );
        }
        Ok(Some(vec![m.to_string()]))
    };
    let (tune, models, single) = match s {
        "colt-homogeneous" => (Strategy::Colt, one(bucket.largest())?, None),
        _ if s.starts_with("single-llm:") => {
            let m = s["single-llm:".len()..].trim();
            if m.is_empty() {
                bail!(
                    "single-llm:<model> needs a model name (models: {})",
                    bucket.names().join(", ")
                );
            }
            (Strategy::SingleLlm, one(m)?, Some(m.to_string()))
        }
        _ => {
            let tune: Strategy = s.parse().map_err(|e| {
                anyhow::anyhow!(
                    "{e}; or colt-homogeneous, single-llm:<model> (models: {})",
                    bucket.names().join(", ")
                )
            })?;
            (tune, if tune.uses_llm() { all() } else { None }, None)
        }
    };
    Ok(BenchStrategy {
        label: s.to_string(),
        tune,
        models,
        single_llm_model: single,
    })
}

/// The bench's bucket with the embedded models' stand-in prices where they are unpriced.
/// Returns the notes to print (which prices are stand-ins).
pub fn priced(mut bucket: Bucket) -> (Bucket, Vec<String>) {
    let mut notes = vec![];
    for m in &mut bucket.config.models {
        let unpriced =
            m.prices.input == 0.0 && m.prices.cached_input == 0.0 && m.prices.output == 0.0;
        if let Some((_, like, p)) = STAND_IN_PRICES.iter().find(|(name, _, _)| *name == m.name)
            && m.provider == ProviderKind::Local
            && unpriced
        {
            m.prices = *p;
            notes.push(format!(
                "{} is priced as a stand-in for {like} (list price, USD per million tokens: {} in, {} cached, {} out)",
                m.name, p.input, p.cached_input, p.output
            ));
        }
    }
    (bucket, notes)
}

/// The `colt.toml` text for `strategy`: the user's config text (tables other than `models`
/// and `bucket` kept: `[search]` and the rest), the bench's bucket restricted to
/// `strategy.models`, and `[search] single_llm_model` when the strategy names one.
pub fn config_text(
    user: &str,
    bucket: &Bucket,
    strategy: &BenchStrategy,
) -> anyhow::Result<Option<String>> {
    let Some(models) = &strategy.models else {
        return Ok(None);
    };
    let mut doc: toml::Table = user.parse().context("config")?;
    let mut cfg = bucket.config.clone();
    cfg.models.retain(|m| models.contains(&m.name));
    if cfg.models.is_empty() {
        bail!("{}: no model of the bucket is left", strategy.label);
    }
    if cfg.largest.as_ref().is_some_and(|l| !models.contains(l)) {
        cfg.largest = None;
    }
    doc.remove("models");
    doc.remove("bucket");
    doc.extend(cfg.to_toml());
    if let Some(m) = &strategy.single_llm_model {
        let search = doc
            .entry("search")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(t) = search else {
            bail!("config: [search] must be a table")
        };
        t.insert("single_llm_model".into(), toml::Value::String(m.clone()));
    }
    Ok(Some(
        toml::to_string(&doc).context("cannot write the bench config")?,
    ))
}

/// Write the configs of the LLM strategies into `dir`; returns the config path of each
/// strategy (the user's `--config` for the others).
pub fn write_configs(
    dir: &Path,
    user: &ConfigFile,
    bucket: &Bucket,
    strategies: &[BenchStrategy],
) -> anyhow::Result<Vec<Option<PathBuf>>> {
    strategies
        .iter()
        .enumerate()
        .map(|(i, s)| match config_text(&user.text, bucket, s)? {
            None => Ok(user.path.clone()),
            Some(text) => {
                let p = dir.join(format!("bench-{i}.toml"));
                std::fs::write(&p, text)
                    .with_context(|| format!("cannot write {}", p.display()))?;
                Ok(Some(p))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Bucket {
        priced(Bucket::default_local()).0
    }

    #[test]
    fn llm_configurations_parse_against_the_bucket() {
        let b = two();
        let colt = parse("colt", &b).unwrap();
        assert_eq!(
            (colt.tune, colt.models.clone()),
            (
                Strategy::Colt,
                Some(vec!["smollm2-135m".into(), "gemma-3-270m".into()])
            )
        );
        let homo = parse("colt-homogeneous", &b).unwrap();
        assert_eq!(
            (homo.label.as_str(), homo.tune, homo.models.clone()),
            (
                "colt-homogeneous",
                Strategy::Colt,
                Some(vec!["gemma-3-270m".into()])
            )
        );
        let single = parse("single-llm:smollm2-135m", &b).unwrap();
        assert_eq!(
            (single.tune, single.models.clone()),
            (Strategy::SingleLlm, Some(vec!["smollm2-135m".into()]))
        );
        assert_eq!(single.single_llm_model.as_deref(), Some("smollm2-135m"));
        let plain = parse("single-llm", &b).unwrap();
        assert_eq!(
            (
                plain.tune,
                plain.models.map(|m| m.len()),
                plain.single_llm_model
            ),
            (Strategy::SingleLlm, Some(2), None)
        );
        let evo = parse("evolutionary", &b).unwrap();
        assert_eq!(
            (evo.tune, evo.models.clone(), evo.uses_llm()),
            (Strategy::Evolutionary, None, false)
        );
        let e = parse("single-llm:gpt-9", &b).unwrap_err().to_string();
        assert!(
            e.contains("\"gpt-9\" is not in the bucket")
                && e.contains("smollm2-135m, gemma-3-270m"),
            "{e}"
        );
        assert!(parse("single-llm:", &b).is_err());
        let e = parse("greedy", &b).unwrap_err().to_string();
        assert!(
            e.contains("greedy") && e.contains("colt-homogeneous") && !e.contains('\n'),
            "{e}"
        );
    }

    #[test]
    fn embedded_models_get_stand_in_prices_and_configured_prices_stay() {
        let (b, notes) = priced(Bucket::default_local());
        assert_eq!(b.model("smollm2-135m").unwrap().prices.output, 2.0);
        assert_eq!(b.model("gemma-3-270m").unwrap().prices.input, 1.75);
        assert_eq!(notes.len(), 2);
        assert!(
            notes[1].contains("gemma-3-270m is priced as a stand-in for gpt-5.2"),
            "{}",
            notes[1]
        );
        let mut mine = Bucket::default_local();
        mine.config.models[1].prices.input = 9.0;
        let (b, notes) = priced(mine);
        assert_eq!(
            (b.model("gemma-3-270m").unwrap().prices.input, notes.len()),
            (9.0, 1)
        );
    }

    #[test]
    fn written_configs_restrict_the_bucket_and_keep_the_search_table() {
        let b = two();
        let user = "[search]\nbatch_size = 4\n";
        let homo = parse("colt-homogeneous", &b).unwrap();
        let text = config_text(user, &b, &homo).unwrap().unwrap();
        let back = Bucket::from_colt_toml(&text).unwrap();
        assert_eq!(back.names(), ["gemma-3-270m"]);
        assert_eq!(
            back.models()[0],
            *b.model("gemma-3-270m").unwrap(),
            "the model reads back unchanged, prices included"
        );
        let doc: toml::Table = text.parse().unwrap();
        assert_eq!(doc["search"]["batch_size"].as_integer(), Some(4));
        assert!(doc["search"].get("single_llm_model").is_none());

        let single = parse("single-llm:smollm2-135m", &b).unwrap();
        let text = config_text(user, &b, &single).unwrap().unwrap();
        let doc: toml::Table = text.parse().unwrap();
        assert_eq!(
            doc["search"]["single_llm_model"].as_str(),
            Some("smollm2-135m")
        );
        assert_eq!(
            Bucket::from_colt_toml(&text).unwrap().names(),
            ["smollm2-135m"]
        );

        let colt = parse("colt", &b).unwrap();
        let text = config_text("", &b, &colt).unwrap().unwrap();
        assert_eq!(
            Bucket::from_colt_toml(&text).unwrap(),
            b,
            "the whole bucket reads back unchanged"
        );
        assert_eq!(
            config_text(user, &b, &parse("mcts", &b).unwrap()).unwrap(),
            None
        );
    }
}

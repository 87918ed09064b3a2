//! `colt.toml`: found at `--config`, else `./colt.toml`, else built-in defaults (the two
//! embedded models, SmolLM2 135M and Gemma 3 270M, as the LLM bucket). The model bucket is `[[models]]` (see colt-llm); the search
//! settings are read by `colt tune`.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// The text of the configuration file in effect, and where it came from.
pub struct ConfigFile {
    pub path: Option<PathBuf>,
    pub text: String,
    /// How errors name a config that is not a file (e.g. the copy a run recorded).
    pub origin: Option<String>,
}

pub fn load(explicit: Option<&Path>) -> anyhow::Result<ConfigFile> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => Some(PathBuf::from("colt.toml")).filter(|p| p.is_file()),
    };
    let text = match &path {
        Some(p) => colt_ops::read_input(p)
            .with_context(|| format!("cannot read config {}", p.display()))?,
        None => String::new(),
    };
    Ok(ConfigFile {
        path,
        text,
        origin: None,
    })
}

impl ConfigFile {
    /// The config a run recorded (resumed runs use it, not the file).
    pub fn recorded(run: colt_db::RunId, text: &str) -> ConfigFile {
        ConfigFile {
            path: None,
            text: text.to_string(),
            origin: Some(format!("recorded with run {run}")),
        }
    }

    pub fn name(&self) -> String {
        if let Some(o) = &self.origin {
            return o.clone();
        }
        self.path
            .as_ref()
            .map_or("built-in defaults".into(), |p| p.display().to_string())
    }

    /// The model bucket: the configured models whose API keys are set, or the two embedded
    /// models when none is configured or callable. Notes say what was skipped (never a key).
    pub fn bucket(&self) -> anyhow::Result<(colt_llm::Bucket, Vec<String>)> {
        let bucket = colt_llm::Bucket::from_colt_toml(&self.text)
            .with_context(|| format!("config {}", self.name()))?;
        Ok(bucket.available_or_local())
    }
}

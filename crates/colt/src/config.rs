//! `colt.toml`: found at `--config`, else `./colt.toml`, else built-in defaults (the two
//! embedded models, SmolLM2 135M and Gemma 3 270M, as the LLM bucket). The model bucket is `[[models]]` (see colt-llm); the search
//! settings are read by `colt tune`.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// The text of the configuration file in effect, and where it came from.
pub struct ConfigFile {
    pub path: Option<PathBuf>,
    pub text: String,
}

pub fn load(explicit: Option<&Path>) -> anyhow::Result<ConfigFile> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => Some(PathBuf::from("colt.toml")).filter(|p| p.is_file()),
    };
    let text = match &path {
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("cannot read config {}", p.display()))?,
        None => String::new(),
    };
    Ok(ConfigFile { path, text })
}

impl ConfigFile {
    pub fn name(&self) -> String {
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

//! `colt models list | check`: the LLM bucket, and a live two-request check of each model.

use crate::config;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum Command {
    /// The bucket: provider, parameters, φ_small, prices; `*` marks the largest model.
    /// Without a colt.toml: the two embedded models (smollm2-135m, gemma-3-270m).
    List {
        #[arg(long)]
        config: Option<PathBuf>,
        /// One JSON object: `{"largest", "models": [{"name", "provider", "params", ...}]}`.
        #[arg(long)]
        json: bool,
    },
    /// Two real joint-action requests per model sharing one prompt prefix: latency, tokens,
    /// prefix tokens reused on the second, valid answer yes/no.
    Check {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(c: Command) -> anyhow::Result<()> {
    match c {
        Command::List { config, json } => {
            let (bucket, notes) = config::load(config.as_deref())?.bucket()?;
            notes.iter().for_each(|n| eprintln!("note: {n}"));
            if json {
                println!("{}", colt_llm::models_list_json(&bucket));
            } else {
                print!("{}", colt_llm::models_list(&bucket));
            }
        }
        Command::Check { config, seed, json } => {
            let (bucket, notes) = config::load(config.as_deref())?.bucket()?;
            notes.iter().for_each(|n| eprintln!("note: {n}"));
            let results = colt_llm::models_check(&bucket, seed);
            if json {
                println!("{}", colt_llm::check_json(&results));
            } else {
                print!("{}", colt_llm::check_text(&results));
            }
            if results.iter().any(|r| !r.valid) && !json {
                anyhow::bail!("at least one model gave no valid answer");
            }
        }
    }
    Ok(())
}

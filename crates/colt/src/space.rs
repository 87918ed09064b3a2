//! The search spaces of `colt tune`, `colt bench` and `colt show`, as one type for the
//! command line (`--space`), the database (a run's `space` column, written by name) and the
//! tune summary (its `space` key).

use std::fmt;
use std::str::FromStr;

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// What a run tunes. Its name (`tensor`, `llvm`) is what `--space` takes and what the
/// database and the JSON summary hold.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    ValueEnum,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Space {
    /// Schedules of a tensor workload (built-in or a custom spec).
    #[default]
    Tensor,
    /// LLVM pass orderings of a C program (or one `.ll` file).
    Llvm,
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.to_possible_value().expect("no space is hidden");
        f.write_str(v.get_name())
    }
}

impl FromStr for Space {
    type Err = anyhow::Error;

    /// A space by its name, as `--space` takes it and the database stores it.
    fn from_str(s: &str) -> anyhow::Result<Space> {
        <Space as ValueEnum>::from_str(s, false).map_err(|_| {
            let names: Vec<String> = Space::value_variants()
                .iter()
                .map(Space::to_string)
                .collect();
            anyhow::anyhow!("unknown space \"{s}\" (expected {})", names.join(" or "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_the_same_for_clap_the_database_and_json() {
        for s in Space::value_variants() {
            let name = s.to_string();
            assert_eq!(name.parse::<Space>().unwrap(), *s);
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(name));
        }
        assert_eq!(
            "cuda".parse::<Space>().unwrap_err().to_string(),
            "unknown space \"cuda\" (expected tensor or llvm)"
        );
    }
}

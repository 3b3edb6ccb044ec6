//! Which classifier engine listener models use: a setting, so it lives with the
//! settings; `model::engine` builds the engine it names.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which engine a listener's model uses. `histogram` is the default: the benchmark
/// shows it fastest at equal AUC (README, "Model engines").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    #[default]
    Histogram,
    RandomForest,
}

impl EngineKind {
    pub const ALL: [EngineKind; 2] = [EngineKind::Histogram, EngineKind::RandomForest];

    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Histogram => "histogram",
            EngineKind::RandomForest => "randomforest",
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown model engine {0:?} (expected \"histogram\" or \"randomforest\")")]
pub struct UnknownEngine(pub String);

impl FromStr for EngineKind {
    type Err = UnknownEngine;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "histogram" | "hist" => Ok(EngineKind::Histogram),
            "randomforest" | "random-forest" | "random_forest" => Ok(EngineKind::RandomForest),
            _ => Err(UnknownEngine(s.to_owned())),
        }
    }
}

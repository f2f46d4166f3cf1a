//! Shards: one process's share of a list of work items.

use serde::{Deserialize, Serialize};

/// `I/N`: this process handles the items (networks, subtrees, trials) whose index is `I`
/// modulo `N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 0-based shard index.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("shard '{s}' must be I/N, e.g. 0/4"))?;
        let (index, count) = (i.trim().parse::<usize>(), n.trim().parse::<usize>());
        match (index, count) {
            (Ok(index), Ok(count)) if count > 0 && index < count => Ok(Shard { index, count }),
            _ => Err(format!("shard '{s}' must be I/N with 0 <= I < N")),
        }
    }
}

impl Shard {
    /// Returns true if and only if item `index` belongs to this shard.
    pub fn owns(self, index: usize) -> bool {
        index % self.count == self.index
    }

    /// How many of the items `0..total` belong to this shard.
    pub fn owned_of(self, total: usize) -> usize {
        (total + self.count - 1 - self.index) / self.count
    }

    /// File-name suffix: `.shard-I-of-N`.
    pub fn suffix(self) -> String {
        format!(".shard-{}-of-{}", self.index, self.count)
    }
}

/// Whether item `index` belongs to `shard` (every item does when there is no shard).
pub fn owns(shard: Option<Shard>, index: usize) -> bool {
    shard.is_none_or(|s| s.owns(index))
}

/// How many of the items `0..total` belong to `shard` (all of them when there is none).
pub fn owned(shard: Option<Shard>, total: usize) -> usize {
    shard.map_or(total, |s| s.owned_of(total))
}

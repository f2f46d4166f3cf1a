/*!
The experiment layer of mipbound, shared by its front ends (the `mipbound` CLI and the Python
package): a [`Problem`] (a network and its domain, with provenance), runs that count
([`count`]; resumable and sharded through [`checkpoint`]), estimate ([`estimate`]), bound ([`catalogue`]) and describe ([`inspect`]) it,
the region stream ([`regions`]), region maps of 2-D domains ([`map`], on [`polygon`]),
local region counts in balls around points ([`local`], [`points`], [`distribution`]), and
the batch and study layer ([`batch`], [`records`],
[`study`], [`summary`]).

Every result is a plain serialisable struct whose JSON is the CLI's `--json` output. A run
reports progress through a [`Progress`] observer and stops early through a [`CancelToken`];
nothing here prints, draws progress bars or installs signal handlers.

Errors are `anyhow` errors whose `{:#}` rendering is the one-line message the CLI prints.
*/

pub mod batch;
pub mod catalogue;
pub mod charts;
pub mod checkpoint;
pub mod count;
pub mod distribution;
pub mod domains;
pub mod estimate;
pub mod files;
pub mod inspect;
pub mod limits;
pub mod local;
pub mod map;
pub mod points;
pub mod polygon;
pub mod problem;
pub mod records;
pub mod regions;
pub mod run;
pub mod shard;
pub mod study;
pub mod summary;
pub mod trial_checkpoint;

pub use problem::{NetworkSummary, Problem};
pub use run::{CancelToken, NoProgress, Progress, Run, Task, TaskProgress};

/// mipbound's version, as every result records it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

//! Integration tests of mipbound: one binary, topic modules.

mod activations;
mod bad_input;
mod bounds;
mod cli;
mod domains;
mod estimate;
mod exact;
mod formats;
mod hostile;
mod library;
mod loader_fuzz;
mod local;
mod map;
mod onnx_graphs;
mod onnx_torch;
mod oracle;
mod polytope;
mod shards;
mod study;
mod thin;
mod trial_shards;
mod trials;

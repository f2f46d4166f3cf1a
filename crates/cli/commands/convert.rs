//! `mipbound convert`: read a network in one format, write it in another.

use std::process::ExitCode;

use anyhow::Result;

use crate::args::ConvertArgs;
use mipbound_experiment::files::refuse_overwrite;

pub fn run(args: ConvertArgs) -> Result<ExitCode> {
    refuse_overwrite("--out", &args.out, &[&args.file.net])?;
    let net = args.file.load()?;
    mipbound_network::formats::save(&net, &args.out, args.to)?;
    println!("wrote {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

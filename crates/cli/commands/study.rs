//! `mipbound study CONFIG`: train a family of networks (every split `n1 + n2 = total`, N
//! networks per split), measure them with the batch, then summarise: correlations with test
//! accuracy, a per-split table and plots.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use mipbound_experiment::batch::{BatchRun, check_settings, run_batch};
use mipbound_experiment::catalogue::MilpSettings;
use mipbound_experiment::files::{refuse_overwrite, replace_file};
use mipbound_experiment::records::{read_records, results_paths};
use mipbound_experiment::study::{StudyConfig, train_members};
use mipbound_experiment::summary;

use super::EXIT_INTERRUPTED;
use crate::args::StudyArgs;
use crate::common::with_run;
use crate::plots;
use crate::report::{CsvRecords, write_json};

pub fn run(args: StudyArgs) -> Result<ExitCode> {
    let config = StudyConfig::load(&args.config)?;
    let (jsonl, csv) = results_paths(&config.out, args.shard);
    for output in [
        jsonl,
        csv,
        config.out.join("summary.md"),
        config.out.join("summary.json"),
    ] {
        refuse_overwrite(
            &format!("{}: out", args.config.display()),
            &output,
            &[&args.config],
        )?;
    }
    let members = config.members();
    if !args.summarize_only {
        let milp = MilpSettings::default();
        // Checked before hours of training, not after.
        check_settings(&config.batch, &milp)
            .with_context(|| format!("{}: [batch]", args.config.display()))?;
        let trained = train_members(&config, &members, args.shard, |m, trained| {
            eprintln!(
                "trained {} ({:.1} s, test accuracy {:.4})",
                m.path.display(),
                trained.seconds,
                trained.test_accuracy
            );
        })?;
        let nets: Vec<PathBuf> = members.iter().map(|m| m.path.clone()).collect();
        let batch = BatchRun {
            settings: &config.batch,
            milp: &milp,
            out: &config.out,
            shard: args.shard,
        };
        let mut csv = CsvRecords {
            path: results_paths(&config.out, args.shard).1,
            widths: config.batch.xor.clone(),
        };
        let outcome = with_run(args.threads, |run| run_batch(&nets, &batch, run, &mut csv))?;
        println!(
            "{}: {} networks trained, {} measured, {} already measured",
            config.name, trained, outcome.measured, outcome.skipped
        );
        if outcome.interrupted {
            println!("interrupted: rerun the same command to continue");
            return Ok(ExitCode::from(EXIT_INTERRUPTED));
        }
        if let Some(shard) = args.shard {
            println!(
                "shard {}/{} done; after every shard: mipbound merge {} --out {} && mipbound study {} --summarize-only",
                shard.index,
                shard.count,
                config.out.display(),
                config.out.display(),
                args.config.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
    }
    let (jsonl, _) = results_paths(&config.out, None);
    let records = read_records(&jsonl)?;
    if records.is_empty() {
        bail!("{}: no results to summarise", jsonl.display());
    }
    let report = summary::summarize(&config, &records);
    let markdown = summary::markdown(&config, &report);
    let md = config.out.join("summary.md");
    replace_file(&md, markdown.as_bytes())?;
    let js = config.out.join("summary.json");
    write_json(&js, &report)?;
    let written = plots::draw_all(&config, &records, &config.out.join("plots"))?;
    print!("{markdown}");
    println!(
        "\nwrote {}, {} and {} plots in {}",
        md.display(),
        js.display(),
        written,
        config.out.join("plots").display()
    );
    Ok(ExitCode::SUCCESS)
}

//! `bacpredict check`: whether an output folder holds one run's files as that run wrote
//! them, from its `manifest.json`. A run killed during its renames, a file edited or
//! replaced by hand, or files of two runs mixed, all fail the check (exit 2).

use std::fmt::Write;
use std::path::PathBuf;

use clap::Args;

use super::{Error, Notes};
use crate::report::{self, Manifest, MANIFEST};

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Output folder of `forecast`, `backtest` or `simulate`.
    #[arg(value_name = "DIR")]
    pub(crate) dir: PathBuf,
}

pub(crate) fn run(a: CheckArgs, _notes: &Notes) -> Result<String, Error> {
    let Some(manifest) = Manifest::read(&a.dir) else {
        return Err(Error::Check(format!(
            "{} has no readable {MANIFEST}: not an output folder, or a run that did not finish",
            a.dir.display()
        )));
    };
    let problems: Vec<String> = manifest
        .files
        .iter()
        .filter_map(|f| {
            let path = a.dir.join(&f.name);
            match std::fs::read(&path) {
                Err(e) => Some(format!("{}: cannot be read ({e})", path.display())),
                Ok(b) if b.len() as u64 != f.bytes || report::sha256_hex(&b) != f.sha256 => {
                    Some(format!("{}: not the file the run wrote", path.display()))
                }
                Ok(_) => None,
            }
        })
        .collect();
    if !problems.is_empty() {
        return Err(Error::Check(format!(
            "{} does not hold run {} as written:\n  - {}",
            a.dir.display(),
            manifest.run,
            problems.join("\n  - ")
        )));
    }
    let mut out = String::new();
    writeln!(
        out,
        "{}: run {} of `{}` ({}), {} files, each as written.",
        a.dir.display(),
        manifest.run,
        manifest.command,
        manifest.tool,
        manifest.files.len()
    )?;
    Ok(out)
}

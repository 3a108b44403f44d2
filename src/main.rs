//! The `bacpredict` binary: parse, run, map errors to exit codes.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use bacpredict::cmd::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let name = cli.command_name();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = cmd::run(cli, &mut out);
    let flushed = out.flush();
    match result {
        Ok(()) => match flushed {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                eprintln!("error: cannot write to stdout: {e}");
                ExitCode::from(1)
            }
            _ => ExitCode::SUCCESS,
        },
        // A reader that stopped early (`| head`) is not a failure.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.exit_code();
            let err = Err::<(), _>(e)
                .with_context(|| format!("bacpredict {name} failed"))
                .unwrap_err();
            eprintln!("error: {err:#}");
            ExitCode::from(code)
        }
    }
}

//! `bacpredict simulate`: write a synthetic académie in the input format.

use std::fmt::Write;
use std::path::PathBuf;

use clap::Args;

use super::args::within;
use super::{pct, usage, Error, Notes};
use crate::report::{CsvStyle, Outputs};
use crate::simulate::{self, SimConfig, World};

#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    /// Folder for history.csv, truth.csv, candidates.csv and choices.csv (the real
    /// choices of the candidates to forecast, for `confirm`).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// Random seed: the same seed gives the same files.
    #[arg(long, default_value_t = SimConfig::default().seed)]
    pub(crate) seed: u64,
    /// Sessions with known choices.
    #[arg(long, default_value_t = SimConfig::default().sessions)]
    pub(crate) sessions: usize,
    /// Year of the first session.
    #[arg(long, default_value_t = SimConfig::default().first_session, value_name = "YEAR")]
    pub(crate) first_session: i32,
    /// Second-group candidates per session (about).
    #[arg(long, default_value_t = SimConfig::default().candidates)]
    pub(crate) candidates: usize,
    /// Exam centres.
    #[arg(long, default_value_t = SimConfig::default().centers)]
    pub(crate) centers: usize,
    /// Share of extra candidates outside the 8-10 band, as in a full results export.
    #[arg(long, default_value_t = SimConfig::default().out_of_band, value_name = "SHARE")]
    pub(crate) out_of_band: f64,
    /// Do not write candidates.csv (the session after the history, choices unknown).
    #[arg(long)]
    pub(crate) no_forecast_session: bool,
    /// Oral days: with N > 0 the files get `day` and `half_day` columns (each centre
    /// gives each série a day, and splits a day's candidates into a morning and an
    /// afternoon alphabetically); 0 writes no slot.
    #[arg(long, default_value_t = SimConfig::default().days, value_name = "N")]
    pub(crate) days: usize,
    /// Behavioural world: baseline (the sample's), heterogeneous, rules, centers, trend
    /// or shocks (see the README, "Worlds").
    #[arg(long, value_enum, default_value = "baseline")]
    pub(crate) world: World,
    /// Write French-Excel CSV.
    #[arg(long)]
    pub(crate) excel: bool,
}

pub(crate) fn run(a: SimulateArgs, notes: &Notes) -> Result<String, Error> {
    let mut out = String::new();
    within("sessions", a.sessions, 1, 50, "sessions")?;
    within(
        "candidates",
        a.candidates,
        1,
        1_000_000,
        "candidates a session",
    )?;
    within("centers", a.centers, 1, 10_000, "centres")?;
    within("days", a.days, 0, 10, "oral days")?;
    let last = 2200 - a.sessions as i32;
    within("first-session", a.first_session, 1900, last, "a year")?;
    if !(0.0..1.0).contains(&a.out_of_band) {
        return Err(usage("--out-of-band must be a share between 0 and 1"));
    }
    let cfg = SimConfig {
        seed: a.seed,
        first_session: a.first_session,
        sessions: a.sessions,
        candidates: a.candidates,
        centers: a.centers,
        out_of_band: a.out_of_band,
        forecast_session: !a.no_forecast_session,
        days: a.days,
        world: a.world,
    };
    let pb = notes.spinner("simulating");
    let sim = simulate::simulate(&cfg);
    pb.finish_and_clear();
    let style = CsvStyle::for_excel(a.excel);
    let mut outputs = Outputs::new(&a.out, "simulate");
    outputs.add_table("history.csv", &sim.history, style);
    outputs.add_table("truth.csv", &sim.truth, style);
    if let Some(f) = &sim.forecast {
        outputs.add_table("candidates.csv", f, style);
    }
    if let Some(c) = &sim.choices {
        outputs.add_table("choices.csv", c, style);
    }
    outputs.add_table("zones.csv", &sim.zones, style);
    outputs.write(&[])?;
    let s = &sim.summary;
    let n = s.candidates.max(1) as f64;
    writeln!(
        out,
        "{} sessions, {} second-group candidates, {} rows; no-show {}, one oral {}, two orals {}",
        cfg.sessions,
        s.candidates,
        s.rows,
        pct(s.no_show as f64 / n),
        pct(s.one_oral as f64 / n),
        pct(s.two_orals as f64 / n)
    )?;
    let files: Vec<String> = outputs.paths().map(|p| p.display().to_string()).collect();
    writeln!(out, "wrote {}", files.join(", "))?;
    Ok(out)
}

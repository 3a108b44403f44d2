//! Args: the options several commands share (input, output, plan, fit), each validated
//! once into the library's option types before any file is read.
//!
//! Defaults live in the library's `Default` impls; clap shows them from there, so a
//! default is written in one place.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{usage, Error, Notes};
use crate::data::{Dataset, Slot, SlotKind, MAX_CAPACITY, MAX_MARK};
use crate::forecast::DEFAULT_INTERVAL;
use crate::input::{self, ReadOptions, Separator};
use crate::model::{FitOptions, HalfLife, MAX_HALF_LIFE, MAX_ITERATIONS};
use crate::planning::PlanOptions;
use crate::report::Lang;
use crate::shown::escape_controls;
use crate::zones::{Regroup, Zones};

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum SepArg {
    /// Detect from the header line (';' if it has more ';' than ',').
    Auto,
    Comma,
    Semicolon,
}

#[derive(Debug, Args)]
pub(crate) struct InputArgs {
    /// CSV separator of the input files.
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) separator: SepArg,
    /// Keep candidates whose first-group average (out of 20) is at least this.
    #[arg(long, default_value_t = ReadOptions::default().min_average, value_name = "MARK")]
    pub(crate) min_average: f64,
    /// Sheet to read in a spreadsheet (.xlsx, .xls, .ods) of candidates or history
    /// [default: the first]; the other spreadsheet inputs (roster, capacities,
    /// schedule, choices) are read from their first sheet.
    #[arg(long, value_name = "NAME")]
    pub(crate) sheet: Option<String>,
    /// Keep candidates whose first-group average (out of 20) is below this.
    #[arg(long, default_value_t = ReadOptions::default().max_average, value_name = "MARK")]
    pub(crate) max_average: f64,
    /// Read the candidate files' column HEADER as column NAME (repeatable), e.g.
    /// `--column grade=note_finale`, for a header none of the known names matches.
    #[arg(long, value_name = "NAME=HEADER", long_help = column_help())]
    pub(crate) column: Vec<String>,
    /// Labels that are one subject: CSV `code,alias` (one row per alias, or the aliases
    /// of a code in one field separated by `|`), case and accents ignored. Every file
    /// (history, candidates, roster, capacities, choices) and every output then uses the
    /// code. `train` warns of likely renames and gives the line to add.
    #[arg(long, value_name = "FILE")]
    pub(crate) subjects: Option<PathBuf>,
}

/// `--column`'s long help, with the names each column is known by.
fn column_help() -> String {
    format!(
        "Read the candidate files' column HEADER as column NAME (repeatable), e.g. \
         `--column grade=note_finale`. Without it, a header matches a column by its name or \
         one of these (case, accents, spaces and punctuation ignored):\n{}",
        input::aliases_help()
    )
}

#[derive(Debug, Args)]
pub(crate) struct OutputArgs {
    /// Write CSV for French Excel: ';' separator, decimal comma, UTF-8 with BOM
    /// (default: ',' and decimal point, UTF-8).
    #[arg(long)]
    pub(crate) excel: bool,
    /// Print a JSON summary on stdout instead of tables.
    #[arg(long)]
    pub(crate) json: bool,
    /// Also write bacpredict.xlsx: a summary sheet and one sheet per table, French
    /// titles, numbers as numbers (the CSV files are written all the same).
    #[arg(long)]
    pub(crate) xlsx: bool,
    /// Language of the HTML pages (plan.html, report.html); numbers as the language
    /// writes them.
    #[arg(long, value_enum, default_value = "fr")]
    pub(crate) lang: Lang,
}

/// What makes a cell and what one examiner hears in it: shared by the commands that
/// plan (`forecast`, `backtest`) and the one that confirms (`confirm`), which must read
/// the data the way the plan did.
#[derive(Debug, Args)]
pub(crate) struct CellArgs {
    #[arg(long, value_name = "CANDIDATES", help = capacity_help())]
    pub(crate) capacity: Option<usize>,
    /// CSV `subject,capacity` overriding --capacity for some subjects (same unit).
    #[arg(long, value_name = "FILE")]
    pub(crate) capacity_file: Option<PathBuf>,
    /// CSV `center,track,day[,half_day]` giving each candidate's oral slot by série, as
    /// centres set it (an empty centre: every centre). Slots in the candidate files win.
    #[arg(long, value_name = "FILE")]
    pub(crate) schedule: Option<PathBuf>,
    /// Plan over the whole oral period even when the candidates have slots.
    #[arg(long)]
    pub(crate) whole_period: bool,
    /// CSV `center,zone`: centres close enough that an examiner can go from one to
    /// another within a half-day. The plan then holds a subject's orals of a zone's
    /// centres in one of them (the one expecting the most) wherever that saves examiners
    /// (hosts.csv), shares each subject and half-day's reserve among the zone's centres
    /// and counts on idle examiners moving to a short centre of their zone. A centre not
    /// listed is a zone of its own. `confirm` reads the plan's zones from its
    /// manifest.json; given here, these replace them.
    #[arg(long, value_name = "FILE")]
    pub(crate) zones: Option<PathBuf>,
    /// With --zones: `auto` (default) regroups wherever it saves examiners, `none`
    /// nowhere, or a CSV `zone,subject,host_center` gives the office's own choice (each
    /// listed subject of the zone at its host, nothing else moved).
    /// (A file named `auto` or `none` is given as `./auto`.)
    #[arg(long, value_name = "auto|none|FILE")]
    pub(crate) regroup: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    pub(crate) cells: CellArgs,
    /// Target expected share of all orals that find a firm examiner (0-1); examiners are
    /// added where each saves the most uncovered orals until it is reached.
    #[arg(long, default_value_t = PlanOptions::default().coverage, value_name = "SHARE")]
    pub(crate) coverage: f64,
    /// Expected share of orals covered once every reserve examiner is called (0-1, at
    /// least --coverage) [default 0.999, or --coverage when higher]: the reserve is the
    /// next examiners the same rule adds, convened on call, not to come unless called.
    #[arg(long, value_name = "SHARE")]
    pub(crate) reserve_coverage: Option<f64>,
    /// Use instead the per-cell rule: in each cell, the fewest firm examiners covering
    /// the count with this probability (0-1), e.g. 0.95.
    #[arg(long, value_name = "PROBABILITY")]
    pub(crate) service_level: Option<f64>,
    /// Central probability of the printed intervals (0.9 gives 5%-95%).
    #[arg(long, default_value_t = DEFAULT_INTERVAL, value_name = "PROBABILITY")]
    pub(crate) interval: f64,
}

#[derive(Debug, Args)]
pub(crate) struct FitArgs {
    /// Half-life of a past session's weight, in sessions (e.g. 2: a session two years
    /// older counts half). Default: chosen by rolling-origin validation on the history
    /// among none (every session weighs the same), 2 and 1 (see README); with a single
    /// session, none.
    #[arg(long, value_name = "SESSIONS")]
    pub(crate) half_life: Option<f64>,
    /// Iteration budget of each optimiser; a fit that needs more is an error.
    #[arg(long, default_value_t = FitOptions::default().max_iterations, value_name = "N")]
    pub(crate) max_iterations: u64,
}

/// `--capacity`'s help, with the defaults the library uses.
fn capacity_help() -> String {
    format!(
        "Candidates one examiner hears in one cell: per half-day when the candidates have \
         half-day slots [default {}], per day with day slots [default {}], over the whole \
         oral period without slots [default {}]. An oral is 20 min of preparation then 20 \
         of interrogation, the preparation overlapping the previous candidate; a real \
         timetable calls one candidate every 30 min and leaves one call in five for \
         latecomers, about 8 a morning and 15 a day (no official figure)",
        SlotKind::HalfDay.default_capacity(),
        SlotKind::Day.default_capacity(),
        SlotKind::Period.default_capacity(),
    )
}

pub(crate) fn share(name: &str, v: f64, allow_one: bool) -> Result<f64, Error> {
    let ok = v > 0.0 && (v < 1.0 || (allow_one && v == 1.0));
    if ok {
        Ok(v)
    } else {
        Err(usage(format!(
            "--{name} must be between 0 and 1{}, got {v}",
            if allow_one {
                " (1 allowed)"
            } else {
                " (excluded)"
            }
        )))
    }
}

/// `v` if it lies within `lo..=hi` (and is a number), else a usage error naming the
/// option, its range and its unit: an option's value is never wrapped or guessed.
pub(crate) fn within<T: PartialOrd + std::fmt::Display>(
    name: &str,
    v: T,
    lo: T,
    hi: T,
    unit: &str,
) -> Result<T, Error> {
    if lo <= v && v <= hi {
        Ok(v)
    } else {
        Err(usage(format!(
            "--{name} must be between {lo} and {hi} ({unit}), got {v}"
        )))
    }
}

impl InputArgs {
    pub(crate) fn config(&self, require_chosen: bool) -> Result<ReadOptions, Error> {
        within(
            "min-average",
            self.min_average,
            0.0,
            MAX_MARK,
            "marks out of 20",
        )?;
        within(
            "max-average",
            self.max_average,
            0.0,
            MAX_MARK,
            "marks out of 20",
        )?;
        if self.min_average.partial_cmp(&self.max_average) != Some(std::cmp::Ordering::Less) {
            return Err(usage(format!(
                "--min-average ({}) must be below --max-average ({})",
                self.min_average, self.max_average
            )));
        }
        Ok(ReadOptions {
            separator: self.separator(),
            min_average: self.min_average,
            max_average: self.max_average,
            require_chosen,
            sheet: self.sheet.clone(),
            columns: self.columns_by_hand()?,
            subjects: match &self.subjects {
                Some(p) => input::read_subjects(p, self.separator())?,
                None => input::Subjects::default(),
            },
        })
    }

    /// `--column NAME=HEADER`, each checked: a column of the candidate files, a header
    /// name, each column once.
    fn columns_by_hand(&self) -> Result<Vec<(String, String)>, Error> {
        let mut out: Vec<(String, String)> = Vec::new();
        for spec in &self.column {
            let (name, header) = input::column_by_hand(spec).map_err(usage)?;
            if out.iter().any(|(n, _)| *n == name) {
                return Err(usage(format!("--column names '{name}' twice")));
            }
            out.push((name, header));
        }
        Ok(out)
    }
    pub(crate) fn separator(&self) -> Separator {
        match self.separator {
            SepArg::Auto => Separator::Auto,
            SepArg::Comma => Separator::Comma,
            SepArg::Semicolon => Separator::Semicolon,
        }
    }
}

impl CellArgs {
    /// The plan options with the capacity file's overrides, the rest as
    /// `PlanOptions::default()`; the capacity is set by [`CellArgs::apply_slots`] once
    /// the data's slots are known (the option, or the default of their unit).
    pub(crate) fn config(&self, read: &ReadOptions) -> Result<PlanOptions, Error> {
        self.check()?;
        let capacity_by_subject = match &self.capacity_file {
            Some(p) => input::read_capacities(p, read.separator)?
                .into_iter()
                .map(|(s, c)| (read.subjects.code(&s).to_string(), c))
                .collect(),
            None => BTreeMap::new(),
        };
        Ok(PlanOptions {
            capacity_by_subject,
            ..PlanOptions::default()
        })
    }

    /// The usage checks, before any file is read.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if let Some(c) = self.capacity {
            within("capacity", c, 1, MAX_CAPACITY, "candidates per examiner")?;
        }
        if self.regroup.is_some() && self.zones.is_none() {
            return Err(usage("--regroup needs --zones: the zones to regroup in"));
        }
        Ok(())
    }

    /// The office's regrouping file, when `--regroup` names one.
    fn regroup_file(&self) -> Option<&PathBuf> {
        self.regroup
            .as_ref()
            .filter(|p| p.as_os_str() != "auto" && p.as_os_str() != "none")
    }

    /// The slots the plan uses: the files' or the schedule's, or none with
    /// `--whole-period`; and the default capacity of their unit when none was given.
    pub(crate) fn apply_slots(
        &self,
        data: &mut Dataset,
        opts: &mut PlanOptions,
        sep: Separator,
    ) -> Result<(), Error> {
        if let Some(path) = &self.schedule {
            let rules = input::read_schedule(path, sep)?;
            input::apply_schedule(data, &rules, path)?;
        }
        if self.whole_period {
            data.candidates
                .iter_mut()
                .for_each(|c| c.slot = Slot::PERIOD);
            data.days.clear();
        }
        opts.capacity = self.capacity.unwrap_or(data.slot_kind().default_capacity());
        Ok(())
    }

    /// The input files these options name.
    pub(crate) fn inputs(&self) -> impl Iterator<Item = &PathBuf> {
        let regroup = self.regroup_file();
        [&self.capacity_file, &self.schedule, &self.zones]
            .into_iter()
            .flatten()
            .chain(regroup)
    }

    /// The zones of `--zones` for `data`'s centres, saying which centres the file does
    /// not list (each then a zone of its own) and which it lists that `data` lacks.
    pub(crate) fn zones(
        &self,
        data: &Dataset,
        sep: Separator,
        notes: &Notes,
    ) -> Result<Option<Zones>, Error> {
        let Some(path) = &self.zones else {
            return Ok(None);
        };
        let table = input::read_zones(path, sep)?;
        let (mut zones, unlisted) = Zones::of(&table, data);
        zones.regroup = match (self.regroup_file(), self.regroup.as_deref()) {
            (None, Some(p)) if p.as_os_str() == "none" => Regroup::None,
            (None, _) => Regroup::Auto,
            (Some(file), _) => {
                let rows = input::read_regroup(file, sep, &table, data)?;
                // read_regroup checked every name against `data`.
                let id = |found: Option<u32>| found.expect("a name read_regroup checked");
                Regroup::Chosen(
                    rows.iter()
                        .map(|[_, s, h]| (id(data.subject_id(s)), id(data.center_id(h))))
                        .collect(),
                )
            }
        };
        let list = |names: &[String]| {
            let shown: Vec<String> = names
                .iter()
                .take(5)
                .map(|n| escape_controls(n, 60))
                .collect();
            let more = names.len().saturating_sub(5);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("{}{more}", shown.join(", "))
        };
        if !unlisted.centers.is_empty() {
            notes.warn(&format!(
                "{}: {} centres in no zone, each a zone of its own: {}",
                path.display(),
                unlisted.centers.len(),
                list(&unlisted.centers)
            ));
        }
        if !unlisted.unknown.is_empty() {
            notes.say(&format!(
                "{}: {} centres the candidates do not have, ignored: {}",
                path.display(),
                unlisted.unknown.len(),
                list(&unlisted.unknown)
            ));
        }
        Ok(Some(zones))
    }
}

impl PlanArgs {
    pub(crate) fn config(&self, read: &ReadOptions) -> Result<(PlanOptions, f64), Error> {
        self.cells.check()?;
        let coverage = share("coverage", self.coverage, true)?;
        let reserve_coverage = match self.reserve_coverage {
            Some(q) => share("reserve-coverage", q, true)?,
            None => PlanOptions::default().reserve_coverage.max(coverage),
        };
        if reserve_coverage < coverage {
            return Err(usage(format!(
                "--reserve-coverage ({reserve_coverage}) must be at least --coverage ({coverage})"
            )));
        }
        let service_level = match self.service_level {
            Some(q) => Some(share("service-level", q, false)?),
            None => None,
        };
        let interval = share("interval", self.interval, false)?;
        // The capacity file last, as before: usage errors come before reading.
        let cells = self.cells.config(read)?;
        Ok((
            PlanOptions {
                coverage,
                service_level,
                reserve_coverage,
                ..cells
            },
            interval,
        ))
    }
}

impl FitArgs {
    pub(crate) fn config(&self) -> Result<FitOptions, Error> {
        if let Some(h) = self.half_life {
            if h <= 0.0 {
                return Err(usage(format!(
                    "--half-life must be a positive number of sessions, got {h}"
                )));
            }
            within("half-life", h, 0.0, MAX_HALF_LIFE, "sessions")?;
        }
        within(
            "max-iterations",
            self.max_iterations,
            1,
            MAX_ITERATIONS,
            "iterations",
        )?;
        Ok(FitOptions {
            half_life: self.half_life.map_or(HalfLife::Choose, HalfLife::Fixed),
            max_iterations: self.max_iterations,
            ..FitOptions::default()
        })
    }
}

//! Tables: the small inputs beside the candidate files (the examiner roster, the
//! per-subject capacities, the simulator's true probabilities), read with the same
//! encoding, separator and problem rules.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::chunks::{MAX_ID_CHARS, MAX_NAME_CHARS};
use super::header::{header_line, match_header, without_title, Wanted};
use super::problems::{InputError, Problems};
use super::text::{csv_reader, parse_number, read_text, HALF_DAY_EXPECTED};
use super::Separator;
use crate::data::{Dataset, HalfDay, RosterEntry, Slot, MAX_CAPACITY};

/// The `unavailable` column: `;`-separated days, each alone (the whole day) or followed
/// by a half-day (`2026-07-07 am`, `2026-07-07 après-midi`). A day is any label, as in
/// the candidates' `day` column.
fn parse_unavailable(text: &str) -> Vec<(String, Option<HalfDay>)> {
    text.split(';')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(
            |t| match t.rsplit_once(' ').map(|(d, h)| (d, HalfDay::parse(h))) {
                Some((day, Some(half))) => (day.trim().to_string(), Some(half)),
                _ => (t.to_string(), None),
            },
        )
        .collect()
}

/// Reads a small table (roster, capacities): the rows as (line, fields in `columns`
/// order), with the same encoding and separator rules as the candidate files. Columns
/// after `required` are optional and read as empty when absent. A reader binds the
/// fields to names in the order of its `columns` (`let [subject, capacity] = fields`),
/// so the compiler checks that it reads as many as it names, wherever the file puts them.
pub(crate) fn read_small_table<const N: usize>(
    path: &Path,
    separator: Separator,
    columns: &[&str; N],
    required: usize,
    problems: &mut Problems,
) -> Vec<(u64, [String; N])> {
    let Some((text, sheet)) = read_text(path, problems, None) else {
        return Vec::new();
    };
    let separator = if sheet { Separator::Comma } else { separator };
    let line = header_line(&text);
    let text = without_title(&text, line);
    let (mut rdr, sep) = csv_reader(&text, separator);
    let header = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.push(path, 1, "", "", &format!("a CSV header row ({e})"));
            return Vec::new();
        }
    };
    let wanted = Wanted {
        columns,
        required,
        by_hand: None,
    };
    let Some(matched) = match_header(&header, &wanted, (sep, line as u64), path, problems) else {
        return Vec::new();
    };
    let idx = matched.positions;
    let mut out = Vec::new();
    for rec in rdr.records() {
        match rec {
            Ok(r) => {
                if r.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                let line = r.position().map(|p| p.line()).unwrap_or(0);
                let fields = std::array::from_fn(|k| {
                    idx[k]
                        .and_then(|i| r.get(i))
                        .unwrap_or("")
                        .trim()
                        .to_string()
                });
                out.push((line, fields));
            }
            Err(e) => {
                problems.push(path, 0, "", "", &format!("a well-formed CSV row ({e})"));
                break;
            }
        }
    }
    out
}

pub(crate) fn into_result<T>(value: T, problems: Problems) -> Result<T, InputError> {
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(problems.into_error())
    }
}

/// Reads a roster: `examiner_id,name,subject,center[,priority]`.
pub(crate) fn read_roster(
    path: &Path,
    separator: Separator,
) -> Result<Vec<RosterEntry>, InputError> {
    let cols = [
        "examiner_id",
        "name",
        "subject",
        "center",
        "priority",
        "unavailable",
    ];
    let mut problems = Problems::default();
    let rows = read_small_table(path, separator, &cols, 4, &mut problems);
    let mut out = Vec::new();
    let mut seen: HashMap<(String, String, String), u64> = HashMap::new();
    for (line, f) in rows {
        let [examiner_id, name, subject, center, priority, unavailable] = f;
        if examiner_id.is_empty() {
            problems.push(path, line, "examiner_id", "", "a non-empty examiner id");
            continue;
        }
        if examiner_id.chars().count() > MAX_ID_CHARS || name.chars().count() > MAX_NAME_CHARS {
            let expected = format!(
                "an id of at most {MAX_ID_CHARS} and a name of at most {MAX_NAME_CHARS} characters"
            );
            problems.push(path, line, "examiner_id", "", &expected);
            continue;
        }
        if subject.is_empty() {
            problems.push(
                path,
                line,
                "subject",
                "",
                "the subject code the examiner can hear",
            );
            continue;
        }
        let priority = if priority.is_empty() {
            i64::MAX
        } else {
            match priority.parse::<i64>() {
                Ok(p) => p,
                Err(_) => {
                    problems.push(
                        path,
                        line,
                        "priority",
                        &priority,
                        "a whole number (lower is summoned first) or nothing",
                    );
                    continue;
                }
            }
        };
        let key = (examiner_id.clone(), subject.clone(), center.clone());
        if let Some(first) = seen.insert(key, line) {
            problems.push(
                path,
                line,
                "examiner_id",
                &examiner_id,
                &format!("each examiner once per subject and centre (already at line {first})"),
            );
            continue;
        }
        let unavailable = parse_unavailable(&unavailable);
        out.push(RosterEntry {
            examiner_id: examiner_id.clone(),
            name: name.clone(),
            subject: subject.clone(),
            center: center.clone(),
            priority,
            unavailable,
        });
    }
    into_result(out, problems)
}

/// Reads per-subject capacities: `subject,capacity`.
pub(crate) fn read_capacities(
    path: &Path,
    separator: Separator,
) -> Result<BTreeMap<String, usize>, InputError> {
    let mut problems = Problems::default();
    let rows = read_small_table(path, separator, &["subject", "capacity"], 2, &mut problems);
    let mut out = BTreeMap::new();
    for (line, f) in rows {
        let [subject, capacity] = f;
        match capacity.parse::<usize>() {
            Ok(c) if (1..=MAX_CAPACITY).contains(&c) && !subject.is_empty() => {
                if out.insert(subject.clone(), c).is_some() {
                    problems.push(path, line, "subject", &subject, "each subject once");
                }
            }
            _ => problems.push(
                path,
                line,
                "capacity",
                &capacity,
                "a whole number of candidates per examiner, from 1 to 1000",
            ),
        }
    }
    into_result(out, problems)
}

/// Reads a zones file: `center,zone`, the centres close enough to share a subject's
/// orals (see `zones.rs`). A centre listed twice in one zone is read once; in two zones
/// it is a problem, as are an empty name and a name too long to be one.
pub(crate) fn read_zones(
    path: &Path,
    separator: Separator,
) -> Result<BTreeMap<String, String>, InputError> {
    let mut problems = Problems::default();
    let rows = read_small_table(path, separator, &["center", "zone"], 2, &mut problems);
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (line, f) in rows {
        let [center, zone] = f;
        let bad = |v: &str| v.is_empty() || v.chars().count() > MAX_NAME_CHARS;
        if bad(&center) {
            problems.push(path, line, "center", &center, "a centre's name");
        } else if bad(&zone) {
            problems.push(path, line, "zone", &zone, "a zone's name");
        } else if let Some(before) = out.get(&center).filter(|z| **z != zone) {
            let before = crate::shown::escape_controls(before, 40);
            let expected = format!("one zone per centre (it is in {before} above)");
            problems.push(path, line, "zone", &zone, &expected);
        } else {
            out.insert(center, zone);
        }
    }
    into_result(out, problems)
}

/// Reads a regrouping chosen by the office (`--regroup FILE`): `zone,subject,host_center`,
/// each (zone, subject)'s orals held at the host. A zone the zones file does not name, a
/// host that is not one of the zone's centres or not a centre of the candidates, a
/// subject the candidates cannot take, and a (zone, subject) given twice are problems.
pub(crate) fn read_regroup(
    path: &Path,
    separator: Separator,
    zone_of: &BTreeMap<String, String>,
    data: &Dataset,
) -> Result<Vec<[String; 3]>, InputError> {
    let mut problems = Problems::default();
    let cols = ["zone", "subject", "host_center"];
    let rows = read_small_table(path, separator, &cols, 3, &mut problems);
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (line, f) in rows {
        let [zone, subject, host] = f;
        let problem = if !zone_of.values().any(|z| *z == zone) {
            Some(("zone", &zone, "a zone of the zones file".to_string()))
        } else if data.subject_id(&subject).is_none() {
            Some((
                "subject",
                &subject,
                "a subject the candidates can take".to_string(),
            ))
        } else if zone_of.get(&host) != Some(&zone) || data.center_id(&host).is_none() {
            let zone = crate::shown::escape_controls(&zone, 40);
            Some((
                "host_center",
                &host,
                format!("a centre of the candidates in zone {zone}"),
            ))
        } else if !seen.insert((zone.clone(), subject.clone())) {
            Some(("subject", &subject, "each (zone, subject) once".to_string()))
        } else {
            None
        };
        match problem {
            Some((column, value, expected)) => problems.push(path, line, column, value, &expected),
            None => out.push([zone, subject, host]),
        }
    }
    into_result(out, problems)
}

/// The simulator's true probabilities by (session, candidate id, subject).
pub(crate) type Truth = HashMap<(i32, String, String), f64>;

/// Reads the simulator's true probabilities: `session,candidate_id,subject,probability`.
pub(crate) fn read_truth(path: &Path, separator: Separator) -> Result<Truth, InputError> {
    let cols = ["session", "candidate_id", "subject", "probability"];
    let mut problems = Problems::default();
    let rows = read_small_table(path, separator, &cols, 4, &mut problems);
    let mut out = HashMap::new();
    for (line, f) in rows {
        let [session, candidate_id, subject, probability] = f;
        let s = session.parse::<i32>();
        let p = parse_number(&probability).filter(|p| (0.0..=1.0).contains(p));
        match (s, p) {
            (Ok(s), Some(p)) => {
                out.insert((s, candidate_id.clone(), subject.clone()), p);
            }
            (Err(_), _) => problems.push(path, line, "session", &session, "a session year"),
            (_, None) => problems.push(
                path,
                line,
                "probability",
                &probability,
                "a probability between 0 and 1",
            ),
        }
    }
    into_result(out, problems)
}

/// One rule of a schedule: the candidates of `track` at `center` (every centre when
/// empty) take their orals on `day`, in `half` when given.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScheduleRule {
    pub(crate) center: String,
    pub(crate) track: String,
    pub(crate) day: String,
    pub(crate) half: Option<HalfDay>,
    line: u64,
}

/// Reads a schedule: `center,track,day[,half_day]`, as centres set it (by série).
pub(crate) fn read_schedule(
    path: &Path,
    separator: Separator,
) -> Result<Vec<ScheduleRule>, InputError> {
    let cols = ["center", "track", "day", "half_day"];
    let mut problems = Problems::default();
    let rows = read_small_table(path, separator, &cols, 3, &mut problems);
    let mut out: Vec<ScheduleRule> = Vec::new();
    for (line, f) in rows {
        let [center, track, day, half_day] = f;
        let half = match half_day.as_str() {
            "" => None,
            v => match HalfDay::parse(v) {
                Some(h) => Some(h),
                None => {
                    problems.push(path, line, "half_day", v, HALF_DAY_EXPECTED);
                    continue;
                }
            },
        };
        if track.is_empty() || day.is_empty() {
            problems.push(
                path,
                line,
                "track",
                &track,
                "a track and a day on every rule",
            );
            continue;
        }
        if let Some(r) = out.iter().find(|r| r.center == center && r.track == track) {
            let expected = format!("one rule per centre and track (already at line {})", r.line);
            problems.push(path, line, "track", &track, &expected);
            continue;
        }
        out.push(ScheduleRule {
            center: center.clone(),
            track: track.clone(),
            day: day.clone(),
            half,
            line,
        });
    }
    if out.iter().any(|r| r.half.is_some()) && out.iter().any(|r| r.half.is_none()) {
        problems.push(
            path,
            0,
            "half_day",
            "",
            "a half-day on every rule or on none",
        );
    }
    into_result(out, problems)
}

/// Gives each candidate the slot of its schedule rule (a rule naming its centre first,
/// then one for every centre). A file whose rows carry slots keeps them: its columns win.
/// A candidate no rule matches is a problem naming its centre and track.
pub(crate) fn apply_schedule(
    data: &mut Dataset,
    rules: &[ScheduleRule],
    path: &Path,
) -> Result<(), InputError> {
    if data.candidates.iter().any(|c| c.slot != Slot::PERIOD) {
        return Ok(());
    }
    let mut days: Vec<String> = rules.iter().map(|r| r.day.clone()).collect();
    days.sort_unstable();
    days.dedup();
    let mut problems = Problems::default();
    let mut unmatched: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    for c in data.candidates.iter_mut() {
        let (center, track) = (
            &data.centers[c.center as usize],
            &data.tracks[c.track as usize],
        );
        let rule = rules
            .iter()
            .find(|r| r.center == *center && r.track == *track)
            .or_else(|| {
                rules
                    .iter()
                    .find(|r| r.center.is_empty() && r.track == *track)
            });
        match rule {
            Some(r) => {
                let day = days.binary_search(&r.day).expect("a day of the rules") as u32;
                c.slot = Slot::on(day, r.half);
            }
            None => *unmatched.entry((c.center, c.track)).or_default() += 1,
        }
    }
    for ((center, track), n) in unmatched {
        let value = format!(
            "{} / {}",
            data.centers[center as usize], data.tracks[track as usize]
        );
        let expected = format!("a rule for this centre and track ({n} candidates have no slot)");
        problems.push(path, 0, "track", &value, &expected);
    }
    data.days = days;
    into_result((), problems)
}

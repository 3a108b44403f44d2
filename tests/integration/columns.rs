//! Columns are read by name: every input kind with its columns in reverse order gives
//! the same outputs, byte for byte, as the files as written.

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::*;

/// `src` written to `dst` with its columns in reverse order (quotes kept where needed).
fn reversed(src: &Path, dst: &Path) {
    let mut r = csv::Reader::from_path(src).unwrap();
    let mut w = csv::Writer::from_path(dst).unwrap();
    let header: Vec<String> = r
        .headers()
        .unwrap()
        .iter()
        .rev()
        .map(String::from)
        .collect();
    w.write_record(&header).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        w.write_record(rec.iter().rev()).unwrap();
    }
    w.flush().unwrap();
}

/// `src` written to `dst` without the columns named in `drop`.
fn without(src: &Path, dst: &Path, drop: &[&str]) {
    let mut r = csv::Reader::from_path(src).unwrap();
    let mut w = csv::Writer::from_path(dst).unwrap();
    let keep: Vec<usize> = (0..r.headers().unwrap().len())
        .filter(|&i| !drop.contains(&&r.headers().unwrap()[i]))
        .collect();
    let h = r.headers().unwrap().clone();
    w.write_record(keep.iter().map(|&i| &h[i])).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        w.write_record(keep.iter().map(|&i| &rec[i])).unwrap();
    }
    w.flush().unwrap();
}

/// Every input kind of the tool, written by hand or by `simulate`, in `dir`.
fn inputs(dir: &Path) {
    ok(
        dir,
        &[
            "simulate",
            "--out",
            "sim",
            "--candidates",
            "250",
            "--centers",
            "3",
            "--sessions",
            "3",
            "--seed",
            "13",
            "--days",
            "2",
            "-q",
        ],
    );
    let history = read_csv(&dir.join("sim/history.csv"));
    let last = history.iter().map(|r| r["session"].clone()).max().unwrap();
    let header = [
        "session",
        "candidate_id",
        "center",
        "track",
        "average",
        "subject",
    ];
    let header: Vec<&str> = header
        .into_iter()
        .chain(["coefficient", "grade", "chosen", "day", "half_day"])
        .collect();
    let mut past = csv::Writer::from_path(dir.join("past.csv")).unwrap();
    let mut now = csv::Writer::from_path(dir.join("last.csv")).unwrap();
    let mut choices = csv::Writer::from_path(dir.join("choices.csv")).unwrap();
    past.write_record(&header).unwrap();
    now.write_record(&header).unwrap();
    choices.write_record(["candidate_id", "subject"]).unwrap();
    let (mut schedule, mut pairs) = (BTreeSet::new(), BTreeSet::new());
    for r in &history {
        let row: Vec<&str> = header.iter().map(|h| r[*h].as_str()).collect();
        if r["session"] != last {
            past.write_record(&row).unwrap();
            continue;
        }
        if r["chosen"] == "1" {
            choices
                .write_record([&r["candidate_id"], &r["subject"]])
                .unwrap();
        }
        let mut row = row;
        row[8] = "";
        now.write_record(&row).unwrap();
        schedule.insert((
            r["center"].clone(),
            r["track"].clone(),
            r["day"].clone(),
            r["half_day"].clone(),
        ));
        pairs.insert((r["center"].clone(), r["subject"].clone()));
    }
    for w in [&mut past, &mut now, &mut choices] {
        w.flush().unwrap();
    }
    // The schedule keeps one slot per centre and track (the first in sorted order).
    let mut sched = csv::Writer::from_path(dir.join("schedule.csv")).unwrap();
    sched
        .write_record(["center", "track", "day", "half_day"])
        .unwrap();
    let mut seen = BTreeSet::new();
    for (c, t, d, h) in &schedule {
        if seen.insert((c, t)) {
            sched.write_record([c, t, d, h]).unwrap();
        }
    }
    sched.flush().unwrap();
    let mut roster = csv::Writer::from_path(dir.join("roster.csv")).unwrap();
    roster
        .write_record([
            "examiner_id",
            "name",
            "subject",
            "center",
            "priority",
            "unavailable",
        ])
        .unwrap();
    for (k, (c, s)) in pairs.iter().enumerate() {
        for j in 0..3 {
            let (id, p) = (format!("E{k}-{j}"), (j % 2).to_string());
            roster
                .write_record([id.as_str(), "N", s, c, &p, ""])
                .unwrap();
        }
    }
    roster.flush().unwrap();
    let subjects: Vec<&String> = pairs.iter().map(|(_, s)| s).take(2).collect();
    std::fs::write(
        dir.join("capacities.csv"),
        format!("subject,capacity\n{},5\n", subjects[0]),
    )
    .unwrap();
    std::fs::write(
        dir.join("durations.csv"),
        format!("subject,preparation,oral\n{},30,25\n", subjects[1]),
    )
    .unwrap();
    without(
        &dir.join("last.csv"),
        &dir.join("noslot.csv"),
        &["day", "half_day"],
    );
    std::fs::copy(dir.join("sim/history.csv"), dir.join("history.csv")).unwrap();
    std::fs::copy(dir.join("sim/truth.csv"), dir.join("truth.csv")).unwrap();
}

/// Every command on the inputs in `dir` (the summons of its own plan); the outputs, and
/// what each command printed, are written in `dir` too.
fn commands(dir: &Path, reverse_summons: bool) {
    let runs: [&[&str]; 4] = [
        &["train", "--history", "past.csv", "--model", "m.json"],
        &[
            "forecast",
            "--model",
            "m.json",
            "--candidates",
            "last.csv",
            "--roster",
            "roster.csv",
            "--capacity-file",
            "capacities.csv",
            "--coverage",
            "0.95",
            "--out",
            "plan",
            "--xlsx",
        ],
        &[
            "forecast",
            "--model",
            "m.json",
            "--candidates",
            "noslot.csv",
            "--schedule",
            "schedule.csv",
            "--out",
            "scheduled",
        ],
        &[
            "backtest",
            "--history",
            "history.csv",
            "--oracle",
            "truth.csv",
            "--out",
            "bt",
        ],
    ];
    for (i, args) in runs.iter().enumerate() {
        std::fs::write(dir.join(format!("stdout-{i}.txt")), ok(dir, args)).unwrap();
    }
    if reverse_summons {
        reversed(&dir.join("plan/summons.csv"), &dir.join("summons.csv"));
    } else {
        std::fs::copy(dir.join("plan/summons.csv"), dir.join("summons.csv")).unwrap();
    }
    let confirm = [
        "confirm",
        "--candidates",
        "last.csv",
        "--choices",
        "choices.csv",
        "--summons",
        "summons.csv",
        "--durations",
        "durations.csv",
        "--capacity-file",
        "capacities.csv",
        "--out",
        "day",
    ];
    std::fs::write(dir.join("stdout-confirm.txt"), ok(dir, &confirm)).unwrap();
}

/// Every file below `dir`, by path relative to it.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_input_with_its_columns_reversed_gives_the_same_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("as-written"), tmp.path().join("reversed"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    inputs(&a);
    let kinds = [
        "past.csv",
        "last.csv",
        "noslot.csv",
        "history.csv",
        "truth.csv",
        "roster.csv",
        "capacities.csv",
        "schedule.csv",
        "choices.csv",
        "durations.csv",
    ];
    for name in kinds {
        reversed(&a.join(name), &b.join(name));
        assert_ne!(header(&a.join(name)), header(&b.join(name)), "{name}");
    }
    commands(&a, false);
    commands(&b, true);
    let outputs: Vec<String> = files(&a)
        .into_iter()
        .filter(|f| !kinds.contains(&f.as_str()) && f != "summons.csv" && !f.starts_with("sim"))
        .collect();
    assert!(outputs.len() > 20, "{outputs:?}");
    for f in &outputs {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(x == y, "{f} differs when the inputs' columns are reversed");
    }
}

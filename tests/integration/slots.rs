//! Slots: days and half-days read from the files or a schedule, plans and convocations
//! per slot with firm and reserve examiners, and backtests per slot.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use crate::util::*;

const HEADER: &str =
    "session,candidate_id,center,track,average,subject,coefficient,grade,chosen,day,half_day";

/// A small académie with two oral days, trained once.
fn slotted(dir: &Path) {
    ok(
        dir,
        &[
            "simulate",
            "--out",
            "sim",
            "--candidates",
            "400",
            "--centers",
            "3",
            "--sessions",
            "4",
            "--seed",
            "11",
            "--days",
            "2",
            "-q",
        ],
    );
    ok(
        dir,
        &[
            "train",
            "--history",
            "sim/history.csv",
            "--model",
            "m.json",
            "-q",
        ],
    );
}

#[test]
fn slot_columns_must_agree_within_a_candidate_and_be_all_or_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let m = repo_file("models/sample.json").display().to_string();
    let cases = [
        (
            "2026,A,C,GENERALE,9,SES,16,8,,2026-07-07,am\n2026,A,C,GENERALE,9,HLP,16,8,,2026-07-08,am\n",
            "line 3, column 'day'",
            "the same day and half-day as this candidate's first row",
        ),
        (
            "2026,A,C,GENERALE,9,SES,16,8,,,am\n",
            "column 'half_day'",
            "a half-day only with its day",
        ),
        (
            "2026,A,C,GENERALE,9,SES,16,8,,2026-07-07,soir\n",
            "column 'half_day': value 'soir'",
            "am or pm",
        ),
        (
            "2026,A,C,GENERALE,9,SES,16,8,,2026-07-07,am\n2026,B,C,GENERALE,9,SES,16,8,,,\n",
            "line 3, column 'day'",
            "a day for every candidate or for none (1 of 2 candidates have one)",
        ),
    ];
    for (rows, at, expected) in cases {
        std::fs::write(dir.join("c.csv"), format!("{HEADER}\n{rows}")).unwrap();
        let o = run(dir, &forecast_args(&m, "c.csv", "o", &[]));
        assert_eq!(o.status.code(), Some(2), "{rows}");
        let e = stderr(&o);
        assert!(e.contains(at) && e.contains(expected), "{rows}: {e}");
    }
    // French labels are half-days too.
    let rows = "2026,A,C,GENERALE,9,SES,16,8,,2026-07-07,Matin\n2026,A,C,GENERALE,9,HLP,16,8,,2026-07-07,MATIN\n2026,B,C,GENERALE,9,SES,16,8,,2026-07-07,après-midi\n";
    std::fs::write(dir.join("c.csv"), format!("{HEADER}\n{rows}")).unwrap();
    ok(
        dir,
        &forecast_args(&m, "c.csv", "o", &["-q", "--allow-unseen"]),
    );
    let conv = read_csv(&dir.join("o/convocations.csv"));
    let halves: HashSet<&str> = conv.iter().map(|r| r["half_day"].as_str()).collect();
    assert_eq!(halves, HashSet::from(["am", "pm"]));
    assert!(
        conv.iter().all(|r| r["capacity"] == "8"),
        "half-day default capacity"
    );
}

#[test]
fn a_schedule_gives_slots_by_centre_and_track_and_names_what_it_misses() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let m = repo_file("models/sample.json").display().to_string();
    let rows =
        "2026,A,C1,GENERALE,9,SES,16,8,\n2026,B,C1,STMG,9,SES,16,8,\n2026,D,C2,STMG,9,SES,16,8,\n";
    let head = HEADER.trim_end_matches(",day,half_day");
    std::fs::write(dir.join("c.csv"), format!("{head}\n{rows}")).unwrap();
    std::fs::write(
        dir.join("s.csv"),
        "center,track,day\nC1,GENERALE,J1\n,STMG,J2\n",
    )
    .unwrap();
    let base = [
        "forecast",
        "--model",
        &m,
        "--candidates",
        "c.csv",
        "--out",
        "o",
        "-q",
        "--allow-unseen",
    ];
    let args: Vec<&str> = base
        .iter()
        .copied()
        .chain(["--schedule", "s.csv"])
        .collect();
    ok(dir, &args);
    let conv = read_csv(&dir.join("o/convocations.csv"));
    let got: BTreeMap<(String, String), String> = conv
        .iter()
        .map(|r| {
            (
                (r["center"].clone(), r["day"].clone()),
                r["capacity"].clone(),
            )
        })
        .collect();
    // Day slots without half-days: capacity per day.
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        [
            ("C1".into(), "J1".into()),
            ("C1".into(), "J2".into()),
            ("C2".into(), "J2".into())
        ]
    );
    assert!(got.values().all(|c| c == "15"));
    // A track no rule covers is named with its centre.
    std::fs::write(dir.join("s.csv"), "center,track,day\n,GENERALE,J1\n").unwrap();
    let o = run(dir, &args);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("'C1 / STMG'") && e.contains("'C2 / STMG'"),
        "{e}"
    );
}

#[test]
fn plans_and_convocations_per_slot_with_firm_and_reserve_examiners() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    slotted(dir);
    let forecast = |out: &str| {
        ok(
            dir,
            &forecast_args(
                "m.json",
                "sim/candidates.csv",
                out,
                &["--roster", "roster.csv", "-q"],
            ),
        )
    };
    // A roster of two local examiners per centre and subject, for every half-day.
    let conv = {
        ok(
            dir,
            &forecast_args("m.json", "sim/candidates.csv", "p", &["-q"]),
        );
        read_csv(&dir.join("p/convocations.csv"))
    };
    let mut roster = String::from("examiner_id,name,subject,center\n");
    let cells: HashSet<(&str, &str)> = conv
        .iter()
        .map(|r| (r["center"].as_str(), r["subject"].as_str()))
        .collect();
    for (k, (c, s)) in cells.iter().enumerate() {
        for j in 0..2 {
            roster.push_str(&format!("E{k}_{j},N,{s},\"{c}\"\n"));
        }
    }
    std::fs::write(dir.join("roster.csv"), roster).unwrap();
    let text = forecast("a");
    assert!(
        text.contains("firm examiners") && text.contains("Reserve:"),
        "{text}"
    );
    let conv = read_csv(&dir.join("a/convocations.csv"));
    assert!(conv
        .iter()
        .all(|r| !r["day"].is_empty() && !r["half_day"].is_empty()));
    let reserve: usize = conv
        .iter()
        .map(|r| r["reserve"].parse::<usize>().unwrap())
        .sum();
    assert!(reserve > 0, "a 99.9% reserve target adds examiners");
    let summons = read_csv(&dir.join("a/summons.csv"));
    let mut per_half_day = HashSet::new();
    for s in &summons {
        assert!(matches!(s["role"].as_str(), "firm" | "reserve"));
        let key = (
            s["examiner_id"].clone(),
            s["day"].clone(),
            s["half_day"].clone(),
        );
        assert!(
            per_half_day.insert(key),
            "an examiner twice in one half-day: {s:?}"
        );
    }
    // Each cell gets its firm then its reserve examiners, within the roster's means.
    for c in &conv {
        let of = |role: &str| {
            summons
                .iter()
                .filter(|s| {
                    s["center"] == c["center"]
                        && s["subject"] == c["subject"]
                        && s["day"] == c["day"]
                        && s["half_day"] == c["half_day"]
                        && s["role"] == role
                })
                .count()
        };
        let firm: usize = c["examiners"].parse().unwrap();
        assert_eq!(of("firm"), firm.min(2), "{c:?}");
    }
    // The same inputs give the same bytes.
    forecast("b");
    for f in [
        "convocations.csv",
        "summons.csv",
        "shortages.csv",
        "by_center.csv",
        "manifest.json",
    ] {
        let (x, y) = (
            std::fs::read(dir.join("a").join(f)),
            std::fs::read(dir.join("b").join(f)),
        );
        assert_eq!(x.unwrap(), y.unwrap(), "{f}");
    }
}

#[test]
fn backtest_scores_each_slot_with_its_reserve() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    slotted(dir);
    let json = ok(
        dir,
        &[
            "backtest",
            "--history",
            "sim/history.csv",
            "--out",
            "bt",
            "--json",
            "-q",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let cells = read_csv(&dir.join("bt/cells.csv"));
    assert!(cells
        .iter()
        .all(|r| !r["day"].is_empty() && !r["half_day"].is_empty()));
    let f = |r: &BTreeMap<String, String>, k: &str| r[k].parse::<f64>().unwrap();
    let needed: f64 = cells.iter().map(|r| (f(r, "actual") / 8.0).ceil()).sum();
    assert_eq!(
        v["needed"].as_f64().unwrap(),
        needed,
        "needed = ceil(actual / 8) per slot"
    );
    let html = std::fs::read_to_string(dir.join("bt/report.html")).unwrap();
    assert!(html.contains("Par jour et demi-journée"));
    // --whole-period plans over the period, as without slots.
    ok(
        dir,
        &[
            "backtest",
            "--history",
            "sim/history.csv",
            "--out",
            "wp",
            "--whole-period",
            "-q",
        ],
    );
    let cells = read_csv(&dir.join("wp/cells.csv"));
    assert!(cells.iter().all(|r| r["day"].is_empty()));
}

//! A real office's files (issue 19): small académies, absent marks, French headers with a
//! title line, renamed subjects, a model from elsewhere, a plan's own settings on results
//! day, hand-edited summons.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::{ok, run, stderr};

/// The bundled sample's history, one entry per (session, candidate) with its rows, in file
/// order.
fn sample_history() -> (csv::StringRecord, Vec<Vec<csv::StringRecord>>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample/history.csv");
    let mut r = csv::Reader::from_path(path).expect("sample history");
    let header = r.headers().expect("header").clone();
    let mut by: BTreeMap<(String, String), Vec<csv::StringRecord>> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.expect("row");
        by.entry((rec[0].to_string(), rec[1].to_string()))
            .or_default()
            .push(rec);
    }
    (header, by.into_values().collect())
}

fn write_history(path: &Path, header: &csv::StringRecord, cands: &[&Vec<csv::StringRecord>]) {
    let mut w = csv::Writer::from_path(path).expect("write");
    w.write_record(header).expect("header");
    for rows in cands {
        for r in rows.iter() {
            w.write_record(r).expect("row");
        }
    }
    w.flush().expect("flush");
}

/// `n` of `pool` picked by a small linear congruential generator seeded with `seed`.
fn draw<'a, T>(pool: &[&'a T], n: usize, seed: u64) -> Vec<&'a T> {
    let mut left: Vec<&T> = pool.to_vec();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = Vec::new();
    while out.len() < n && !left.is_empty() {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push(left.remove((x >> 33) as usize % left.len()));
    }
    out
}

/// Small académies: histories of 20, 50 and 100 candidates drawn from the sample from one
/// centre, from one session and from all sessions always give a model (before, a third of
/// such draws ended in exit 1, "did not converge"), and the model forecasts.
#[test]
fn small_academies_always_train() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (header, cands) = sample_history();
    let all: Vec<&Vec<csv::StringRecord>> = cands.iter().collect();
    let center_of = |c: &Vec<csv::StringRecord>| c[0][2].to_string();
    let mut per_center: BTreeMap<String, Vec<&Vec<csv::StringRecord>>> = BTreeMap::new();
    for c in &all {
        per_center.entry(center_of(c)).or_default().push(c);
    }
    let one_session: Vec<_> = all.iter().copied().filter(|c| &c[0][0] == "2024").collect();
    let mut failures = Vec::new();
    for n in [20, 50, 100] {
        for seed in 0..4u64 {
            let center = per_center.values().nth(seed as usize * 3).expect("centre");
            let ways = [
                ("one centre", draw(center, n, seed)),
                ("one session", draw(&one_session, n, seed)),
                ("several sessions", draw(&all, n, seed)),
            ];
            for (way, picked) in ways {
                let file = dir.path().join(format!("h{n}_{seed}_{}.csv", way.len()));
                write_history(&file, &header, &picked);
                let o = run(
                    dir.path(),
                    &[
                        "train",
                        "-q",
                        "--history",
                        file.to_str().unwrap(),
                        "--model",
                        "m.json",
                    ],
                );
                if !o.status.success() {
                    failures.push(format!(
                        "{n} candidates, {way}, seed {seed}: {}",
                        stderr(&o)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample/candidates.csv");
    ok(
        dir.path(),
        &crate::util::forecast_args("m.json", sample.to_str().unwrap(), "out", &["-q"]),
    );
}

/// Below the documented minimum the refusal is bad input (exit 2) and names it.
#[test]
fn a_history_below_the_minimum_is_refused_with_the_minimum() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (header, cands) = sample_history();
    let picked: Vec<_> = cands.iter().take(5).collect();
    let file = dir.path().join("h.csv");
    write_history(&file, &header, &picked);
    let o = run(
        dir.path(),
        &["train", "--history", "h.csv", "--model", "m.json"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("at least 10"), "{}", stderr(&o));
}

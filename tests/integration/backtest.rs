//! Backtest: the printed numbers recomputed from the files it writes.

use std::collections::BTreeMap;

use crate::util::*;

#[test]
fn backtest_numbers_match_their_definitions_recomputed_from_cells_csv() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bt");
    let json = ok(
        &a.path,
        &[
            "backtest",
            "--history",
            "sim/history.csv",
            "--out",
            out.to_str().unwrap(),
            "--json",
            "--capacity",
            "10",
            "-q",
            "--oracle",
            "sim/truth.csv",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    for k in [
        "session",
        "coverage",
        "cell_coverage",
        "redundancy",
        "surplus",
        "wape_subject",
        "wape_cell",
        "log_loss",
        "examiners",
        "needed",
        "reserve",
        "coverage_with_reserve",
        "reserve_calls",
        "idle_share",
        "subjects_outside_interval",
        "cells_outside_interval",
        "baselines",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    for b in [
        "last year +25%",
        "two lowest weighted marks",
        "plain logistic",
        "oracle (true probabilities)",
    ] {
        assert!(v["baselines"].get(b).is_some(), "missing baseline {b}");
    }
    assert_eq!(
        header(&out.join("cells.csv")),
        "center,subject,day,half_day,expected,low,high,actual,examiners,needed,reserve"
    );
    let cells = read_csv(&out.join("cells.csv"));
    let f = |r: &BTreeMap<String, String>, k: &str| r[k].parse::<f64>().unwrap();
    let (mut covered, mut actual, mut ex, mut need, mut surplus) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut needing, mut ok_cells, mut err_cell) = (0.0, 0.0, 0.0);
    let (mut reserve, mut calls, mut covered_all) = (0.0, 0.0, 0.0);
    let mut subj: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for r in &cells {
        let (a_, e_, n_) = (f(r, "actual"), f(r, "examiners"), f(r, "needed"));
        assert_eq!(n_, (a_ / 10.0).ceil());
        covered += (e_ * 10.0).min(a_);
        actual += a_;
        ex += e_;
        need += n_;
        surplus += (e_ - n_).max(0.0);
        let r_ = f(r, "reserve");
        reserve += r_;
        calls += r_.min((n_ - e_).max(0.0));
        covered_all += ((e_ + r_) * 10.0).min(a_);
        if n_ > 0.0 {
            needing += 1.0;
            if e_ >= n_ {
                ok_cells += 1.0;
            }
        }
        err_cell += (f(r, "expected") - a_).abs();
        let s = subj.entry(r["subject"].clone()).or_default();
        s.0 += f(r, "expected");
        s.1 += a_;
    }
    let close = |k: &str, want: f64, tol: f64| {
        let got = v[k].as_f64().unwrap();
        assert!(
            (got - want).abs() < tol,
            "{k}: json {got}, recomputed {want}"
        );
    };
    close("coverage", covered / actual, 1e-9);
    close("cell_coverage", ok_cells / needing, 1e-9);
    close("redundancy", (ex - need) / need, 1e-9);
    close("surplus", surplus / need, 1e-9);
    close("coverage_with_reserve", covered_all / actual, 1e-9);
    close("idle_share", surplus / ex, 1e-9);
    assert_eq!(v["reserve"].as_f64().unwrap(), reserve);
    assert_eq!(v["reserve_calls"].as_f64().unwrap(), calls);
    // expected is rounded to 2 decimals in the CSV.
    close("wape_cell", err_cell / actual, 0.01);
    close(
        "wape_subject",
        subj.values().map(|(e, a)| (e - a).abs()).sum::<f64>() / actual,
        0.01,
    );
    assert_eq!(v["examiners"].as_f64().unwrap(), ex);
    let subjects = read_csv(&out.join("subjects.csv"));
    let total: f64 = subjects.iter().map(|r| f(r, "actual")).sum();
    assert_eq!(total, actual);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("<svg")
            && html.contains("Calibration")
            && html.contains("Capacité\u{a0}: 10")
    );
    assert!(
        !html.contains("<script") && !html.contains("http://") && !html.contains("https://"),
        "report must be self-contained"
    );
}

#[test]
fn backtest_all_reports_each_session_and_the_average() {
    let a = academy();
    let json = ok(
        &a.path,
        &[
            "backtest",
            "--history",
            "sim/history.csv",
            "--all",
            "--json",
            "-q",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let sessions: Vec<i64> = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session"].as_i64().unwrap())
        .collect();
    // Four sessions 2021-2024: those with two earlier ones are 2023 and 2024.
    assert_eq!(sessions, vec![2023, 2024]);
    assert!(v["average"]["coverage"].as_f64().is_some());
}

/// The backtest calibrates each replayed session on the sessions its model held out,
/// all before it: 2023 and 2024 of the sample have one each (not checked), 2025 two.
#[test]
fn the_backtest_calibrates_without_peeking() {
    let tmp = tempfile::tempdir().unwrap();
    let h = repo_file("data/sample/history.csv");
    let json = ok(
        tmp.path(),
        &[
            "backtest",
            "--history",
            h.to_str().unwrap(),
            "--all",
            "--json",
            "-q",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for s in v["sessions"].as_array().unwrap() {
        let year = s["session"].as_i64().unwrap();
        let p = &s["promise"];
        let replayed: Vec<i64> = p["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["session"].as_i64().unwrap())
            .collect();
        assert!(replayed.iter().all(|&r| r < year), "{year}: {replayed:?}");
        if year < 2025 {
            assert_eq!(p["outcome"]["too_few"], 1, "{year}: {p}");
        } else {
            assert_eq!(replayed, [2023, 2024], "{p}");
        }
    }
}

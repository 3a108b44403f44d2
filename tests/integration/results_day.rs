//! Results day: `confirm` against an independent checker of its decisions and its
//! timetable, on the real choices of a simulated session and on random ones.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use crate::util::*;

/// A small académie with two oral days; its last session's candidates without their
/// choices, those choices, and a plan for that session with a roster.
fn setup(dir: &Path) {
    ok(
        dir,
        &[
            "simulate",
            "--out",
            "sim",
            "--candidates",
            "300",
            "--centers",
            "3",
            "--sessions",
            "4",
            "--seed",
            "5",
            "--days",
            "2",
            "-q",
        ],
    );
    let text = std::fs::read_to_string(dir.join("sim/history.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut past, mut last, mut choices) = (
        format!("{header}\n"),
        format!("{header}\n"),
        String::from("candidate_id,subject\n"),
    );
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        if f[0] == "2024" {
            // The centre names hold a comma inside quotes: rebuild from the fields.
            let n = f.len();
            let chosen = f[n - 3];
            let mut g = f.clone();
            g[n - 3] = "";
            last.push_str(&g.join(","));
            last.push('\n');
            if chosen == "1" {
                choices.push_str(&format!("{},{}\n", f[1], f[n - 6]));
            }
        } else {
            past.push_str(l);
            past.push('\n');
        }
    }
    std::fs::write(dir.join("past.csv"), past).unwrap();
    std::fs::write(dir.join("last.csv"), last).unwrap();
    std::fs::write(dir.join("choices.csv"), choices).unwrap();
    ok(
        dir,
        &["train", "--history", "past.csv", "--model", "m.json", "-q"],
    );
    ok(dir, &forecast_args("m.json", "last.csv", "plan", &["-q"]));
    // One local examiner per centre and subject fewer than the busiest half-day needs in
    // every fifth cell; the plan thin (95% firm) with a reserve: shortages and calls both
    // happen.
    let conv = read_csv(&dir.join("plan/convocations.csv"));
    let mut need: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &conv {
        let n: usize =
            r["examiners"].parse::<usize>().unwrap() + r["reserve"].parse::<usize>().unwrap();
        let e = need
            .entry((r["center"].clone(), r["subject"].clone()))
            .or_default();
        *e = (*e).max(n);
    }
    let mut roster = String::from("examiner_id,name,subject,center\n");
    for (k, ((c, s), n)) in need.iter().enumerate() {
        for j in 0..n.saturating_sub(usize::from(k % 5 == 4)) {
            roster.push_str(&format!("L{k}_{j},N,{s},\"{c}\"\n"));
        }
    }
    std::fs::write(dir.join("roster.csv"), roster).unwrap();
    ok(
        dir,
        &forecast_args(
            "m.json",
            "last.csv",
            "plan",
            &["--roster", "roster.csv", "--coverage", "0.95", "-q"],
        ),
    );
}

fn minutes(t: &str) -> u32 {
    let (h, m) = t.split_once(':').unwrap();
    h.parse::<u32>().unwrap() * 60 + m.parse::<u32>().unwrap()
}

/// Checks `confirm`'s files in `out` against the choices and the candidates, without any
/// of its code: every rule of the issue, one by one.
/// Checks `confirm`'s files in `out` against the choices and the plan in `plan` (whose
/// hosts.csv, when there is one, says which orals are held at another centre).
fn check(dir: &Path, out: &str, choices: &str, plan: &str) {
    let rows = |f: &str| read_csv(&dir.join(out).join(f));
    let hosts_file = dir.join(plan).join("hosts.csv");
    let hosts: HashMap<(String, String), String> = if hosts_file.exists() {
        read_csv(&hosts_file)
            .into_iter()
            .map(|r| {
                (
                    (r["center"].clone(), r["subject"].clone()),
                    r["host_center"].clone(),
                )
            })
            .collect()
    } else {
        HashMap::new()
    };
    let held_at = |center: &str, subject: &str| -> String {
        hosts
            .get(&(center.to_string(), subject.to_string()))
            .cloned()
            .unwrap_or_else(|| center.to_string())
    };
    let (conf, short, tt) = (
        rows("confirmations.csv"),
        rows("shortages.csv"),
        rows("timetable.csv"),
    );
    let cands = read_csv(&dir.join("last.csv"));
    let slot: HashMap<&str, (&str, &str, &str)> = cands
        .iter()
        .map(|r| {
            (
                r["candidate_id"].as_str(),
                (
                    r["center"].as_str(),
                    r["day"].as_str(),
                    r["half_day"].as_str(),
                ),
            )
        })
        .collect();
    let chosen: Vec<BTreeMap<String, String>> = read_csv(&dir.join(choices));
    // 1. Every chosen oral exactly once: in the timetable or among the shortages.
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for r in &tt {
        *seen
            .entry((r["candidate_id"].clone(), r["subject"].clone()))
            .or_default() += 1;
    }
    for r in &short {
        for id in r["candidates"].split(';').filter(|s| !s.is_empty()) {
            *seen
                .entry((id.to_string(), r["subject"].clone()))
                .or_default() += 1;
        }
    }
    assert_eq!(seen.len(), chosen.len());
    for c in &chosen {
        let key = (c["candidate_id"].clone(), c["subject"].clone());
        assert_eq!(seen.get(&key), Some(&1), "{key:?}");
    }
    // 2. Durations, slots and half-day starts.
    for r in &tt {
        let (p, s, e) = (
            minutes(&r["preparation_start"]),
            minutes(&r["oral_start"]),
            minutes(&r["oral_end"]),
        );
        assert_eq!((s - p, e - s), (20, 20), "{r:?}");
        let (center, day, half) = slot[r["candidate_id"].as_str()];
        let at = held_at(center, &r["subject"]);
        assert_eq!(
            (r["center"].as_str(), r["day"].as_str()),
            (at.as_str(), day)
        );
        let start = if half == "pm" { 13 * 60 + 30 } else { 8 * 60 };
        assert!(p >= start && (half != "am" || p < 13 * 60 + 30), "{r:?}");
    }
    // 3. A candidate's orals never overlap and are 10 minutes apart, 30 when they are
    //    in two centres.
    let mut by_cand: HashMap<&str, Vec<(u32, u32, &str)>> = HashMap::new();
    for r in &tt {
        by_cand.entry(&r["candidate_id"]).or_default().push((
            minutes(&r["preparation_start"]),
            minutes(&r["oral_end"]),
            r["center"].as_str(),
        ));
    }
    for v in by_cand.values_mut() {
        v.sort();
        for w in v.windows(2) {
            let gap = if w[0].2 == w[1].2 { 10 } else { 30 };
            assert!(w[1].0 >= w[0].1 + gap, "{v:?}");
        }
    }
    // 4. Examiners hear one at a time, at most 8 a half-day, only if they come or are
    //    called for that very cell, or moved or sent there (`sent_to_center`, with
    //    zones), and never a pooled reserve without being sent somewhere.
    let place = |r: &BTreeMap<String, String>| -> String {
        match r.get("sent_to_center").filter(|c| !c.is_empty()) {
            Some(to) => {
                assert!(matches!(r["action"].as_str(), "move" | "call"), "{r:?}");
                to.clone()
            }
            None => r["center"].clone(),
        }
    };
    for r in &conf {
        if r["center"].is_empty() {
            assert_eq!(r["role"], "reserve", "only a reserve is pooled: {r:?}");
            assert!(!r["zone"].is_empty(), "{r:?}");
            let sent = r["sent_to_center"].as_str();
            assert_eq!(r["action"] == "call", !sent.is_empty(), "{r:?}");
        }
    }
    let places: Vec<String> = conf.iter().map(place).collect();
    let hears: HashSet<(&str, &str, &str, &str, &str)> = conf
        .iter()
        .zip(&places)
        .filter(|(r, _)| matches!(r["action"].as_str(), "come" | "call" | "move"))
        .map(|(r, at)| {
            (
                r["examiner_id"].as_str(),
                at.as_str(),
                r["subject"].as_str(),
                r["day"].as_str(),
                r["half_day"].as_str(),
            )
        })
        .collect();
    type Intervals = Vec<(u32, u32)>;
    let mut by_exam: HashMap<(&str, &str, &str), Intervals> = HashMap::new();
    for r in &tt {
        let (_, day, half) = slot[r["candidate_id"].as_str()];
        let key = (
            r["examiner_id"].as_str(),
            r["center"].as_str(),
            r["subject"].as_str(),
            day,
            half,
        );
        assert!(
            hears.contains(&key),
            "{r:?} heard by an examiner not confirmed there"
        );
        by_exam
            .entry((key.0, day, half))
            .or_default()
            .push((minutes(&r["oral_start"]), minutes(&r["oral_end"])));
    }
    for v in by_exam.values_mut() {
        assert!(v.len() <= 8, "over capacity: {v:?}");
        v.sort();
        for w in v.windows(2) {
            assert!(w[1].0 >= w[0].1, "overlap: {v:?}");
        }
    }
    // 5. Nobody released who was needed, no reserve called while a firm one was released.
    let short_cells: HashSet<(&str, &str, &str, &str)> = short
        .iter()
        .map(|r| {
            (
                r["center"].as_str(),
                r["subject"].as_str(),
                r["day"].as_str(),
                r["half_day"].as_str(),
            )
        })
        .collect();
    let mut by_cell: HashMap<(&str, &str, &str, &str), Vec<&str>> = HashMap::new();
    for (r, at) in conf.iter().zip(&places) {
        let key = (
            at.as_str(),
            r["subject"].as_str(),
            r["day"].as_str(),
            r["half_day"].as_str(),
        );
        by_cell.entry(key).or_default().push(r["action"].as_str());
    }
    for (cell, actions) in &by_cell {
        if actions.contains(&"release") {
            assert!(
                !short_cells.contains(cell),
                "released in a short cell {cell:?}"
            );
            assert!(
                !actions.contains(&"call"),
                "a reserve called beside a released firm examiner {cell:?}"
            );
        }
    }
    // 6. With zones, within a zone, subject and half-day: no firm examiner released
    //    while a reserve is called or a centre is short (moves come first), and no
    //    pooled reserve left at home while a centre is short.
    let zone_of: HashMap<&str, &str> = conf
        .iter()
        .filter(|r| !r["center"].is_empty())
        .filter_map(|r| Some((r["center"].as_str(), r.get("zone")?.as_str())))
        .collect();
    // (zone, subject, day, half-day): each decision and whether it is a pooled reserve.
    type ZoneSlot<'a> = (&'a str, &'a str, &'a str, &'a str);
    let mut by_zone: HashMap<ZoneSlot, Vec<(&str, bool)>> = HashMap::new();
    for r in conf.iter().filter(|r| r.contains_key("zone")) {
        let key = (
            r["zone"].as_str(),
            r["subject"].as_str(),
            r["day"].as_str(),
            r["half_day"].as_str(),
        );
        let pooled = r["center"].is_empty();
        by_zone
            .entry(key)
            .or_default()
            .push((r["action"].as_str(), pooled));
    }
    for (key, actions) in &by_zone {
        let short_here = short_cells.iter().any(|(c, s, d, h)| {
            zone_of.get(c) == Some(&key.0) && (*s, *d, *h) == (key.1, key.2, key.3)
        });
        if actions.iter().any(|(a, _)| *a == "release") {
            assert!(!short_here, "released while the zone is short {key:?}");
            assert!(
                !actions.iter().any(|(a, _)| *a == "call"),
                "a reserve called while a firm examiner of the zone was released {key:?}"
            );
        }
        if short_here {
            assert!(
                !actions.contains(&("stay-home", true)),
                "a pooled reserve at home while the zone is short {key:?}"
            );
        }
    }
}

#[test]
fn confirm_on_the_real_choices_passes_the_checker_and_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir);
    let args = |out: &'static str| {
        let mut a = confirm_args("plan/summons.csv", out);
        a.push("-q");
        a
    };
    let text = ok(dir, &args("a"));
    assert!(
        text.contains("come") && text.contains("lower bound"),
        "{text}"
    );
    check(dir, "a", "choices.csv", "plan");
    // The roster is short in places and the reserve is used: the checker saw both.
    let conf = read_csv(&dir.join("a/confirmations.csv"));
    let actions: HashSet<&str> = conf.iter().map(|r| r["action"].as_str()).collect();
    assert_eq!(
        actions,
        HashSet::from(["come", "release", "call", "stay-home"])
    );
    assert!(!read_csv(&dir.join("a/shortages.csv")).is_empty());
    ok(dir, &args("b"));
    for f in [
        "confirmations.csv",
        "shortages.csv",
        "timetable.csv",
        "examiners.csv",
    ] {
        assert_eq!(
            std::fs::read(dir.join("a").join(f)).unwrap(),
            std::fs::read(dir.join("b").join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn confirm_on_random_choices_passes_the_checker() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir);
    let cands = read_csv(&dir.join("last.csv"));
    for seed in 1..=4u64 {
        let choices = write_random_choices(dir, &cands, seed);
        ok(
            dir,
            &[
                "confirm",
                "--candidates",
                "last.csv",
                "--choices",
                &choices,
                "--summons",
                "plan/summons.csv",
                "--out",
                "r",
                "-q",
            ],
        );
        check(dir, "r", &choices, "plan");
    }
}

#[test]
fn choices_that_cannot_be_are_located_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir);
    let cands = read_csv(&dir.join("last.csv"));
    let first = cands
        .iter()
        .find(|r| (8.0..10.0).contains(&r["average"].parse::<f64>().unwrap()))
        .unwrap();
    let id = first["candidate_id"].as_str();
    let subjects: Vec<&str> = cands
        .iter()
        .filter(|r| r["candidate_id"] == id)
        .map(|r| r["subject"].as_str())
        .collect();
    let text = format!(
        "candidate_id,subject\nNOBODY,SES\n{id},NOT-A-SUBJECT\n{id},{a}\n{id},{a}\n{id},{b}\n{id},{c}\n",
        a = subjects[0],
        b = subjects[1],
        c = subjects[2],
    );
    std::fs::write(dir.join("bad.csv"), text).unwrap();
    let o = run(
        dir,
        &[
            "confirm",
            "--candidates",
            "last.csv",
            "--choices",
            "bad.csv",
            "--summons",
            "plan/summons.csv",
            "--out",
            "x",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    for needle in [
        "bad.csv, line 2, column 'candidate_id': value 'NOBODY'",
        "line 3, column 'subject': value 'NOT-A-SUBJECT'",
        "line 5, column 'subject'",
        "each subject once per candidate",
        "line 7, column 'subject'",
        "at most two orals per candidate",
    ] {
        assert!(e.contains(needle), "{needle}: {e}");
    }
    assert!(!dir.join("x").exists());
}

/// The setup's three centres in one zone (`zones.csv`), and the plan with the roster in
/// `zplan`, with `extra` options.
fn zoned_plan(dir: &Path, extra: &[&str]) {
    let zones: String = read_csv(&dir.join("sim/zones.csv"))
        .iter()
        .map(|r| format!("\"{}\",Une ville\n", r["center"]))
        .collect();
    std::fs::write(dir.join("zones.csv"), format!("center,zone\n{zones}")).unwrap();
    let mut args = vec!["--roster", "roster.csv", "--zones", "zones.csv", "-q"];
    args.extend_from_slice(extra);
    ok(dir, &forecast_args("m.json", "last.csv", "zplan", &args));
}

/// `confirm`'s arguments for the real choices against `summons`, into `out`.
fn confirm_args<'a>(summons: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "confirm",
        "--candidates",
        "last.csv",
        "--choices",
        "choices.csv",
        "--summons",
        summons,
        "--out",
        out,
    ]
}

/// `confirm` of the real choices against `zplan`'s summons, into `out`.
fn confirm_zoned(dir: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    let mut a = confirm_args("zplan/summons.csv", out);
    a.extend_from_slice(extra);
    run(dir, &a)
}

/// The setup's three centres in one zone: the plan holds thin subjects at one of them,
/// the roster's examiners follow their candidates to the host, and `confirm` hears each
/// oral where the plan holds it, a candidate's orals in two centres 30 minutes apart
/// (`--travel`), all of it through the same checker.
#[test]
fn confirm_on_a_plan_regrouped_by_zone_passes_the_checker() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir);
    zoned_plan(dir, &["--coverage", "0.95"]);
    assert!(!read_csv(&dir.join("zplan/hosts.csv")).is_empty());
    let o = confirm_zoned(dir, "z", &["-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    check(dir, "z", "choices.csv", "zplan");
    // Someone did take two orals in two centres: the travel gap was tested.
    let mut centers_of: HashMap<String, HashSet<String>> = HashMap::new();
    for r in read_csv(&dir.join("z/timetable.csv")) {
        centers_of
            .entry(r["candidate_id"].clone())
            .or_default()
            .insert(r["center"].clone());
    }
    assert!(centers_of.values().any(|c| c.len() == 2));
}

/// A regrouped plan's manifest that names a centre the candidates do not have (edited,
/// or another académie's plan) and a travel time out of range are refused, exit 2,
/// nothing written.
#[test]
fn a_regrouped_plan_for_other_centres_and_a_bad_travel_time_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir);
    zoned_plan(dir, &[]);
    let confirm = |out: &str, extra: &[&str]| confirm_zoned(dir, out, extra);
    let o = confirm("t", &["--travel", "241"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("travel"), "{}", stderr(&o));
    let manifest = dir.join("zplan/manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["settings"]["hosts"][0][2] = serde_json::json!("Lycée Nulle-Part");
    std::fs::write(&manifest, serde_json::to_string(&v).unwrap()).unwrap();
    let o = confirm("m", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("Nulle-Part"), "{}", stderr(&o));
    assert!(!dir.join("t").exists() && !dir.join("m").exists());
}

/// Reserves pooled and examiners moved: the three centres in one zone without any
/// regrouping (`--regroup none`), so that every subject keeps three cells a half-day.
/// On the real choices and random ones, `confirm` moves idle firm examiners and sends
/// pooled reserves, and every decision passes the checker (rule 6 for the zones).
#[test]
fn confirm_moves_examiners_and_sends_pooled_reserves_within_a_zone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir);
    zoned_plan(dir, &["--regroup", "none", "--coverage", "0.95"]);
    assert!(
        !dir.join("zplan/hosts.csv").exists() || read_csv(&dir.join("zplan/hosts.csv")).is_empty()
    );
    let pooled = read_csv(&dir.join("zplan/summons.csv"))
        .into_iter()
        .filter(|r| r["center"].is_empty())
        .count();
    assert!(pooled > 0, "no pooled reserve in the plan");
    let (mut moves, mut sent) = (0, 0);
    let cands = read_csv(&dir.join("last.csv"));
    for seed in 0..=3u64 {
        let choices = if seed == 0 {
            "choices.csv".to_string()
        } else {
            write_random_choices(dir, &cands, seed)
        };
        let mut a = confirm_args("zplan/summons.csv", "z");
        a[4] = choices.as_str();
        a.push("-q");
        let o = run(dir, &a);
        assert!(o.status.success(), "{}", stderr(&o));
        check(dir, "z", &choices, "zplan");
        for r in read_csv(&dir.join("z/confirmations.csv")) {
            moves += usize::from(r["action"] == "move");
            sent += usize::from(r["center"].is_empty() && r["action"] == "call");
        }
    }
    assert!(
        moves > 0 && sent > 0,
        "moves {moves}, pooled reserves sent {sent}"
    );
}

/// Random choices among the candidates of `cands` averaging 8 to 10 (0 to 2 orals
/// each), written to a file named after `seed`, whose name is returned.
fn write_random_choices(dir: &Path, cands: &[BTreeMap<String, String>], seed: u64) -> String {
    let mut by_id: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in cands {
        let avg: f64 = r["average"].parse().unwrap();
        if (8.0..10.0).contains(&avg) {
            by_id
                .entry(&r["candidate_id"])
                .or_default()
                .push(&r["subject"]);
        }
    }
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let mut text = String::from("candidate_id,subject\n");
    for (id, subjects) in &by_id {
        let k = next(3).min(subjects.len());
        let first = next(subjects.len());
        for j in 0..k {
            text.push_str(&format!(
                "{id},{}\n",
                subjects[(first + j) % subjects.len()]
            ));
        }
    }
    let name = format!("random{seed}.csv");
    std::fs::write(dir.join(&name), text).unwrap();
    name
}

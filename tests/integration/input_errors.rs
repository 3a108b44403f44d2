//! Bad input: every problem listed with its location, nothing written, no mark next to
//! an id.

use crate::util::*;

const HEADER: &str = "session,candidate_id,center,track,average,subject,coefficient,grade,chosen";

#[test]
fn bad_input_lists_every_problem_with_location_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let hist = tmp.path().join("h.csv");
    std::fs::write(
        &hist,
        format!(
            "{HEADER}\n\
             2024,A1,C1,GENERALE,9.1,MATHS,16,abs,1\n\
             2024,A1,C1,GENERALE,9.1,PHILO,8,21,0\n\
             2024,A2,C1,GENERALE,9.5,MATHS,16,8,1\n\
             2024,A2,C1,GENERALE,9.5,MATHS,16,8,0\n\
             2024,A3,C1,GENERALE,9.0,MATHS,16,8,1\n\
             2024,A3,C1,GENERALE,9.0,PHILO,8,8,1\n\
             2024,A3,C1,GENERALE,9.0,SES,16,8,1\n\
             2024,A4,C1,GENERALE,9.0,MATHS,16,8,1\n\
             2024,A4,C1,GENERALE,9.2,SES,16,8,0\n\
             2024,A5,C1,GENERALE,9.0,SES,0,8,yes\n"
        ),
    )
    .unwrap();
    let model = tmp.path().join("m.json");
    let o = run(
        tmp.path(),
        &["train", "--history", "h.csv", "--model", "m.json"],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    for needle in [
        "h.csv, line 2, column 'grade': value 'abs': expected a mark: the oral was taken",
        "line 3, column 'grade': value '21'",
        "line 5, column 'subject': value 'MATHS': expected each subject once",
        "column 'chosen': value '3': expected at most two orals",
        "line 10, column 'average'",
        "line 11, column 'coefficient': value '0'",
        "line 11, column 'chosen': value 'yes'",
    ] {
        assert!(e.contains(needle), "missing «{needle}» in:\n{e}");
    }
    assert!(!model.exists(), "no model may be written on bad input");
    assert!(!e.contains("panicked"));
}

#[test]
fn regression_average_disagreement_does_not_print_the_mark_next_to_the_id() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("h.csv"),
        format!("{HEADER}\n2024,SECRET1,C1,GENERALE,9.13,MATHS,16,8,1\n2024,SECRET1,C1,GENERALE,9.27,SES,16,8,0\n"),
    )
    .unwrap();
    let o = run(
        tmp.path(),
        &["train", "--history", "h.csv", "--model", "m.json"],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("line 3, column 'average'"), "{e}");
    assert!(!e.contains("9.27") && !e.contains("9.13"), "{e}");
}

#[test]
fn missing_column_empty_and_binary_files_are_reported_together() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("nocol.csv"),
        "session;candidate_id;center;track;average;subject;grade;chosen\n2024;A;C;G;9;M;8;1\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("empty.csv"), "").unwrap();
    std::fs::write(tmp.path().join("bin.csv"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let o = run(
        tmp.path(),
        &[
            "train",
            "--history",
            "nocol.csv",
            "empty.csv",
            "bin.csv",
            "--model",
            "m.json",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("nocol.csv, line 1, column 'coefficient'"), "{e}");
    assert!(e.contains("separator ';'"), "{e}");
    assert!(
        e.contains("empty.csv: expected a header row and data rows (the file is empty)"),
        "{e}"
    );
    assert!(e.contains("bin.csv: expected a text CSV file"), "{e}");
    assert!(e.contains("3 problems"), "{e}");
}

#[test]
fn history_without_chosen_is_bad_input_but_a_forecast_file_may_omit_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("h.csv"), "session,candidate_id,center,track,average,subject,coefficient,grade\n2024,A,C,G,9,M,16,8\n").unwrap();
    let o = run(
        tmp.path(),
        &["train", "--history", "h.csv", "--model", "m.json"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("column 'chosen'"));
    let a = academy();
    let o = run(
        &a.path,
        &forecast_args(
            "model.json",
            tmp.path().join("h.csv").to_str().unwrap(),
            tmp.path().join("o").to_str().unwrap(),
            &["--allow-unseen"],
        ),
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A summons file edited by hand: a half-day that is neither morning nor afternoon, and
/// one without its day, are problems named by line (before, they were read as cells no
/// candidate has, and their examiners silently released).
#[test]
fn summons_with_a_half_day_that_cannot_be_are_refused_by_line() {
    let tmp = tempfile::tempdir().unwrap();
    let cands = repo_file("data/sample/candidates.csv");
    std::fs::write(tmp.path().join("choices.csv"), "candidate_id,subject\n").unwrap();
    std::fs::write(
        tmp.path().join("summons.csv"),
        "examiner_id,name,subject,center,day,half_day,role\n\
         E1,N,FRANCAIS,\"Lycée Fabert, Metz\",2026-07-07,am,firm\n\
         E2,N,FRANCAIS,\"Lycée Fabert, Metz\",2026-07-07,soir,firm\n\
         E3,N,FRANCAIS,\"Lycée Fabert, Metz\",,pm,reserve\n\
         E4,N,FRANCAIS,\"Lycée Fabert, Metz\",2026-07-07,Après-midi,boss\n",
    )
    .unwrap();
    let c = cands.to_str().unwrap();
    let args = [
        "confirm",
        "--candidates",
        c,
        "--choices",
        "choices.csv",
        "--summons",
        "summons.csv",
        "--out",
        "day",
    ];
    let o = run(tmp.path(), &args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    for needle in [
        "summons.csv, line 3, column 'half_day': value 'soir': expected am or pm",
        "summons.csv, line 4, column 'half_day': value 'pm': expected a half-day only with its day",
        "summons.csv, line 5, column 'role': value 'boss': expected firm or reserve",
    ] {
        assert!(e.contains(needle), "missing {needle:?} in:\n{e}");
    }
    assert!(!tmp.path().join("day").exists());
    // French and upper-case half-days are the same half-days.
    std::fs::write(
        tmp.path().join("summons.csv"),
        "examiner_id,name,subject,center,day,half_day,role\n\
         E1,N,FRANCAIS,\"Lycée Fabert, Metz\",2026-07-07,Matin,firm\n",
    )
    .unwrap();
    ok(tmp.path(), &args);
    let rows = read_csv(&tmp.path().join("day/confirmations.csv"));
    assert_eq!(rows[0]["half_day"], "am");
}

/// A zone's pooled reserve is a reserve row with a zone and no centre: a firm row
/// without a centre, a pooled row without its zone, and one naming a zone the zones do
/// not have are problems named by line; without any zones a pooled row is refused too.
/// Nothing is written.
#[test]
fn pooled_reserves_without_a_zone_the_plan_has_are_refused_by_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (cands, zones) = (
        repo_file("data/sample/candidates.csv"),
        repo_file("data/sample/zones.csv"),
    );
    std::fs::write(tmp.path().join("choices.csv"), "candidate_id,subject\n").unwrap();
    let summons = |rows: &str| {
        let head = "examiner_id,name,subject,center,day,half_day,role,zone\n";
        std::fs::write(tmp.path().join("summons.csv"), format!("{head}{rows}")).unwrap();
    };
    summons(
        "E1,N,FRANCAIS,,2026-07-07,am,firm,Metz\n\
         E2,N,FRANCAIS,,2026-07-07,am,reserve,\n\
         E3,N,FRANCAIS,,2026-07-07,pm,reserve,Atlantis\n\
         E4,N,FRANCAIS,,2026-07-08,pm,reserve,Metz\n",
    );
    let (c, z) = (cands.to_str().unwrap(), zones.to_str().unwrap());
    let mut args = vec![
        "confirm",
        "--candidates",
        c,
        "--choices",
        "choices.csv",
        "--summons",
        "summons.csv",
        "--out",
        "day",
        "--zones",
        z,
    ];
    let o = run(tmp.path(), &args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    for needle in [
        "summons.csv, line 2, column 'center': value '': expected a centre, or for a zone's pooled reserve the role reserve and a zone",
        "summons.csv, line 3, column 'center'",
    ] {
        assert!(e.contains(needle), "missing {needle:?} in:\n{e}");
    }
    summons(
        "E3,N,FRANCAIS,,2026-07-07,pm,reserve,Atlantis\n\
         E4,N,FRANCAIS,,2026-07-08,pm,reserve,Metz\n",
    );
    let o = run(tmp.path(), &args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let needle = "summons.csv, line 2, column 'zone': value 'Atlantis': expected a zone of the plan's zones file";
    assert!(stderr(&o).contains(needle), "{}", stderr(&o));
    args.truncate(args.len() - 2);
    summons("E4,N,FRANCAIS,,2026-07-08,pm,reserve,Metz\n");
    let o = run(tmp.path(), &args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--zones"), "{}", stderr(&o));
    assert!(!tmp.path().join("day").exists());
    // With the zones, the pooled reserve is read and, nobody choosing, stays home.
    args.extend(["--zones", z]);
    ok(tmp.path(), &args);
    let rows = read_csv(&tmp.path().join("day/confirmations.csv"));
    assert_eq!(
        (rows[0]["action"].as_str(), rows[0]["zone"].as_str()),
        ("stay-home", "Metz")
    );
}

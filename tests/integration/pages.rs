//! The HTML pages (`plan.html` of a forecast, `report.html` of a backtest): well-formed,
//! self-contained, in French by default with French numbers, in English on request.

use crate::util::*;

/// Checks that every element is closed in order (void and self-closed elements aside),
/// without an HTML library: enough to catch a tag the code forgot to close.
fn assert_well_formed(html: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("an unterminated tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if let Some(closing) = tag.strip_prefix('/') {
            let _ = closing;
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(open, name, "</{name}> closes <{open}>");
        } else if !tag.ends_with('/')
            && !matches!(
                name.as_str(),
                "meta" | "br" | "hr" | "img" | "link" | "input"
            )
        {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

fn assert_self_contained(html: &str) {
    for needle in ["<script", "http://", "https://", "@import", "url("] {
        assert!(
            !html.contains(needle),
            "the page fetches or runs something: {needle}"
        );
    }
}

#[test]
fn plan_and_report_are_well_formed_self_contained_and_french_by_default() {
    let a = academy();
    let dir = &a.path;
    ok(
        dir,
        &forecast_args("model.json", "sim/candidates.csv", "pfr", &["-q"]),
    );
    ok(
        dir,
        &forecast_args(
            "model.json",
            "sim/candidates.csv",
            "pen",
            &["--lang", "en", "-q"],
        ),
    );
    ok(
        dir,
        &[
            "backtest",
            "--history",
            "sim/history.csv",
            "--out",
            "bfr",
            "-q",
        ],
    );
    ok(
        dir,
        &[
            "backtest",
            "--history",
            "sim/history.csv",
            "--out",
            "ben",
            "--lang",
            "en",
            "-q",
        ],
    );
    let read = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap();
    for page in [
        "pfr/plan.html",
        "pen/plan.html",
        "bfr/report.html",
        "ben/report.html",
    ] {
        let html = read(page);
        assert_well_formed(&html);
        assert_self_contained(&html);
        assert!(
            html.contains("@media print") && html.contains("size:A4"),
            "{page}: no print style"
        );
    }
    let (pfr, pen) = (read("pfr/plan.html"), read("pen/plan.html"));
    assert!(pfr.contains("<html lang=\"fr\">") && pfr.contains("Plan d'examinateurs"));
    assert!(
        pfr.contains("examinateurs fermes") && pfr.contains("\u{a0}%"),
        "French numbers"
    );
    assert!(
        pen.contains("<html lang=\"en\">")
            && pen.contains("Examiner plan")
            && pen.contains("firm examiners")
    );
    let (bfr, ben) = (read("bfr/report.html"), read("ben/report.html"));
    assert!(bfr.contains("Rejeu du plan") && bfr.contains("Hypothèses"));
    assert!(ben.contains("Backtest of the examiner plan") && ben.contains("Assumptions"));
    // The interval verdict is one sentence, in the page's language.
    assert!(bfr.contains("Les intervalles étaient"), "no verdict");
    assert!(ben.contains("The intervals were"), "no verdict");
}

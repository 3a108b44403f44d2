//! Spreadsheets in and out: the sample as an .xlsx (title block, typed cells, marks as
//! text) forecasts exactly as the CSV does; a bad cell is named; the --xlsx workbook has
//! French titles and numbers stored as numbers.

use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};
use rust_xlsxwriter::Workbook;

use crate::util::*;

/// Writes the sample's candidates as a workbook: two title rows, then the header, then
/// the rows with numbers as numbers, and every fifth mark as text with a decimal comma.
fn sample_as_xlsx(path: &Path, bad_grade_at: Option<usize>) {
    let text = std::fs::read_to_string(repo_file("data/sample/candidates.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Notes").unwrap();
    sheet
        .write_string(0, 0, "Export Cyclades - session 2026")
        .unwrap();
    sheet.write_string(1, 0, "Académie de Nancy-Metz").unwrap();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(2, c as u16, h).unwrap();
    }
    for (k, rec) in rdr.records().enumerate() {
        let rec = rec.unwrap();
        let r = k as u32 + 3;
        for (c, v) in rec.iter().enumerate() {
            let col = c as u16;
            let name = header[c].as_str();
            let numeric = matches!(name, "session" | "average" | "coefficient" | "grade");
            if bad_grade_at == Some(k) && name == "grade" {
                sheet.write_number(r, col, 21.0).unwrap();
            } else if name == "grade" && k % 5 == 0 {
                sheet.write_string(r, col, v.replace('.', ",")).unwrap();
            } else if numeric && !v.is_empty() {
                sheet
                    .write_number(r, col, v.parse::<f64>().unwrap())
                    .unwrap();
            } else {
                sheet.write_string(r, col, v).unwrap();
            }
        }
    }
    book.save(path).unwrap();
}

#[test]
fn an_xlsx_with_a_title_block_and_typed_cells_forecasts_like_the_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    sample_as_xlsx(&dir.join("c.xlsx"), None);
    let m = repo_file("models/sample.json").display().to_string();
    let csv = repo_file("data/sample/candidates.csv")
        .display()
        .to_string();
    ok(dir, &forecast_args(&m, &csv, "a", &["-q"]));
    ok(dir, &forecast_args(&m, "c.xlsx", "b", &["-q"]));
    for f in [
        "candidates.csv",
        "by_subject.csv",
        "by_center.csv",
        "convocations.csv",
    ] {
        let (x, y) = (
            std::fs::read(dir.join("a").join(f)),
            std::fs::read(dir.join("b").join(f)),
        );
        assert!(x.unwrap() == y.unwrap(), "{f} differs");
    }
    // A missing sheet lists the workbook's sheets.
    let o = run(
        dir,
        &[
            "forecast",
            "--model",
            &m,
            "--candidates",
            "c.xlsx",
            "--sheet",
            "X",
            "--out",
            "x",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("a sheet named 'X' (the workbook has: Notes)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_bad_cell_of_a_spreadsheet_is_named_by_sheet_and_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Data row 10 (0-based) is sheet row 14: two title rows, the header, then rows.
    sample_as_xlsx(&dir.join("c.xlsx"), Some(10));
    let m = repo_file("models/sample.json").display().to_string();
    let o = run(dir, &forecast_args(&m, "c.xlsx", "x", &[]));
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("c.xlsx, sheet \"Notes\", cell H14, column 'grade': value '21': expected a mark between 0 and 20"),
        "{e}"
    );
    assert!(!dir.join("x").exists());
}

#[test]
fn the_workbook_has_french_titles_typed_numbers_and_the_same_bytes_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (m, c) = (
        repo_file("models/sample.json").display().to_string(),
        repo_file("data/sample/candidates.csv")
            .display()
            .to_string(),
    );
    for out in ["a", "b"] {
        ok(dir, &forecast_args(&m, &c, out, &["--xlsx", "-q"]));
    }
    let (x, y) = (
        std::fs::read(dir.join("a/bacpredict.xlsx")),
        std::fs::read(dir.join("b/bacpredict.xlsx")),
    );
    assert!(x.unwrap() == y.unwrap(), "the workbook is not reproducible");
    let mut book = open_workbook_auto(dir.join("a/bacpredict.xlsx")).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "Résumé",
            "Convocations",
            "Par discipline",
            "Par centre",
            "Candidats"
        ]
    );
    let conv = book.worksheet_range("Convocations").unwrap();
    let header: Vec<String> = conv
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        &header[..6],
        [
            "Centre",
            "Discipline",
            "Jour",
            "Demi-journée",
            "Oraux attendus",
            "Examinateurs"
        ]
    );
    let first = conv.rows().nth(1).unwrap();
    assert!(
        matches!(first[4], Data::Float(_)),
        "expected candidates as a number: {:?}",
        first[4]
    );
    assert!(
        matches!(first[5], Data::Float(_)),
        "examiners as a number: {:?}",
        first[5]
    );
    // The CSV files are written all the same, and the workbook is in the manifest.
    assert!(dir.join("a/convocations.csv").exists());
    ok(dir, &["check", "a"]);
    let manifest = std::fs::read_to_string(dir.join("a/manifest.json")).unwrap();
    assert!(manifest.contains("bacpredict.xlsx"));
}

/// An OpenDocument spreadsheet (`tests/fixtures/candidates.ods`, the sample's first 300
/// candidates under a title row, numbers as float cells, made by
/// `scripts/sample-ods.py`) forecasts like the same rows as CSV.
#[test]
fn an_ods_fixture_forecasts_like_the_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let text = std::fs::read_to_string(repo_file("data/sample/candidates.csv")).unwrap();
    let mut ids = std::collections::HashSet::new();
    let mut csv = String::new();
    for (k, line) in text.lines().enumerate() {
        if k > 0 {
            ids.insert(line.split(',').nth(1).unwrap().to_string());
            if ids.len() > 300 {
                break;
            }
        }
        csv.push_str(line);
        csv.push('\n');
    }
    std::fs::write(dir.join("c.csv"), csv).unwrap();
    let m = repo_file("models/sample.json").display().to_string();
    let ods = repo_file("tests/fixtures/candidates.ods")
        .display()
        .to_string();
    ok(dir, &forecast_args(&m, "c.csv", "a", &["-q"]));
    ok(dir, &forecast_args(&m, &ods, "b", &["-q"]));
    for f in [
        "candidates.csv",
        "by_subject.csv",
        "by_center.csv",
        "convocations.csv",
    ] {
        let (x, y) = (
            std::fs::read(dir.join("a").join(f)),
            std::fs::read(dir.join("b").join(f)),
        );
        assert!(x.unwrap() == y.unwrap(), "{f} differs");
    }
}

//! Workbook: a run's tables as one `.xlsx` workbook for an office that lives in
//! spreadsheets: a summary sheet first, then one sheet per table, with French sheet and
//! column titles, a bold frozen header row, an autofilter, fitted widths, and numbers
//! stored as numbers (never as text). The CSV files stay the machine contract.
//!
//! The workbook is byte-reproducible: its creation date is fixed (a real date would make
//! two identical runs differ), and rust_xlsxwriter stamps its zip entries with a fixed
//! time.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

use super::table::{Field, Table};

/// The French title of a CSV column or table (the name itself when it has none).
fn french(name: &str) -> &str {
    match name {
        "candidate_id" => "Candidat",
        "center" => "Centre",
        "track" => "Série",
        "subject" => "Discipline",
        "probability" => "Probabilité",
        "expected_candidates" | "expected" => "Oraux attendus",
        "low" => "Bas (intervalle)",
        "high" => "Haut (intervalle)",
        "day" => "Jour",
        "half_day" => "Demi-journée",
        "examiners" => "Examinateurs",
        "reserve" => "Réserve",
        "capacity" => "Capacité",
        "expected_uncovered" => "Oraux non couverts attendus",
        "expected_uncovered_with_reserve" => "Non couverts avec réserve",
        "examiner_id" => "Examinateur",
        "name" => "Nom",
        "role" => "Rôle",
        "action" => "Décision",
        "examiners_planned" => "Examinateurs prévus",
        "summoned" => "Convoqués",
        "missing" => "Manquants",
        "actual" => "Oraux réels",
        "needed" => "Examinateurs nécessaires",
        "session" => "Session",
        "orals_without_examiner" => "Oraux sans examinateur",
        "candidates" => "Candidats",
        "order" => "Ordre",
        "preparation_start" => "Début de préparation",
        "oral_start" => "Début de l'oral",
        "oral_end" => "Fin de l'oral",
        "candidates.csv" => "Candidats",
        "by_subject.csv" => "Par discipline",
        "by_center.csv" => "Par centre",
        "convocations.csv" => "Convocations",
        "summons.csv" => "Examinateurs convoqués",
        "shortages.csv" => "Manques",
        "cells.csv" => "Cellules",
        "subjects.csv" => "Disciplines",
        "confirmations.csv" => "Confirmations",
        "timetable.csv" => "Horaires",
        "examiners.csv" => "Par examinateur",
        "methods" => "Méthodes",
        "method" => "Méthode",
        "coverage" => "Couverture",
        "redundancy" => "Redondance",
        "coverage_with_reserve" => "Couverture avec réserve",
        "reserve_calls" => "Réserves appelées",
        "idle_share" => "Part inoccupée",
        "wape_subject" => "Erreur par discipline",
        "log_loss" => "Log-loss",
        other => other,
    }
}

/// The workbook: `summary` as (label, value) rows on a first sheet, then each table
/// under its file's French title.
pub(crate) fn workbook(
    summary: &[(String, String)],
    tables: &[(&str, &Table)],
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let fixed = ExcelDateTime::from_ymd(2000, 1, 1)?;
    book.set_properties(&DocProperties::new().set_creation_datetime(&fixed));
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("Résumé")?;
    for (r, (label, value)) in summary.iter().enumerate() {
        sheet.write_string_with_format(r as u32, 0, label, &bold)?;
        sheet.write_string(r as u32, 1, value)?;
    }
    let width = summary
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(10);
    sheet.set_column_width(0, width as f64 + 2.0)?;
    sheet.set_column_width(1, 60)?;
    for (file, table) in tables {
        add_table(&mut book, french(file), table, &bold)?;
    }
    book.save_to_buffer()
}

fn add_table(
    book: &mut Workbook,
    title: &str,
    table: &Table,
    bold: &Format,
) -> Result<(), XlsxError> {
    let sheet = book.add_worksheet();
    sheet.set_name(title)?;
    let mut widths: Vec<usize> = Vec::new();
    for (c, h) in table.header.iter().enumerate() {
        let h = french(h);
        sheet.write_string_with_format(0, c as u16, h, bold)?;
        widths.push(h.chars().count());
    }
    let formats: Vec<Format> = (0..=6)
        .map(|d| {
            Format::new().set_num_format(if d == 0 {
                "0".to_string()
            } else {
                format!("0.{}", "0".repeat(d))
            })
        })
        .collect();
    for (r, row) in table.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, f) in row.iter().enumerate() {
            let col = c as u16;
            let shown = match f {
                Field::Text(s) => {
                    sheet.write_string(r, col, s.as_ref())?;
                    s.chars().count()
                }
                Field::Int(v) => {
                    sheet.write_number(r, col, *v as f64)?;
                    v.to_string().len()
                }
                Field::Num(v, d) => {
                    sheet.write_number_with_format(r, col, *v, &formats[(*d).min(6)])?;
                    format!("{v:.d$}", d = *d).len()
                }
            };
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max(shown);
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, (*w).min(60) as f64 + 2.0)?;
    }
    let last_col = table.header.len().saturating_sub(1) as u16;
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, table.rows.len() as u32, last_col)?;
    Ok(())
}

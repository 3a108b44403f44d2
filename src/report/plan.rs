//! Plan: the page of a forecast (`plan.html`), for the office head on results day: the
//! headline (candidates, expected orals, firm and reserve examiners, expected coverage),
//! a chart per subject of the forecast interval, the plan per centre (and per slot when
//! there are slots), the warnings and the assumptions. Self-contained (no script, font
//! or image fetched) and ready to print on A4.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::html::{esc, page_head};
use super::lang::Lang;
use crate::data::{Dataset, SlotKind};
use crate::forecast::{Familiarity, Forecast};
use crate::planning::{CellPlan, Plan, PlanOptions};
use crate::promise::{Outcome, Promise};

/// What the page shows besides the forecast and the plan.
pub(crate) struct PlanPage<'a> {
    pub(crate) candidates: usize,
    pub(crate) model: &'a str,
    pub(crate) slot_kind: SlotKind,
    pub(crate) interval: f64,
    /// Roster shortages, as sentences.
    pub(crate) shortages: Vec<String>,
    /// What the model knows of the files: anything unseen is shown first.
    pub(crate) familiarity: &'a Familiarity,
    /// The promise replayed on the model's past sessions.
    pub(crate) promise: &'a Promise,
    /// With `--zones`: (centre-subjects moved, (zone, subject)s regrouped, firm and
    /// reserve examiners without the regrouping).
    pub(crate) regrouping: Option<(usize, usize, usize, usize)>,
}

/// The page.
pub(crate) fn plan_page(
    data: &Dataset,
    fc: &Forecast,
    plan: &Plan,
    opts: &PlanOptions,
    page: &PlanPage<'_>,
    lang: Lang,
) -> String {
    let t = lang.texts();
    let mut h = page_head(lang, t.plan_title);
    let known = page.familiarity;
    if !known.complete() {
        unseen_box(&mut h, known, lang);
    }
    let _ = write!(
        h,
        "<p class=\"headline\"><b>{}</b> {}{sc} <b>{}</b> {}{sc} <b>{}</b> {} + <b>{}</b> {}{sc} {} <b>{}</b>, {} <b>{}</b>{}.</p>",
        lang.int(page.candidates),
        t.candidates,
        lang.int(fc.expected_orals.iter().sum::<f64>().round() as usize),
        t.expected_orals,
        lang.int(plan.examiners),
        t.firm_examiners,
        lang.int(plan.reserve),
        t.reserve_examiners,
        t.coverage_firm,
        lang.pct(plan.expected_coverage()),
        t.coverage_reserve,
        lang.pct(plan.expected_coverage_with_reserve()),
        if known.complete() {
            String::new()
        } else {
            format!(" {}", t.headline_unseen)
        },
        sc = t.semicolon
    );
    promise_box(&mut h, page.promise, lang);
    if let Some(r) = page.regrouping {
        zones_box(&mut h, r, plan, lang);
    }
    let _ = write!(
        h,
        "<h2>{}</h2>{}",
        t.plan_per_subject,
        subject_intervals(data, fc, page.interval, lang)
    );
    let _ = write!(h, "<h2>{}</h2>", t.plan_per_center);
    h.push_str(&per_center(data, plan, lang));
    warnings(&mut h, fc, page, lang);
    assumptions(&mut h, plan, opts, page, lang);
    h.push_str("</body></html>\n");
    h
}

/// Per subject, the central interval as a bar and the expectation as a tick, each row
/// on its own scale with the numbers beside it.
fn subject_intervals(data: &Dataset, fc: &Forecast, interval: f64, lang: Lang) -> String {
    let t = lang.texts();
    let lo_q = (1.0 - interval) / 2.0;
    let (row_h, left, plot_w) = (22.0, 230.0, 330.0);
    let h = 20.0 + row_h * fc.subjects.len() as f64;
    let mut s = format!(
        "<svg width=\"860\" height=\"{h}\" viewBox=\"0 0 860 {h}\" role=\"img\" aria-label=\"{}\">",
        esc(t.plan_per_subject)
    );
    for (i, c) in fc.subjects.iter().enumerate() {
        let (low, high) = (c.dist.quantile(lo_q), c.dist.quantile(1.0 - lo_q));
        let y = 10.0 + row_h * i as f64;
        let max = (high as f64 * 1.15).max(1.0);
        let x = |v: f64| left + v / max * plot_w;
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"10\" fill=\"#9ecae1\"/>\
             <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#08519c\" stroke-width=\"2\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\">{} {}, {} {}-{}</text>",
            left - 6.0,
            y + 9.0,
            esc(&data.subjects[c.key as usize]),
            x(low as f64),
            y,
            (x(high as f64) - x(low as f64)).max(1.5),
            x(c.expected()),
            x(c.expected()),
            y - 2.0,
            y + 12.0,
            left + plot_w + 12.0,
            y + 9.0,
            t.expected,
            lang.dec(c.expected(), 1),
            t.interval,
            low,
            high
        );
    }
    s.push_str("</svg>");
    s
}

/// One table per centre: its cells with examiners, firm and reserve.
fn per_center(data: &Dataset, plan: &Plan, lang: Lang) -> String {
    let t = lang.texts();
    let mut by: BTreeMap<&str, Vec<&CellPlan>> = BTreeMap::new();
    for c in plan.cells.iter().filter(|c| c.examiners + c.reserve > 0) {
        by.entry(&data.centers[c.cell.center as usize])
            .or_default()
            .push(c);
    }
    let mut s = String::new();
    for (center, cells) in by {
        let (firm, reserve): (usize, usize) = cells
            .iter()
            .fold((0, 0), |a, c| (a.0 + c.examiners, a.1 + c.reserve));
        let _ = write!(
            s,
            "<h3>{} ({} {} + {} {})</h3><table><thead><tr>",
            esc(center),
            lang.int(firm),
            t.firm_examiners,
            lang.int(reserve),
            t.reserve_examiners
        );
        for head in t.plan_header {
            let _ = write!(s, "<th>{}</th>", esc(head));
        }
        s.push_str("</tr></thead><tbody>");
        for c in cells {
            let [_, subject, day, half] = data.cell_names(&c.cell);
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(subject),
                esc(day),
                esc(half),
                lang.dec(c.expected, 1),
                lang.int(c.examiners),
                lang.int(c.reserve)
            );
        }
        s.push_str("</tbody></table>");
    }
    s
}

/// The box that opens the page when the model does not know every subject or centre of
/// the files: which, and how much of the files they hold.
fn unseen_box(h: &mut String, known: &Familiarity, lang: Lang) {
    let t = lang.texts();
    let _ = write!(
        h,
        "<div class=\"warnbox\"><p><b>{}</b></p><ul>",
        t.unseen_title
    );
    for (what, names) in [
        (t.unseen_subjects, &known.unseen_subjects),
        (t.unseen_centers, &known.unseen_centers),
    ] {
        if !names.is_empty() {
            let list: Vec<String> = names.iter().map(|n| esc(n)).collect();
            let _ = write!(
                h,
                "<li>{what} ({}){} {}</li>",
                lang.int(names.len()),
                t.colon,
                list.join(", ")
            );
        }
    }
    let _ = write!(
        h,
        "</ul><p>{} {}{} {}{} {}{} {}.</p></div>",
        t.unseen_rest,
        t.unseen_rows_known,
        t.colon,
        lang.pct(known.row_share()),
        t.semicolon,
        t.unseen_candidates_known,
        t.colon,
        lang.pct(known.candidate_share())
    );
}

/// What the plan rule would have achieved on the past sessions the model held out, and
/// the widening it took; or why that cannot be said.
/// What holding a zone's subjects at one centre saved, in examiners.
fn zones_box(
    h: &mut String,
    (moved, groups, firm, reserve): (usize, usize, usize, usize),
    plan: &Plan,
    lang: Lang,
) {
    let t = lang.texts();
    let _ = write!(
        h,
        "<h2>{}</h2><p>{groups} {} ({moved} {}){} {} {}, {} {}, {} {firm} {} {reserve} {}.</p>",
        t.zones_heading,
        t.zones_held,
        t.zones_moves,
        t.semicolon,
        plan.examiners,
        t.firm_examiners,
        plan.reserve,
        t.reserve_examiners,
        t.zones_against,
        t.zones_and,
        t.zones_without,
    );
    let pools = &plan.pools;
    let _ = write!(
        h,
        "<p>{} {} ({} {}){} {} {} {}.</p>",
        lang.int(pools.iter().map(|p| p.reserve).sum::<usize>()),
        t.zones_pooled,
        lang.int(pools.iter().filter(|p| p.reserve > 0).count()),
        t.zones_pools,
        t.semicolon,
        t.zones_about,
        lang.dec(pools.iter().map(|p| p.expected_moves).sum::<f64>(), 1),
        t.zones_idle,
    );
}

fn promise_box(h: &mut String, p: &Promise, lang: Lang) {
    let t = lang.texts();
    let _ = write!(h, "<h2>{}</h2>", t.promise_heading);
    let list = |f: &dyn Fn(&crate::promise::Replayed) -> String,
                of: &[crate::promise::Replayed]| {
        of.iter().map(f).collect::<Vec<_>>().join(", ")
    };
    let text = match &p.outcome {
        Outcome::TooFew(_) => t.promise_too_few.to_string(),
        Outcome::NotKept => t.promise_not_kept.to_string(),
        Outcome::OtherSlots { .. } => t.promise_other_slots.to_string(),
        Outcome::Calibrated | Outcome::Unreachable if p.checked() => {
            let firm = |r: &crate::promise::Replayed| lang.pct(r.coverage);
            let all = |r: &crate::promise::Replayed| lang.pct(r.coverage_with_reserve);
            let mut s = format!(
                "{} {}, {} {} {} {} {}. {}{} ({}), ×{} ({}).",
                t.promise_on,
                list(&|r| r.session.to_string(), &p.sessions),
                t.promise_would,
                list(&firm, &p.sessions),
                t.promise_firm,
                list(&all, &p.sessions),
                t.promise_with_reserve,
                t.promise_widening,
                lang.dec(p.firm, 2),
                t.firm_examiners,
                lang.dec(p.reserve, 2),
                t.reserve_examiners,
            );
            if p.sessions != p.uncalibrated {
                let _ = write!(
                    s,
                    " {} {} {} {} {}.",
                    t.promise_own,
                    list(&firm, &p.uncalibrated),
                    t.promise_firm,
                    list(&all, &p.uncalibrated),
                    t.promise_with_reserve
                );
            }
            if p.tightened {
                let [a, b, c] = t.promise_tightened;
                let (firm, all) = (p.plan_coverage, p.plan_reserve_coverage);
                let _ = write!(s, " {a} {} {b} {} {c}", lang.pct(firm), lang.pct(all));
            }
            if p.outcome == Outcome::Unreachable {
                let _ = write!(s, " {}", t.promise_unreachable);
            }
            s
        }
        Outcome::Calibrated | Outcome::Unreachable => String::new(),
    };
    let class = match p.outcome {
        Outcome::Calibrated => "",
        Outcome::Unreachable => " class=\"warnbox\"",
        Outcome::TooFew(_) | Outcome::NotKept | Outcome::OtherSlots { .. } => " class=\"notebox\"",
    };
    let _ = write!(h, "<p{class}>{}</p>", esc(&text));
}

fn warnings(h: &mut String, fc: &Forecast, page: &PlanPage<'_>, lang: Lang) {
    let t = lang.texts();
    let _ = write!(h, "<h2>{}</h2><ul>", t.warnings);
    let all: Vec<&String> = fc.warnings.iter().chain(&page.shortages).collect();
    if all.is_empty() {
        let _ = write!(h, "<li>{}</li>", t.no_warning);
    }
    for w in all {
        let _ = write!(h, "<li>{}</li>", esc(w));
    }
    h.push_str("</ul>");
}

fn assumptions(h: &mut String, plan: &Plan, opts: &PlanOptions, page: &PlanPage<'_>, lang: Lang) {
    let t = lang.texts();
    let unit = match page.slot_kind {
        SlotKind::Period => t.capacity_unit_period,
        SlotKind::Day => t.capacity_unit_day,
        SlotKind::HalfDay => t.capacity_unit_half_day,
    };
    let _ = write!(
        h,
        "<h2>{}</h2><ul><li>{}{} {}</li><li>{}{} {} {}.</li><li>{}{} {}.</li><li>{} {}.</li><li>{} {} {}</li></ul>",
        t.assumptions,
        t.model_line,
        t.colon,
        esc(page.model),
        t.capacity_line,
        t.colon,
        opts.capacity,
        unit,
        t.rule,
        t.colon,
        esc(&plan.rule),
        t.reserve_line,
        lang.pct(opts.reserve_coverage),
        t.intervals_line,
        lang.pct(page.interval),
        t.intervals_suffix
    );
}

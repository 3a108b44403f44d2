//! HTML backtest report: one self-contained file with SVG charts drawn here, in French
//! or English (texts in [`super::lang`]).
//!
//! No script, font or image is fetched from anywhere: an exam office may open it on a
//! machine without internet, and pupils' data must not leak through a CDN request.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::lang::Lang;
use crate::backtest::{
    BacktestOptions, CalibrationBin, Method, Metrics, ScoredCell, SessionResult,
};

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn metrics_table(rows: &[(Method, &Metrics)], lang: Lang) -> String {
    let t = lang.texts();
    let mut s = String::from("<table><thead><tr>");
    for h in t.method_header {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for (method, m) in rows {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(lang.method(*method)),
            lang.pct(m.coverage),
            lang.pct(m.cell_coverage),
            lang.int(m.examiners),
            lang.int(m.needed),
            lang.pct(m.surplus),
            lang.pct(m.redundancy),
            lang.pct(m.wape_subject),
            m.log_loss.map(|l| lang.dec(l, 4)).unwrap_or_else(|| "-".into())
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// Horizontal chart: per subject, the forecast interval as a bar, the expectation as a
/// tick and the actual count as a dot. Each row has its own scale (0 to a little above
/// its largest value), because one subject taken by every candidate would otherwise
/// squash all the others into dots; the numbers are written beside each row.
fn subject_chart(subjects: &[ScoredCell], lang: Lang) -> String {
    let t = lang.texts();
    let row_h = 22.0;
    let left = 230.0;
    let width = 860.0;
    let plot_w = 330.0;
    let h = 30.0 + row_h * subjects.len() as f64;
    let mut s = format!(
        "<svg width=\"{width}\" height=\"{h}\" viewBox=\"0 0 {width} {h}\" role=\"img\" aria-label=\"forecast interval and actual orals per subject\">"
    );
    for (i, c) in subjects.iter().enumerate() {
        let y = 10.0 + row_h * i as f64;
        let max = (c.high.max(c.actual) as f64 * 1.15).max(1.0);
        let x = |v: f64| left + v / max * plot_w;
        let inside = c.actual >= c.low && c.actual <= c.high;
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text>\
             <line x1=\"{left}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"10\" fill=\"#9ecae1\"/>\
             <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#08519c\" stroke-width=\"2\"/>\
             <circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{}\">{} {}, {} {}-{}, {} {}</text>",
            left - 6.0,
            y + 9.0,
            esc(&c.subject),
            left + plot_w,
            y + 5.0,
            y + 5.0,
            x(c.low as f64),
            y,
            (x(c.high as f64) - x(c.low as f64)).max(1.5),
            x(c.expected),
            x(c.expected),
            y - 2.0,
            y + 12.0,
            x(c.actual as f64),
            y + 5.0,
            if inside { "#222" } else { "#d62728" },
            left + plot_w + 12.0,
            y + 9.0,
            if inside { "#222" } else { "#d62728" },
            t.expected,
            lang.dec(c.expected, 1),
            t.interval,
            c.low,
            c.high,
            t.actual,
            c.actual
        );
    }
    s.push_str("</svg>");
    s
}

/// Paired bars per centre: examiners summoned and examiners needed.
fn center_chart(cells: &[ScoredCell]) -> String {
    let mut by: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for c in cells {
        let e = by.entry(&c.center).or_default();
        e.0 += c.examiners;
        e.1 += c.needed;
    }
    let row_h = 26.0;
    let left = 280.0;
    let width = 720.0;
    let plot_w = width - left - 60.0;
    let max = by.values().map(|v| v.0.max(v.1)).max().unwrap_or(1).max(1) as f64;
    let h = 30.0 + row_h * by.len() as f64;
    let mut s = format!(
        "<svg width=\"{width}\" height=\"{h}\" viewBox=\"0 0 {width} {h}\" role=\"img\" aria-label=\"examiners summoned and needed per centre\">"
    );
    for (i, (center, (ex, need))) in by.iter().enumerate() {
        let y = 10.0 + row_h * i as f64;
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text>\
             <rect x=\"{left}\" y=\"{y}\" width=\"{:.1}\" height=\"9\" fill=\"#3182bd\"/>\
             <text x=\"{:.1}\" y=\"{}\" font-size=\"10\">{ex}</text>\
             <rect x=\"{left}\" y=\"{}\" width=\"{:.1}\" height=\"9\" fill=\"#fd8d3c\"/>\
             <text x=\"{:.1}\" y=\"{}\" font-size=\"10\">{need}</text>",
            left - 6.0,
            y + 14.0,
            esc(center),
            *ex as f64 / max * plot_w,
            left + *ex as f64 / max * plot_w + 4.0,
            y + 8.0,
            y + 10.0,
            *need as f64 / max * plot_w,
            left + *need as f64 / max * plot_w + 4.0,
            y + 18.0,
        );
    }
    s.push_str("</svg>");
    s
}

/// Predicted probability against observed rate, one dot per bin (area ~ count).
fn calibration_chart(bins: &[CalibrationBin], lang: Lang) -> String {
    let t = lang.texts();
    let size = 320.0;
    let m = 40.0;
    let p = size - 2.0 * m;
    let mut s = format!(
        "<svg width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {size} {size}\" role=\"img\" aria-label=\"calibration\">\
         <rect x=\"{m}\" y=\"{m}\" width=\"{p}\" height=\"{p}\" fill=\"none\" stroke=\"#999\"/>\
         <line x1=\"{m}\" y1=\"{}\" x2=\"{}\" y2=\"{m}\" stroke=\"#bbb\" stroke-dasharray=\"4\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\
         <text x=\"12\" y=\"{}\" font-size=\"11\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">{}</text>",
        m + p,
        m + p,
        size / 2.0,
        size - 8.0,
        t.predicted,
        size / 2.0,
        size / 2.0,
        t.observed
    );
    let _ = write!(
        s,
        "<text x=\"{m}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">0</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">1</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">1</text>",
        m + p + 12.0,
        m + p,
        m + p + 12.0,
        m - 4.0,
        m + 4.0
    );
    let total: usize = bins.iter().map(|b| b.count).sum::<usize>().max(1);
    for b in bins.iter().filter(|b| b.count > 0) {
        let r = 3.0 + 12.0 * (b.count as f64 / total as f64).sqrt();
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r:.1}\" fill=\"#3182bd\" fill-opacity=\"0.6\"><title>{} pairs: predicted {:.3}, observed {:.3}</title></circle>",
            m + b.mean_predicted * p,
            m + p - b.observed_rate * p,
            b.count,
            b.mean_predicted,
            b.observed_rate
        );
    }
    s.push_str("</svg>");
    s
}

/// The styles of both pages: readable on screen, and on A4 when printed (tables and
/// charts not cut across pages where avoidable).
const STYLE: &str = "<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}\
    table{border-collapse:collapse;margin:1em 0;font-size:0.85em}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}\
    td{white-space:nowrap}td:first-child{white-space:normal}\
    td:first-child,th:first-child{text-align:left}.headline{font-size:1.2em;background:#f3f7fb;padding:1em;border-left:4px solid #3182bd}\
    .warnbox{background:#fff4e5;padding:0.5em 1em;border-left:4px solid #e6550d}\
    .notebox{background:#f2f2f2;padding:0.5em 1em;border-left:4px solid #969696}\
    .legend span{display:inline-block;margin-right:1.5em}svg{max-width:100%;height:auto}\
    @page{size:A4;margin:12mm}@media print{body{max-width:none;margin:0;font-size:10pt}\
    table,svg,h2,h3{page-break-inside:avoid;break-inside:avoid}h2,h3{page-break-after:avoid;break-after:avoid}}</style>";

/// The start of a page titled `title`, up to its heading: both pages share it.
pub(crate) fn page_head(lang: Lang, title: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>bacpredict: {}</title>{STYLE}</head><body><h1>{}</h1>",
        lang.texts().html_lang,
        esc(title),
        esc(title)
    )
}

/// The whole report.
pub(crate) fn report(
    results: &[SessionResult],
    averages: Option<&[(Method, Metrics)]>,
    opts: &BacktestOptions,
    lang: Lang,
) -> String {
    let mut h = page_head(lang, lang.texts().report_title);
    headline(&mut h, results, averages, lang);
    assumptions(&mut h, opts, lang);
    for r in results {
        session_section(&mut h, r, averages.is_some(), opts.interval, lang);
    }
    h.push_str("</body></html>\n");
    h
}

/// The headline sentence and the table of methods (of the average when there are
/// several sessions).
fn headline(
    h: &mut String,
    results: &[SessionResult],
    averages: Option<&[(Method, Metrics)]>,
    lang: Lang,
) {
    let t = lang.texts();
    let Some(first) = results.first() else {
        return;
    };
    let (label, bp, rows): (String, Metrics, Vec<(Method, Metrics)>) = match averages {
        Some(avg) => (
            format!(
                "{} {}",
                t.average_over,
                results
                    .iter()
                    .map(|r| r.session.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            avg[0].1,
            avg.to_vec(),
        ),
        None => (
            format!("{} {}", t.session, first.session),
            first.bacpredict.metrics,
            std::iter::once(&first.bacpredict)
                .chain(&first.baselines)
                .map(|m| (m.method, m.metrics))
                .collect(),
        ),
    };
    let last = rows.iter().find(|(m, _)| *m == Method::LastYearPlus25);
    let _ = write!(
        h,
        "<p class=\"headline\">{} ({}){} <b>{} {}</b>{} <b>{} {}</b> {} {} ({} {}){}.</p>",
        t.had_bacpredict,
        esc(&label),
        t.colon,
        lang.pct(bp.coverage),
        t.of_orals_found,
        t.semicolon,
        lang.int(bp.examiners),
        t.examiners_summoned,
        t.for_needed,
        lang.int(bp.needed),
        lang.pct(bp.surplus),
        t.surplus_word,
        last.map(|(_, m)| format!(
            "{} {} {} {} {}",
            t.semicolon,
            t.last_year_would,
            lang.int(m.examiners),
            t.and_covered,
            lang.pct(m.coverage)
        ))
        .unwrap_or_default()
    );
    let refs: Vec<(Method, &Metrics)> = rows.iter().map(|(n, m)| (*n, m)).collect();
    h.push_str(&metrics_table(&refs, lang));
}

fn assumptions(h: &mut String, opts: &BacktestOptions, lang: Lang) {
    let t = lang.texts();
    let overrides = if opts.plan.capacity_by_subject.is_empty() {
        String::new()
    } else {
        format!(
            " ({} {})",
            opts.plan.capacity_by_subject.len(),
            t.subject_overrides
        )
    };
    let rule = match opts.plan.service_level {
        Some(q) => format!("{} {}", t.per_cell_level, lang.pct(q)),
        None => format!(
            "{} {} {}",
            t.fewest_reaching,
            lang.pct(opts.plan.coverage),
            t.expected_coverage_word
        ),
    };
    let _ = write!(
        h,
        "<h2>{}</h2><ul><li>{}{} {} {}{}.</li><li>{}{} {}.</li><li>{} {} {}</li><li>{}</li></ul>",
        t.assumptions,
        t.capacity_line,
        t.colon,
        opts.plan.capacity,
        t.candidates_per_examiner_cell,
        overrides,
        t.rule,
        t.colon,
        esc(&rule),
        t.intervals_line,
        lang.pct(opts.interval),
        t.intervals_suffix,
        t.needed_line
    );
}

/// Whether the subjects' intervals held about as often as their probability says: the
/// share outside them against 1 - `interval`, within two binomial standard deviations.
fn interval_verdict(subjects: &[ScoredCell], interval: f64, lang: Lang) -> String {
    let t = lang.texts();
    let n = subjects.len() as f64;
    let outside = subjects
        .iter()
        .filter(|c| c.actual < c.low || c.actual > c.high)
        .count();
    let expected = n * (1.0 - interval);
    let sd = (n * interval * (1.0 - interval)).sqrt();
    let verdict = if (outside as f64) > expected + 2.0 * sd {
        t.intervals_verdict_narrow
    } else if (outside as f64) < expected - 2.0 * sd {
        t.intervals_verdict_wide
    } else {
        t.intervals_verdict_right
    };
    format!(
        "<p>{verdict} ({outside} {} {})</p>",
        t.outside_intervals,
        lang.dec(expected, 1)
    )
}

/// One session: its table of methods (when there are several sessions), its charts
/// and its table per day.
fn session_section(h: &mut String, r: &SessionResult, with_table: bool, interval: f64, lang: Lang) {
    let t = lang.texts();
    let _ = write!(h, "<h2>{} {}</h2>", t.session, r.session);
    if with_table {
        let rows: Vec<(Method, &Metrics)> = std::iter::once(&r.bacpredict)
            .chain(&r.baselines)
            .map(|m| (m.method, &m.metrics))
            .collect();
        h.push_str(&metrics_table(&rows, lang));
    }
    let _ = write!(
        h,
        "<h3>{}</h3><p class=\"legend\"><span>{}</span><span>{}</span><span>{}</span></p>{}{}\
         <h3>{}</h3><p class=\"legend\"><span style=\"color:#3182bd\">&#9632; {}</span>\
         <span style=\"color:#fd8d3c\">&#9632; {}</span></p>{}\
         <h3>{}</h3><p>{}</p>{}",
        t.per_subject_heading,
        t.legend_bar,
        t.legend_tick,
        t.legend_dot,
        interval_verdict(&r.bacpredict.subjects, interval, lang),
        subject_chart(&r.bacpredict.subjects, lang),
        t.per_center_heading,
        t.summoned,
        t.needed,
        center_chart(&r.bacpredict.cells),
        t.calibration_heading,
        t.calibration_text,
        calibration_chart(&r.bacpredict.calibration, lang)
    );
    h.push_str(&slot_table(&r.bacpredict.cells, lang));
}

/// Per day and half-day: firm examiners, those needed, those who would have heard
/// nobody, the reserve and the reserves called, and the orals left uncovered. Nothing
/// without slots.
fn slot_table(cells: &[ScoredCell], lang: Lang) -> String {
    let t = lang.texts();
    let mut by: BTreeMap<(&str, &str), [usize; 7]> = BTreeMap::new();
    for c in cells.iter().filter(|c| !c.day.is_empty()) {
        let e = by.entry((&c.day, &c.half_day)).or_default();
        let firm_heard = (c.examiners * c.capacity).min(c.actual);
        let all_heard = ((c.examiners + c.reserve) * c.capacity).min(c.actual);
        for (v, add) in e.iter_mut().zip([
            c.examiners,
            c.needed,
            c.examiners.saturating_sub(c.needed),
            c.reserve,
            c.reserve.min(c.needed.saturating_sub(c.examiners)),
            c.actual - firm_heard,
            c.actual - all_heard,
        ]) {
            *v += add;
        }
    }
    if by.is_empty() {
        return String::new();
    }
    let mut s = format!("<h3>{}</h3><table><thead><tr>", t.per_day_heading);
    for head in t.per_day_header {
        let _ = write!(s, "<th>{}</th>", esc(head));
    }
    s.push_str("</tr></thead><tbody>");
    for ((day, half), v) in by {
        let _ = write!(s, "<tr><td>{}</td><td>{}</td>", esc(day), esc(half));
        for x in v {
            let _ = write!(s, "<td>{}</td>", lang.int(x));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

//! HTML backtest report: one self-contained file with SVG charts drawn here.
//!
//! No script, font or image is fetched from anywhere: an exam office may open it on a
//! machine without internet, and pupils' data must not leak through a CDN request.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::backtest::{BacktestOptions, CalibrationBin, Metrics, ScoredCell, SessionResult};

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

pub(crate) fn metrics_table(rows: &[(&str, &Metrics)]) -> String {
    let mut s = String::from(
        "<table><thead><tr><th>method</th><th>coverage</th><th>cells covered</th>\
         <th>examiners</th><th>needed</th><th>surplus</th><th>redundancy</th>\
         <th>subject error (WAPE)</th><th>log-loss</th></tr></thead><tbody>",
    );
    for (name, m) in rows {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            pct(m.coverage),
            pct(m.cell_coverage),
            m.examiners,
            m.needed,
            pct(m.surplus),
            pct(m.redundancy),
            pct(m.wape_subject),
            m.log_loss.map(|l| format!("{l:.4}")).unwrap_or_else(|| "-".into())
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// Horizontal chart: per subject, the forecast interval as a bar, the expectation as a
/// tick and the actual count as a dot. Each row has its own scale (0 to a little above
/// its largest value), because one subject taken by every candidate would otherwise
/// squash all the others into dots; the numbers are written beside each row.
pub(crate) fn subject_chart(subjects: &[ScoredCell]) -> String {
    let row_h = 22.0;
    let left = 230.0;
    let width = 860.0;
    let plot_w = 330.0;
    let h = 30.0 + row_h * subjects.len() as f64;
    let mut s = format!(
        "<svg width=\"{width}\" height=\"{h}\" role=\"img\" aria-label=\"forecast interval and actual orals per subject\">"
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
             <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{}\">expected {:.1}, interval {}-{}, actual {}</text>",
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
            c.expected,
            c.low,
            c.high,
            c.actual
        );
    }
    s.push_str("</svg>");
    s
}

/// Paired bars per centre: examiners summoned and examiners needed.
pub(crate) fn center_chart(cells: &[ScoredCell]) -> String {
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
        "<svg width=\"{width}\" height=\"{h}\" role=\"img\" aria-label=\"examiners summoned and needed per centre\">"
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
pub(crate) fn calibration_chart(bins: &[CalibrationBin]) -> String {
    let size = 320.0;
    let m = 40.0;
    let p = size - 2.0 * m;
    let mut s = format!(
        "<svg width=\"{size}\" height=\"{size}\" role=\"img\" aria-label=\"calibration\">\
         <rect x=\"{m}\" y=\"{m}\" width=\"{p}\" height=\"{p}\" fill=\"none\" stroke=\"#999\"/>\
         <line x1=\"{m}\" y1=\"{}\" x2=\"{}\" y2=\"{m}\" stroke=\"#bbb\" stroke-dasharray=\"4\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">predicted probability</text>\
         <text x=\"12\" y=\"{}\" font-size=\"11\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">observed rate</text>",
        m + p,
        m + p,
        size / 2.0,
        size - 8.0,
        size / 2.0,
        size / 2.0
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

/// The whole report.
pub(crate) fn report(
    results: &[SessionResult],
    averages: Option<&[(String, Metrics)]>,
    opts: &BacktestOptions,
) -> String {
    let mut h = String::from(
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>bacpredict backtest</title>\
         <style>body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}\
         table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}\
         td:first-child,th:first-child{text-align:left}.headline{font-size:1.2em;background:#f3f7fb;padding:1em;border-left:4px solid #3182bd}\
         .legend span{display:inline-block;margin-right:1.5em}</style></head><body>",
    );
    let _ = write!(h, "<h1>Backtest of the examiner plan</h1>");
    headline(&mut h, results, averages);
    assumptions(&mut h, opts);
    for r in results {
        session_section(&mut h, r, averages.is_some());
    }
    h.push_str("</body></html>\n");
    h
}

/// The headline sentence and the table of methods (of the average when there are
/// several sessions).
fn headline(h: &mut String, results: &[SessionResult], averages: Option<&[(String, Metrics)]>) {
    if let Some(first) = results.first() {
        let (label, bp, rows): (String, Metrics, Vec<(String, Metrics)>) = match averages {
            Some(avg) => (
                format!(
                    "average over sessions {}",
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
                format!("session {}", first.session),
                first.bacpredict.metrics,
                std::iter::once(&first.bacpredict)
                    .chain(&first.baselines)
                    .map(|m| (m.name.clone(), m.metrics))
                    .collect(),
            ),
        };
        let last = rows.iter().find(|(n, _)| n == "last year +25%");
        let _ = write!(
            h,
            "<p class=\"headline\">Had bacpredict been used ({label}): <b>{} of orals</b> would have found an examiner, \
             with <b>{} examiners summoned</b> for {} needed ({} surplus){}.</p>",
            pct(bp.coverage),
            bp.examiners,
            bp.needed,
            pct(bp.surplus),
            last.map(|(_, m)| format!(
                "; last year's counts + 25% would have summoned {} and covered {}",
                m.examiners,
                pct(m.coverage)
            ))
            .unwrap_or_default()
        );
        let refs: Vec<(&str, &Metrics)> = rows.iter().map(|(n, m)| (n.as_str(), m)).collect();
        h.push_str(&metrics_table(&refs));
    }
}

fn assumptions(h: &mut String, opts: &BacktestOptions) {
    let _ = write!(
        h,
        "<h2>Assumptions</h2><ul><li>Capacity: {} candidates per examiner in a cell (a half-day, a day or the whole oral period, as the slots are){}.</li>\
         <li>Rule: {}.</li><li>Intervals: central {:.0}% of the forecast distribution.</li>\
         <li>Needed examiners per centre and subject: ceil(actual orals / capacity).</li></ul>",
        opts.plan.capacity,
        if opts.plan.capacity_by_subject.is_empty() {
            String::new()
        } else {
            format!(" ({} subject overrides)", opts.plan.capacity_by_subject.len())
        },
        match opts.plan.service_level {
            Some(q) => format!("per-cell service level {}", pct(q)),
            None => format!("fewest examiners reaching {} expected coverage", pct(opts.plan.coverage)),
        },
        opts.interval * 100.0
    );
}

/// One session: its table of methods (when there are several sessions) and its charts.
fn session_section(h: &mut String, r: &SessionResult, with_table: bool) {
    let _ = write!(h, "<h2>Session {}</h2>", r.session);
    if with_table {
        let rows: Vec<(&str, &Metrics)> = std::iter::once(&r.bacpredict)
            .chain(&r.baselines)
            .map(|m| (m.name.as_str(), &m.metrics))
            .collect();
        h.push_str(&metrics_table(&rows));
    }
    let _ = write!(
            h,
            "<h3>Orals per subject: forecast interval and actual</h3>\
             <p class=\"legend\"><span>bar: forecast interval</span><span>tick: expected</span>\
             <span>dot: actual (red when outside the interval)</span></p>{}\
             <h3>Examiners per centre</h3><p class=\"legend\"><span style=\"color:#3182bd\">&#9632; summoned</span>\
             <span style=\"color:#fd8d3c\">&#9632; needed</span></p>{}\
             <h3>Calibration of the candidate-subject probabilities</h3>\
             <p>Each dot is a tenth of the probability scale: the mean predicted probability against the share actually chosen (dot area: number of candidate-subject pairs). On the dashed line, the probabilities mean what they say.</p>{}",
            subject_chart(&r.bacpredict.subjects),
            center_chart(&r.bacpredict.cells),
            calibration_chart(&r.bacpredict.calibration)
        );
    h.push_str(&slot_table(&r.bacpredict.cells));
}

/// Per day and half-day: firm examiners, those needed, those who would have heard
/// nobody, the reserve and the reserves called, and the orals left uncovered. Nothing
/// without slots.
fn slot_table(cells: &[ScoredCell]) -> String {
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
    let mut s = String::from(
        "<h3>Per day and half-day</h3><table><thead><tr><th>day</th><th>half-day</th>\
         <th>firm examiners</th><th>needed</th><th>heard nobody</th><th>reserve</th>\
         <th>reserves called</th><th>orals uncovered (firm)</th><th>uncovered (with reserve)</th></tr></thead><tbody>",
    );
    for ((day, half), v) in by {
        let _ = write!(s, "<tr><td>{}</td><td>{}</td>", esc(day), esc(half));
        for x in v {
            let _ = write!(s, "<td>{x}</td>");
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

//! Text: the tables printed on stdout for a person at a terminal: columns padded to
//! their widest cell, numbers right-aligned.

/// A table for people: columns padded to their widest cell, numbers right-aligned.
pub(crate) fn text_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let n = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let numeric =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || ".-+%,".contains(c));
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let mut parts = Vec::new();
        for (i, c) in cells.iter().enumerate().take(n) {
            let pad = width[i] - c.chars().count();
            if i > 0 && numeric(c) {
                parts.push(format!("{}{}", " ".repeat(pad), c));
            } else {
                parts.push(format!("{}{}", c, " ".repeat(pad)));
            }
        }
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(
        &header.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        &mut out,
    );
    let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule, &mut out);
    for r in rows {
        line(r, &mut out);
    }
    out
}

//! Shown: text from a file or a model as a message may show it. A value read from an
//! office's file can hold anything, an escape sequence included; every message that
//! quotes one goes through here, whichever stage wrote it (the input readers, the model
//! loader), so none reaches the terminal raw.

/// `text` cut at `max` characters (with "..." when cut), control characters escaped.
pub(crate) fn escape_controls(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

//! Lang: every text of the HTML pages, one file per language ([`fr`], [`en`]), so that a
//! translation is one file; and numbers written as each language writes them (French:
//! `99,5 %`, `1 234`; English: `99.5%`, `1,234`).

mod en;
mod fr;

use crate::backtest::Method;

/// The language of the pages (`--lang`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum Lang {
    /// French, the office's language.
    #[default]
    Fr,
    En,
}

/// Every text of `report.html` and `plan.html`. `{}`-free: numbers are placed by the
/// page code between the pieces.
pub(crate) struct Texts {
    pub(crate) html_lang: &'static str,
    /// Punctuation: French puts a space before `:` and `;`.
    pub(crate) colon: &'static str,
    pub(crate) semicolon: &'static str,
    pub(crate) intervals_suffix: &'static str,
    // report.html
    pub(crate) report_title: &'static str,
    pub(crate) had_bacpredict: &'static str,
    pub(crate) of_orals_found: &'static str,
    pub(crate) examiners_summoned: &'static str,
    pub(crate) for_needed: &'static str,
    pub(crate) surplus_word: &'static str,
    pub(crate) last_year_would: &'static str,
    pub(crate) and_covered: &'static str,
    pub(crate) average_over: &'static str,
    pub(crate) session: &'static str,
    pub(crate) method_header: [&'static str; 9],
    pub(crate) assumptions: &'static str,
    pub(crate) capacity_line: &'static str,
    pub(crate) candidates_per_examiner_cell: &'static str,
    pub(crate) subject_overrides: &'static str,
    pub(crate) rule: &'static str,
    pub(crate) per_cell_level: &'static str,
    pub(crate) fewest_reaching: &'static str,
    pub(crate) expected_coverage_word: &'static str,
    pub(crate) intervals_line: &'static str,
    pub(crate) needed_line: &'static str,
    pub(crate) per_subject_heading: &'static str,
    pub(crate) legend_bar: &'static str,
    pub(crate) legend_tick: &'static str,
    pub(crate) legend_dot: &'static str,
    pub(crate) per_center_heading: &'static str,
    pub(crate) summoned: &'static str,
    pub(crate) needed: &'static str,
    pub(crate) calibration_heading: &'static str,
    pub(crate) calibration_text: &'static str,
    pub(crate) predicted: &'static str,
    pub(crate) observed: &'static str,
    pub(crate) expected: &'static str,
    pub(crate) interval: &'static str,
    pub(crate) actual: &'static str,
    pub(crate) per_day_heading: &'static str,
    pub(crate) per_day_header: [&'static str; 9],
    pub(crate) intervals_verdict_wide: &'static str,
    pub(crate) intervals_verdict_narrow: &'static str,
    pub(crate) intervals_verdict_right: &'static str,
    pub(crate) outside_intervals: &'static str,
    // plan.html
    pub(crate) plan_title: &'static str,
    pub(crate) candidates: &'static str,
    pub(crate) expected_orals: &'static str,
    pub(crate) firm_examiners: &'static str,
    pub(crate) reserve_examiners: &'static str,
    pub(crate) coverage_firm: &'static str,
    pub(crate) coverage_reserve: &'static str,
    /// The box shown first when the model does not know every subject or centre.
    pub(crate) unseen_title: &'static str,
    pub(crate) unseen_subjects: &'static str,
    pub(crate) unseen_centers: &'static str,
    pub(crate) unseen_rest: &'static str,
    pub(crate) unseen_rows_known: &'static str,
    pub(crate) unseen_candidates_known: &'static str,
    /// After the headline's coverage when anything is unseen.
    pub(crate) headline_unseen: &'static str,
    /// The promise replayed on past sessions ([`crate::promise`]): "On 2023, 2024 this
    /// rule would have covered 99.6%, 99.4% of the orals ...".
    pub(crate) promise_heading: &'static str,
    pub(crate) zones_heading: &'static str,
    /// "{n} subjects of a zone held at one centre ({moved} moves, hosts.csv):"
    pub(crate) zones_held: &'static str,
    pub(crate) zones_moves: &'static str,
    pub(crate) zones_against: &'static str,
    pub(crate) zones_without: &'static str,
    /// "{n} reserve examiners are on call for a whole zone ({k} pools, ...)"
    pub(crate) zones_pooled: &'static str,
    pub(crate) zones_pools: &'static str,
    /// "about {x} idle firm examiners are expected to move ..."
    pub(crate) zones_idle: &'static str,
    pub(crate) zones_about: &'static str,
    pub(crate) zones_and: &'static str,
    pub(crate) promise_on: &'static str,
    pub(crate) promise_would: &'static str,
    pub(crate) promise_firm: &'static str,
    pub(crate) promise_with_reserve: &'static str,
    pub(crate) promise_widening: &'static str,
    pub(crate) promise_own: &'static str,
    pub(crate) promise_tightened: [&'static str; 3],
    pub(crate) promise_unreachable: &'static str,
    pub(crate) promise_too_few: &'static str,
    pub(crate) promise_not_kept: &'static str,
    pub(crate) promise_other_slots: &'static str,
    pub(crate) plan_per_subject: &'static str,
    pub(crate) plan_per_center: &'static str,
    pub(crate) plan_header: [&'static str; 6],
    pub(crate) warnings: &'static str,
    pub(crate) no_warning: &'static str,
    pub(crate) model_line: &'static str,
    pub(crate) capacity_unit_period: &'static str,
    pub(crate) capacity_unit_day: &'static str,
    pub(crate) capacity_unit_half_day: &'static str,
    pub(crate) reserve_line: &'static str,
}

impl Lang {
    pub(crate) fn texts(self) -> &'static Texts {
        match self {
            Lang::Fr => &fr::TEXTS,
            Lang::En => &en::TEXTS,
        }
    }

    /// A share as a percentage with one decimal.
    pub(crate) fn pct(self, v: f64) -> String {
        match self {
            Lang::Fr => format!("{:.1}\u{a0}%", v * 100.0).replace('.', ","),
            Lang::En => format!("{:.1}%", v * 100.0),
        }
    }

    /// A whole number with thousands separated.
    pub(crate) fn int(self, n: usize) -> String {
        let digits = n.to_string();
        let sep = match self {
            Lang::Fr => "\u{202f}",
            Lang::En => ",",
        };
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(sep);
            }
            out.push(c);
        }
        out
    }

    /// A number with `d` decimals.
    pub(crate) fn dec(self, v: f64, d: usize) -> String {
        let s = format!("{v:.d$}");
        match self {
            Lang::Fr => s.replace('.', ","),
            Lang::En => s,
        }
    }

    /// A method's name as the page shows it.
    pub(crate) fn method(self, m: Method) -> &'static str {
        match self {
            Lang::Fr => match m {
                Method::Bacpredict => "bacpredict",
                Method::LastYearPlus25 => "l'an dernier +25 %",
                Method::TwoLowest => "deux plus faibles notes pondérées",
                Method::PlainLogistic => "logistique simple",
                Method::Oracle => "oracle (vraies probabilités)",
                Method::Zones => "bacpredict, regroupé par zone",
            },
            Lang::En => m.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_each_language() {
        assert_eq!(Lang::Fr.pct(0.995), "99,5\u{a0}%");
        assert_eq!(Lang::En.pct(0.995), "99.5%");
        assert_eq!(Lang::Fr.int(1234), "1\u{202f}234");
        assert_eq!(Lang::En.int(1234567), "1,234,567");
        assert_eq!(Lang::Fr.int(999), "999");
        assert_eq!(Lang::Fr.dec(12.345, 1), "12,3");
    }
}

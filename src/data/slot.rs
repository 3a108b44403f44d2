//! Slots: when orals take place, and the unit an examiner's capacity is counted in.
//!
//! Examiners are convened and paid per half-day, and centres set the days by série or
//! voie. A slot is a day, with or without its half, or the whole oral period when the
//! files give no day. The type cannot hold a half-day without its day, and its order is
//! the order of the labels (the day table is sorted): the whole period first, then by
//! day, a whole day before its halves, the morning before the afternoon. That order is
//! what every output is sorted by.

/// A half of an oral day: examiners are convened and paid per half-day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum HalfDay {
    Am,
    Pm,
}

impl HalfDay {
    /// `am`/`pm`, `matin`/`après-midi` (or `apres-midi`), any case.
    pub(crate) fn parse(s: &str) -> Option<HalfDay> {
        match s.trim().to_lowercase().as_str() {
            "am" | "matin" => Some(HalfDay::Am),
            "pm" | "après-midi" | "apres-midi" | "aprés-midi" => Some(HalfDay::Pm),
            _ => None,
        }
    }

    /// The code of CSV files (`am`, `pm`): the stable contract for scripts.
    pub(crate) fn code(self) -> &'static str {
        match self {
            HalfDay::Am => "am",
            HalfDay::Pm => "pm",
        }
    }
}

/// When a cell's orals take place: a day (an index into a sorted table of day labels,
/// [`super::Dataset::days`]) and, when the schedule says, a half-day; or the whole oral
/// period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Slot {
    day: Option<u32>,
    half: Option<HalfDay>,
}

impl Slot {
    /// The whole oral period: files without days.
    pub(crate) const PERIOD: Slot = Slot {
        day: None,
        half: None,
    };

    /// Day `day` of the day table, or one half of it.
    pub(crate) fn on(day: u32, half: Option<HalfDay>) -> Slot {
        Slot {
            day: Some(day),
            half,
        }
    }

    pub(crate) fn day(self) -> Option<u32> {
        self.day
    }

    pub(crate) fn half(self) -> Option<HalfDay> {
        self.half
    }

    /// The same slot with its day renumbered (its day table changed).
    pub(crate) fn renumbered(self, day: impl Fn(u32) -> u32) -> Slot {
        Slot {
            day: self.day.map(day),
            half: self.half,
        }
    }

    /// What the capacity of an examiner counts over in a slot like this one.
    pub(crate) fn kind(self) -> SlotKind {
        match (self.day, self.half) {
            (None, _) => SlotKind::Period,
            (Some(_), None) => SlotKind::Day,
            (Some(_), Some(_)) => SlotKind::HalfDay,
        }
    }

    /// Whether one examiner could not serve both slots: the same day, and the same half
    /// or a whole day on either side. Without days every cell is the whole period.
    pub(crate) fn overlaps(self, other: Slot) -> bool {
        self.day == other.day
            && (self.half == other.half || self.half.is_none() || other.half.is_none())
    }
}

/// The unit `--capacity` counts in: what one examiner hears in a half-day, a day, or the
/// whole oral period when the data has no slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotKind {
    Period,
    Day,
    HalfDay,
}

impl SlotKind {
    /// The kind's stable name in files (`manifest.json`).
    pub(crate) const fn code(self) -> &'static str {
        match self {
            SlotKind::Period => "period",
            SlotKind::Day => "day",
            SlotKind::HalfDay => "half_day",
        }
    }

    /// Candidates one examiner hears in a slot of this kind when `--capacity` is not
    /// given. An oral is 20 minutes of preparation then 20 of interrogation: a real
    /// timetable calls one candidate every 30 minutes and keeps slack for latecomers,
    /// about 8 a morning and 15 a day; the whole period (two to three days) is given
    /// 24. No official figure exists: these are defaults, not rules.
    pub(crate) const fn default_capacity(self) -> usize {
        match self {
            SlotKind::Period => 24,
            SlotKind::Day => 15,
            SlotKind::HalfDay => 8,
        }
    }
}

/// The most candidates one examiner can be said to hear (the option and the capacity
/// file): far above any oral period, and small enough that no count overflows.
pub(crate) const MAX_CAPACITY: usize = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    /// The order of slots is the order of their labels: what the outputs were sorted by
    /// when slots were pairs of strings ("" for none, "am" before "pm").
    #[test]
    fn slots_sort_as_their_labels() {
        let mut slots = [
            Slot::on(1, Some(HalfDay::Pm)),
            Slot::on(0, None),
            Slot::on(1, Some(HalfDay::Am)),
            Slot::PERIOD,
            Slot::on(0, Some(HalfDay::Am)),
        ];
        slots.sort();
        let labels: Vec<(Option<u32>, &str)> = slots
            .iter()
            .map(|s| (s.day(), s.half().map_or("", HalfDay::code)))
            .collect();
        assert_eq!(
            labels,
            [
                (None, ""),
                (Some(0), ""),
                (Some(0), "am"),
                (Some(1), "am"),
                (Some(1), "pm")
            ]
        );
    }

    #[test]
    fn a_whole_day_overlaps_its_halves_and_nothing_else() {
        let (am, pm, day) = (
            Slot::on(0, Some(HalfDay::Am)),
            Slot::on(0, Some(HalfDay::Pm)),
            Slot::on(0, None),
        );
        assert!(am.overlaps(day) && day.overlaps(pm) && am.overlaps(am));
        assert!(!am.overlaps(pm));
        assert!(!am.overlaps(Slot::on(1, Some(HalfDay::Am))));
        assert!(!Slot::PERIOD.overlaps(day) && Slot::PERIOD.overlaps(Slot::PERIOD));
    }
}

//! People: the examiners an office can convene (the roster) and the convocations sent
//! (the summons), shared by planning, which writes them, and results day, which reads
//! them back.

use super::{CellKey, HalfDay};

/// One row of an examiner roster.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RosterEntry {
    pub(crate) examiner_id: String,
    pub(crate) name: String,
    pub(crate) subject: String,
    /// Empty: can be sent to any centre (the pool).
    pub(crate) center: String,
    /// Lower first; rows without a priority come after all numbered ones.
    pub(crate) priority: i64,
    /// Days (a half-day when given) the examiner cannot come, as the roster names them.
    pub(crate) unavailable: Vec<(String, Option<HalfDay>)>,
}

/// Whether an examiner comes (firm) or stays on call (reserve).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    Firm,
    Reserve,
}

impl Role {
    /// Both roles, firm first: the order the plan fills them in.
    pub(crate) const ALL: [Role; 2] = [Role::Firm, Role::Reserve];

    /// The code of CSV files (`firm`, `reserve`): the stable contract for scripts.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Role::Firm => "firm",
            Role::Reserve => "reserve",
        }
    }

    /// The role a CSV code names; an empty cell is firm (an office adding an examiner
    /// by hand writes the name, not the role).
    pub(crate) fn from_code(code: &str) -> Option<Role> {
        match code {
            "" | "firm" => Some(Role::Firm),
            "reserve" => Some(Role::Reserve),
            _ => None,
        }
    }
}

/// One examiner convened for one cell, or on call for a zone.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Summon {
    pub(crate) examiner_id: String,
    pub(crate) name: String,
    /// For a zone's pooled reserve, the zone's first centre: results day sends the
    /// examiner to whichever centre of the zone is short ([`Summon::zone`]).
    pub(crate) cell: CellKey,
    pub(crate) role: Role,
    /// `Some`: a reserve pooled by the zone numbered so in the plan's
    /// [`super::ZoneMap`], for any of its centres; its rows leave the centre empty.
    pub(crate) zone: Option<u32>,
}

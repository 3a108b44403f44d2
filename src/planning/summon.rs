//! Summon: whom to convene for a plan, from the office's roster. The plan says how
//! many examiners each cell needs, firm and in reserve; this names them: local examiners
//! first, then the pool, by priority, each in one cell per half-day and never when the
//! roster says they are away. What the roster cannot fill is a shortage.

use std::collections::HashMap;

use super::Plan;
use crate::data::{CellKey, Dataset, Hosts, Role, RosterEntry, Slot, Summon, ZoneMap};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shortage {
    pub(crate) cell: CellKey,
    pub(crate) role: Role,
    pub(crate) planned: usize,
    pub(crate) summoned: usize,
    /// `Some`: a zone's pooled reserve ([`Summon::zone`]).
    pub(crate) zone: Option<u32>,
}

/// Where examiners are summoned: a cell (firm and its own reserve) or a zone's pool of
/// one subject and slot (reserve only), with how many of each role it needs.
struct Post {
    key: CellKey,
    need: [usize; 2],
    zone: Option<u32>,
}

/// The plan's posts: its cells, then its pools (each keyed by its first cell).
fn posts(plan: &Plan) -> Vec<Post> {
    let cells = plan.cells.iter().map(|c| Post {
        key: c.cell,
        need: [c.examiners, c.reserve],
        zone: None,
    });
    let pools = plan.pools.iter().map(|p| Post {
        key: plan.cells[p.cells[0]].cell,
        need: [0, p.reserve],
        zone: Some(p.zone),
    });
    cells.chain(pools).collect()
}

/// Names the examiners to summon: firm ones for every cell first, then the reserve; for
/// each, local examiners of the subject first, then examiners from the pool, each by
/// priority (lower first) then id. An examiner serves one cell per half-day (per day with
/// day slots; once without slots) and never on a day or half-day the roster says they
/// are unavailable. Local examiners are placed for all cells before the pool is shared
/// out, so that a cell's pool draw never takes someone another cell could only get
/// locally; the pool is then shared in centre, subject, slot order. Where the plan held a
/// centre's orals of a subject at another centre (`hosts`), that centre's examiners of the
/// subject are local to the host: they follow their candidates. A zone's pooled reserve
/// (with `zones`) takes the examiners of any centre of the zone as local.
pub(crate) fn summon(
    plan: &Plan,
    roster: &[RosterEntry],
    (data, hosts, zones): (&Dataset, &Hosts, &ZoneMap),
) -> (Vec<Summon>, Vec<Shortage>) {
    let mut sorted: Vec<&RosterEntry> = roster.iter().collect();
    sorted.sort_by(|a, b| {
        (a.priority, &a.examiner_id, &a.subject, &a.center).cmp(&(
            b.priority,
            &b.examiner_id,
            &b.subject,
            &b.center,
        ))
    });
    let examiners: Vec<Examiner> = sorted.iter().map(|r| Examiner::of(r, data)).collect();
    let posts = posts(plan);
    let mut booked: HashMap<&str, Vec<Slot>> = HashMap::new();
    let mut got: Vec<[Vec<Summon>; 2]> = vec![[Vec::new(), Vec::new()]; posts.len()];
    for role in Role::ALL {
        for pool in [false, true] {
            for (i, post) in posts.iter().enumerate() {
                let key = post.key;
                for e in &examiners {
                    let list = &mut got[i][role as usize];
                    if list.len() >= post.need[role as usize] {
                        break;
                    }
                    let here = match e.place {
                        Place::Pool => pool,
                        Place::At(c) => {
                            let held = hosts.of(c, key.subject);
                            let local = match post.zone {
                                None => held == key.center,
                                Some(z) => zones.of(held) == Some(z),
                            };
                            !pool && local
                        }
                        Place::Elsewhere => false,
                    };
                    let free = !booked
                        .get(e.entry.examiner_id.as_str())
                        .is_some_and(|b| b.iter().any(|s| s.overlaps(key.slot)));
                    let available = !e.away.iter().any(|s| s.overlaps(key.slot));
                    if e.subject == Some(key.subject) && here && free && available {
                        booked
                            .entry(&e.entry.examiner_id)
                            .or_default()
                            .push(key.slot);
                        list.push(Summon {
                            examiner_id: e.entry.examiner_id.clone(),
                            name: e.entry.name.clone(),
                            cell: key,
                            role,
                            zone: post.zone,
                        });
                    }
                }
            }
        }
    }
    let shortages = shortages(&posts, &got);
    let summons = got
        .into_iter()
        .flat_map(|[f, r]| f.into_iter().chain(r))
        .collect();
    (summons, shortages)
}

/// Where a roster entry may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Any centre: the pool.
    Pool,
    /// One centre of the data.
    At(u32),
    /// A centre the candidates do not name: no cell of this plan.
    Elsewhere,
}

/// A roster entry with its names resolved to the data's ids.
struct Examiner<'r> {
    entry: &'r RosterEntry,
    /// `None`: a subject no candidate can take.
    subject: Option<u32>,
    place: Place,
    /// The slots the roster says the examiner is away; a day the data does not name
    /// meets no cell.
    away: Vec<Slot>,
}

impl<'r> Examiner<'r> {
    fn of(entry: &'r RosterEntry, data: &Dataset) -> Examiner<'r> {
        let place = match entry.center.as_str() {
            "" => Place::Pool,
            c => data.center_id(c).map_or(Place::Elsewhere, Place::At),
        };
        let away = entry
            .unavailable
            .iter()
            .filter_map(|(day, half)| data.day_id(day).map(|d| Slot::on(d, *half)))
            .collect();
        Examiner {
            entry,
            subject: data.subject_id(&entry.subject),
            place,
            away,
        }
    }
}

/// The posts and roles the roster could not fill.
fn shortages(posts: &[Post], got: &[[Vec<Summon>; 2]]) -> Vec<Shortage> {
    let mut out = Vec::new();
    for (post, g) in posts.iter().zip(got) {
        for role in Role::ALL {
            let (planned, summoned) = (post.need[role as usize], g[role as usize].len());
            if summoned < planned {
                out.push(Shortage {
                    cell: post.key,
                    role,
                    planned,
                    summoned,
                    zone: post.zone,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::data::HalfDay;
    use crate::planning::CellPlan;

    /// The name tables of the roster tests: centres A to C, two subjects, one day.
    fn names() -> Dataset {
        Dataset {
            centers: ["A", "B", "C"].map(String::from).to_vec(),
            subjects: ["MATHS", "SES"].map(String::from).to_vec(),
            days: vec!["d1".into()],
            ..Dataset::default()
        }
    }

    fn key(center: &str, subject: &str, (day, half): (&str, &str)) -> CellKey {
        let data = names();
        CellKey {
            center: data.center_id(center).unwrap(),
            subject: data.subject_id(subject).unwrap(),
            slot: match day {
                "" => Slot::PERIOD,
                d => Slot::on(data.day_id(d).unwrap(), HalfDay::parse(half)),
            },
        }
    }

    fn cell(center: &str, subject: &str, examiners: usize) -> CellPlan {
        slot_cell(center, subject, ("", ""), examiners, 0)
    }

    fn slot_cell(
        center: &str,
        subject: &str,
        (day, half): (&str, &str),
        examiners: usize,
        reserve: usize,
    ) -> CellPlan {
        CellPlan {
            cell: key(center, subject, (day, half)),
            eligible: 10,
            expected: 1.0,
            examiners,
            reserve,
            capacity: 24,
            expected_uncovered: 0.0,
            expected_uncovered_with_reserve: 0.0,
            expected_calls: 0.0,
        }
    }

    fn entry(id: &str, subject: &str, center: &str, priority: i64) -> RosterEntry {
        RosterEntry {
            examiner_id: id.into(),
            name: format!("Name {id}"),
            subject: subject.into(),
            center: center.into(),
            priority,
            unavailable: Vec::new(),
        }
    }

    fn plan_of(cells: Vec<CellPlan>) -> Plan {
        Plan {
            examiners: cells.iter().map(|c| c.examiners).sum(),
            reserve: cells.iter().map(|c| c.reserve).sum(),
            cells,
            pools: Vec::new(),
            rule: String::new(),
            expected_orals: 0.0,
            expected_uncovered: 0.0,
            expected_uncovered_with_reserve: 0.0,
            expected_calls: 0.0,
            marginal_examiners: 0,
            per_cell_95_examiners: 0,
        }
    }

    fn shortage(
        center: &str,
        subject: &str,
        slot: (&str, &str),
        role: Role,
        planned: usize,
        summoned: usize,
    ) -> Shortage {
        Shortage {
            cell: key(center, subject, slot),
            role,
            planned,
            summoned,
            zone: None,
        }
    }

    #[test]
    fn roster_rules_priority_pool_no_double_and_shortage() {
        let plan = plan_of(vec![
            cell("A", "MATHS", 2),
            cell("B", "MATHS", 2),
            cell("B", "SES", 1),
        ]);
        let roster = vec![
            entry("E9", "MATHS", "A", 2),
            entry("E1", "MATHS", "A", 5),
            entry("E3", "MATHS", "A", 1),
            entry("P2", "MATHS", "", 1),
            entry("P1", "MATHS", "", 1),
            // The same person listed for SES anywhere: only once in total.
            entry("P1", "SES", "", 0),
        ];
        let data = names();
        let (s, short) = summon(
            &plan,
            &roster,
            (&data, &Hosts::default(), &ZoneMap::default()),
        );
        let ids: Vec<(&str, &str, &str)> = s
            .iter()
            .map(|x| {
                let [center, subject, _, _] = data.cell_names(&x.cell);
                (center, subject, x.examiner_id.as_str())
            })
            .collect();
        // Local A by priority (E3 then E9); B has no local examiner: locals come first,
        // then the pool in cell order: B/MATHS takes P1 and P2, leaving nobody for B/SES.
        assert_eq!(
            ids,
            vec![
                ("A", "MATHS", "E3"),
                ("A", "MATHS", "E9"),
                ("B", "MATHS", "P1"),
                ("B", "MATHS", "P2"),
            ]
        );
        assert_eq!(
            short,
            vec![shortage("B", "SES", ("", ""), Role::Firm, 1, 0)]
        );
        let unique: HashSet<&str> = s.iter().map(|x| x.examiner_id.as_str()).collect();
        assert_eq!(unique.len(), s.len());
    }

    /// An examiner serves one cell per half-day, several half-days, never one the roster
    /// says they are away; firm convocations are placed before any reserve.
    #[test]
    fn slots_one_cell_per_half_day_availability_and_firm_before_reserve() {
        let (am, pm) = (("d1", "am"), ("d1", "pm"));
        let plan = plan_of(vec![
            slot_cell("A", "MATHS", am, 1, 1),
            slot_cell("A", "MATHS", pm, 1, 0),
            slot_cell("B", "MATHS", am, 1, 0),
        ]);
        let mut away = entry("E2", "MATHS", "", 1);
        away.unavailable = vec![("d1".into(), Some(HalfDay::Pm))];
        let roster = vec![
            entry("E1", "MATHS", "A", 1),
            away,
            entry("E3", "MATHS", "", 2),
        ];
        let data = names();
        let (s, short) = summon(
            &plan,
            &roster,
            (&data, &Hosts::default(), &ZoneMap::default()),
        );
        let got: Vec<(&str, &str, &str, Role)> = s
            .iter()
            .map(|x| {
                let [center, _, _, half] = data.cell_names(&x.cell);
                (center, half, x.examiner_id.as_str(), x.role)
            })
            .collect();
        assert_eq!(
            got,
            vec![
                // E1 (local) takes both of A's half-days; the pool then gives B its
                // morning examiner (E2, by priority), and A's morning reserve goes to the
                // only examiner still free that morning: E3.
                ("A", "am", "E1", Role::Firm),
                ("A", "am", "E3", Role::Reserve),
                ("A", "pm", "E1", Role::Firm),
                ("B", "am", "E2", Role::Firm),
            ]
        );
        assert!(short.is_empty(), "{short:?}");
        // Nobody twice in one half-day.
        let mut seen = HashSet::new();
        for x in &s {
            assert!(seen.insert((&x.examiner_id, x.cell.slot)), "{x:?}");
        }
        // E2 away in the afternoon: a pool-only afternoon cell gets E3, then runs short.
        let plan = plan_of(vec![slot_cell("C", "MATHS", pm, 2, 0)]);
        let (s, short) = summon(
            &plan,
            &roster,
            (&data, &Hosts::default(), &ZoneMap::default()),
        );
        assert_eq!(
            s.iter().map(|x| x.examiner_id.as_str()).collect::<Vec<_>>(),
            ["E3"]
        );
        assert_eq!(short, vec![shortage("C", "MATHS", pm, Role::Firm, 2, 1)]);
    }
}

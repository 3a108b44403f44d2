//! Zones: centres close enough that an examiner can go from one to another within a
//! half-day and a candidate can take one oral in each on the same half-day
//! (`--zones FILE`, `center,zone`), and the regrouping they allow.
//!
//! A cell expecting 1.2 orals needs a whole examiner half-day; three such cells in one
//! town need three examiners where one would do. With zones, the plan may hold the orals
//! of one subject of a zone's centres in one of them, the host (the centre expecting the
//! most of them, so that the fewest candidates travel). Pooling never leaves more orals
//! uncovered at the same examiners (the excess of a sum is at most the sum of the
//! excesses), but it moves candidates, so a (zone, subject) is regrouped only where it
//! saves examiners: at the firm plan's price of an examiner (the orals the marginal
//! rule's last examiner saved), the pooled cells must take fewer examiners than the
//! separate ones. The plan is then made again on the cells as regrouped, to the same
//! target.
//!
//! Owned here: reading zones against a dataset and choosing the regrouping. Where a
//! (centre, subject)'s orals are held is [`Hosts`], a data type the forecast's cells and
//! the backtest's counts read.

use std::collections::{BTreeMap, HashMap};

use crate::data::{Dataset, Hosts, ZoneMap};
use crate::forecast::{Forecast, ForecastCell};
use crate::model::Model;
use crate::planning::{examiners_at, marginal_price, PlanOptions};

/// Each centre of a dataset's zone, and how the plan regroups them.
#[derive(Debug, Clone)]
pub(crate) struct Zones {
    pub(crate) map: ZoneMap,
    pub(crate) regroup: Regroup,
}

/// Which (zone, subject)s the plan holds at one centre (`--regroup`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Regroup {
    /// Wherever it saves examiners ([`choose`]).
    #[default]
    Auto,
    /// Nowhere: every oral at its own centre.
    None,
    /// The office's choice: each (zone, subject) of the list at its host, by the
    /// dataset's numbers (subject, host centre); the zone is the host's.
    Chosen(Vec<(u32, u32)>),
}

impl Zones {
    /// The zones of `table` (centre name to zone name) for `data`'s centres. A centre the
    /// file does not list is a zone of its own (named after it), which regroups nothing;
    /// those are returned to be said, as are the file's centres the data does not have.
    pub(crate) fn of(table: &BTreeMap<String, String>, data: &Dataset) -> (Zones, Unlisted) {
        let zone_of = |c: &String| table.get(c).cloned().unwrap_or_else(|| c.clone());
        let map = ZoneMap::new(data.centers.iter().map(zone_of).collect());
        let unlisted = Unlisted {
            centers: data
                .centers
                .iter()
                .filter(|c| !table.contains_key(*c))
                .cloned()
                .collect(),
            unknown: table
                .keys()
                .filter(|c| data.center_id(c).is_none())
                .cloned()
                .collect(),
        };
        let zones = Zones {
            map,
            regroup: Regroup::Auto,
        };
        (zones, unlisted)
    }

    pub(crate) fn of_center(&self, center: u32) -> u32 {
        self.map.of(center).expect("a centre of the dataset")
    }

    /// The name of `center`'s zone.
    pub(crate) fn name_of(&self, center: u32) -> &str {
        &self.map.names[self.of_center(center) as usize]
    }
}

/// What a zones file and a dataset do not share: the data's centres it does not list
/// (each a zone alone) and its centres the data does not have (ignored).
#[derive(Debug, Clone, Default)]
pub(crate) struct Unlisted {
    pub(crate) centers: Vec<String>,
    pub(crate) unknown: Vec<String>,
}

/// Every (zone, subject)'s orals at its host: the centre of the zone with the most
/// expected orals of the subject in `cells` (the lowest-numbered on a tie), so that the
/// fewest candidates travel.
pub(crate) fn all_at_hosts(zones: &Zones, cells: &[ForecastCell]) -> Hosts {
    let mut expected: BTreeMap<(u32, u32), BTreeMap<u32, f64>> = BTreeMap::new();
    for c in cells {
        let zone = zones.of_center(c.key.center);
        *expected
            .entry((zone, c.key.subject))
            .or_default()
            .entry(c.key.center)
            .or_default() += c.expected();
    }
    let mut hosts = Hosts::default();
    for ((_, subject), centers) in expected {
        let host = centers
            .iter()
            .fold(None, |best: Option<(u32, f64)>, (&c, &e)| match best {
                Some((_, b)) if b >= e => best,
                _ => Some((c, e)),
            })
            .map(|(c, _)| c);
        for (&center, _) in centers.iter() {
            hosts.insert(center, subject, host.unwrap_or(center));
        }
    }
    hosts
}

/// The regrouping the plan keeps: the (zone, subject)s of `all` (every one at its host)
/// whose cells, pooled as in `pooled`, take fewer firm examiners at the price of an
/// examiner in the plan of `apart` (the cells without regrouping) than apart.
pub(crate) fn choose(
    zones: &Zones,
    apart: &[ForecastCell],
    pooled: &[ForecastCell],
    all: &Hosts,
    opts: &PlanOptions,
    data: &Dataset,
) -> Hosts {
    let price = marginal_price(apart, opts, data);
    let mut need: HashMap<(u32, u32), (usize, usize)> = HashMap::new();
    for c in apart {
        let group = (zones.of_center(c.key.center), c.key.subject);
        need.entry(group).or_default().0 += examiners_at(c, opts, data, price);
    }
    for c in pooled {
        let group = (zones.of_center(c.key.center), c.key.subject);
        need.entry(group).or_default().1 += examiners_at(c, opts, data, price);
    }
    let mut hosts = Hosts::default();
    for (center, subject, host) in all.moved() {
        let (apart, pooled) = need[&(zones.of_center(host), subject)];
        if pooled < apart {
            hosts.insert(center, subject, host);
        }
    }
    hosts
}

/// The regrouping of `fc`'s cells in `zones`: as `zones.regroup` says, and by default
/// the one `opts`'s plan keeps (see [`choose`]), the cells widened by `k` as the firm
/// plan's are.
fn regroup(
    zones: &Zones,
    fc: &Forecast,
    (model, data): (&Model, &Dataset),
    k: f64,
    opts: &PlanOptions,
) -> Hosts {
    match &zones.regroup {
        Regroup::Auto => {}
        Regroup::None => return Hosts::default(),
        Regroup::Chosen(list) => return chosen(zones, list, data),
    }
    let all = all_at_hosts(zones, &fc.cells);
    let pooled = fc.cells_hosted(model, data, k, &all);
    choose(zones, &fc.cells, &pooled, &all, opts, data)
}

/// A plan's cells regrouped in its zones: where the orals are held, and the cells widened
/// as the firm plan's and the reserve's are.
pub(crate) struct Regrouped {
    pub(crate) hosts: Hosts,
    pub(crate) firm: Vec<ForecastCell>,
    pub(crate) reserve: Vec<ForecastCell>,
}

/// [`regroup`]'s hosts for the firm widening `k.0`, with the cells as they then are at
/// the firm and the reserve widenings (`k.1`).
pub(crate) fn regrouped(
    zones: &Zones,
    fc: &Forecast,
    (model, data): (&Model, &Dataset),
    (firm, reserve): (f64, f64),
    opts: &PlanOptions,
) -> Regrouped {
    let hosts = regroup(zones, fc, (model, data), firm, opts);
    Regrouped {
        firm: fc.cells_hosted(model, data, firm, &hosts),
        reserve: fc.cells_hosted(model, data, reserve, &hosts),
        hosts,
    }
}

/// The office's regrouping: every centre of the host's zone holds its orals of the
/// subject at the host.
fn chosen(zones: &Zones, list: &[(u32, u32)], data: &Dataset) -> Hosts {
    let mut hosts = Hosts::default();
    for &(subject, host) in list {
        let zone = zones.of_center(host);
        for center in 0..data.centers.len() as u32 {
            if zones.of_center(center) == zone {
                hosts.insert(center, subject, host);
            }
        }
    }
    hosts
}

/// `hosts` as names, (centre, subject, host centre), for the files and the manifest.
pub(crate) fn host_names(hosts: &Hosts, data: &Dataset) -> Vec<[String; 3]> {
    let name = |c: u32| data.centers[c as usize].clone();
    hosts
        .moved()
        .map(|(c, s, h)| [name(c), data.subjects[s as usize].clone(), name(h)])
        .collect()
}

/// Each centre's zone as names, (centre, zone), for the manifest: what `confirm` needs
/// to send pooled reserves and move examiners (nothing without zones).
pub(crate) fn zone_names(zones: &ZoneMap, data: &Dataset) -> Vec<[String; 2]> {
    data.centers
        .iter()
        .zip(zones.zone_names())
        .map(|(c, z)| [c.clone(), z.to_string()])
        .collect()
}

/// The zones named in a plan's manifest (or read from `--zones`), centre by centre, for
/// `data`: a centre the table does not name is a zone of its own.
pub(crate) fn map_of_names(table: &BTreeMap<String, String>, data: &Dataset) -> ZoneMap {
    Zones::of(table, data).0.map
}

/// The hosts named in a plan's manifest, for `data`: an error naming the first centre or
/// subject the data does not have.
pub(crate) fn hosts_of_names(names: &[[String; 3]], data: &Dataset) -> Result<Hosts, String> {
    let shown = |what: &str, n: &str| format!("{what} '{}'", crate::shown::escape_controls(n, 60));
    let center = |n: &String| data.center_id(n).ok_or_else(|| shown("the centre", n));
    let mut hosts = Hosts::default();
    for [c, s, h] in names {
        let subject = data.subject_id(s).ok_or_else(|| shown("the subject", s))?;
        hosts.insert(center(c)?, subject, center(h)?);
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::data::{CellKey, Slot};
    use crate::forecast::CountDist;

    fn cell(center: u32, subject: u32, ps: &[f64]) -> ForecastCell {
        ForecastCell {
            key: CellKey {
                center,
                subject,
                slot: Slot::PERIOD,
            },
            eligible: ps.len(),
            dist: CountDist::poisson_binomial(ps),
            shared: None,
        }
    }

    /// The excess of a sum is at most the sum of the excesses: whatever the cells and
    /// their examiners, one cell holding them all with the same examiners leaves no more
    /// orals uncovered (200 random zones of 2 to 5 cells).
    #[test]
    fn regrouping_never_raises_expected_uncovered_orals_at_fixed_examiners() {
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        for _ in 0..200 {
            let cap = rng.random_range(1..12);
            let (mut all, mut apart, mut examiners) = (Vec::new(), 0.0, 0);
            for _ in 0..rng.random_range(2..=5) {
                let ps: Vec<f64> = (0..rng.random_range(1..30))
                    .map(|_| rng.random_range(0.0..1.0))
                    .collect();
                let n = rng.random_range(0..4);
                apart += CountDist::poisson_binomial(&ps).expected_excess(n * cap);
                examiners += n;
                all.extend(ps);
            }
            let pooled = CountDist::poisson_binomial(&all).expected_excess(examiners * cap);
            assert!(pooled <= apart + 1e-9, "pooled {pooled} > apart {apart}");
        }
    }

    /// Three centres of a town, each with two candidates of a thin subject and forty of
    /// a thick one, and a centre alone in its zone: the thin subject is held at the centre
    /// expecting most of it and saves examiners; the lone centre moves nothing; no cell
    /// is left without the orals it had.
    #[test]
    fn thin_subjects_are_held_at_one_centre_of_their_zone() {
        let data = Dataset {
            centers: ["A", "B", "C", "D"].map(String::from).to_vec(),
            subjects: ["THICK", "THIN"].map(String::from).to_vec(),
            ..Dataset::default()
        };
        let table: BTreeMap<String, String> = [("A", "town"), ("B", "town"), ("C", "town")]
            .map(|(c, z)| (c.to_string(), z.to_string()))
            .into_iter()
            .collect();
        let (zones, unlisted) = Zones::of(&table, &data);
        assert_eq!(unlisted.centers, vec!["D".to_string()]);
        let thin = |center, p| cell(center, 1, &[p, p]);
        let apart: Vec<ForecastCell> = (0..4)
            .map(|c| cell(c, 0, &[0.5; 40]))
            .chain([thin(0, 0.3), thin(1, 0.4), thin(2, 0.3), thin(3, 0.3)])
            .collect();
        let all = all_at_hosts(&zones, &apart);
        let opts = PlanOptions {
            capacity: 8,
            ..PlanOptions::default()
        };
        let mut pooled_ps = vec![0.3, 0.3, 0.4, 0.4, 0.3, 0.3];
        pooled_ps.sort_by(f64::total_cmp);
        let pooled: Vec<ForecastCell> = (0..4)
            .map(|c| cell(c, 0, &[0.5; 40]))
            .chain([cell(1, 1, &pooled_ps), thin(3, 0.3)])
            .collect();
        let hosts = choose(&zones, &apart, &pooled, &all, &opts, &data);
        assert_eq!(hosts.of(0, 1), 1, "A's thin orals at B, which expects most");
        assert_eq!(hosts.of(2, 1), 1);
        assert_eq!(hosts.of(3, 1), 3, "D is a zone alone");
        let firm = |cells: &[ForecastCell]| crate::planning::plan(cells, &opts, &data).examiners;
        assert!(firm(&pooled) < firm(&apart));
    }
}

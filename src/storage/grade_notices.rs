//! What servers sharing a PostgreSQL database tell each other about current grades (see
//! [`super::grade_sync`]), and a writer's book of the acknowledgements it waits for. Pure:
//! the formats and the bookkeeping, no I/O.
//!
//! - A change notice names the customers whose grades a transaction changes, and, from this
//!   version on, the change: the writing server and a number it gives its changes. A notice
//!   of an earlier version names only customers, and nobody waits for it to be heard.
//! - An acknowledgement says which changes a reader has heard and applied: its lease, then
//!   the changes by writing server.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::Duration,
};

use tokio::sync::oneshot;

use crate::domain::customer::CustomerId;

/// Customers named by one notice: a payload stays under PostgreSQL's 8,000 bytes (an id and
/// its comma are 37, the change's name under 60).
const PER_NOTICE: usize = 200;

/// One change to current grades: the server that writes it and its number there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Change {
    pub(super) server: String,
    pub(super) number: u64,
}

/// A change notice as heard.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Notice {
    /// `None` from a server of an earlier version.
    pub(super) change: Option<Change>,
    pub(super) customers: Vec<CustomerId>,
}

/// The payloads announcing `change` to `customers`: [`PER_NOTICE`] customers at most in each.
pub(super) fn notices(change: &Change, customers: &[CustomerId]) -> Vec<String> {
    customers
        .chunks(PER_NOTICE)
        .map(|chunk| {
            let ids: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            format!("{}/{};{}", change.server, change.number, ids.join(","))
        })
        .collect()
}

/// The notice a payload carries; `None` when it is not one.
pub(super) fn notice(payload: &str) -> Option<Notice> {
    let (change, ids) = match payload.split_once(';') {
        Some((change, ids)) => {
            let (server, number) = change.split_once('/')?;
            let change = Change {
                server: server.to_owned(),
                number: number.parse().ok()?,
            };
            (Some(change), ids)
        }
        None => (None, payload),
    };
    let customers = ids
        .split(',')
        .map(|id| CustomerId::parse(id).ok())
        .collect::<Option<_>>()?;
    Some(Notice { change, customers })
}

/// The payload by which `lease` acknowledges the changes it heard, by writing server.
pub(super) fn acknowledgement(lease: &str, heard: &BTreeMap<String, Vec<u64>>) -> String {
    let mut payload = lease.to_owned();
    for (server, numbers) in heard {
        let numbers: Vec<String> = numbers.iter().map(ToString::to_string).collect();
        payload.push_str(&format!(" {server}/{}", numbers.join(",")));
    }
    payload
}

/// The lease an acknowledgement comes from, and the numbers of `server`'s changes it heard;
/// `None` when the payload is not an acknowledgement.
pub(super) fn acknowledged<'a>(payload: &'a str, server: &str) -> Option<(&'a str, Vec<u64>)> {
    let mut parts = payload.split(' ');
    let lease = parts.next().filter(|lease| !lease.is_empty())?;
    let mut numbers = Vec::new();
    for part in parts {
        let (writer, heard) = part.split_once('/')?;
        if writer == server {
            for number in heard.split(',') {
                numbers.push(number.parse().ok()?);
            }
        }
    }
    Some((lease, numbers))
}

/// The leases a writer read in its transaction, each with how long it had left, as the
/// statement that announces a change lists them: `lease=milliseconds`, comma-separated.
pub(super) fn leases(listed: &str) -> Option<Vec<(String, Duration)>> {
    listed
        .split(',')
        .filter(|lease| !lease.is_empty())
        .map(|lease| {
            let (id, left) = lease.split_once('=')?;
            Some((id.to_owned(), Duration::from_millis(left.parse().ok()?)))
        })
        .collect()
}

/// The changes a writer waits to hear acknowledged, by number, and by whom.
#[derive(Default)]
pub(super) struct Awaiting {
    changes: HashMap<u64, Awaited>,
}

struct Awaited {
    /// The leases yet to acknowledge the change.
    leases: HashSet<String>,
    /// Told once none is left.
    heard: Option<oneshot::Sender<()>>,
}

impl Awaiting {
    /// Waits for `leases` to acknowledge change `number`: what it returns completes once
    /// every one has, or is gone (at once when there is none).
    pub(super) fn expect(
        &mut self,
        number: u64,
        leases: impl IntoIterator<Item = String>,
    ) -> oneshot::Receiver<()> {
        let (heard, hearing) = oneshot::channel();
        let mut awaited = Awaited {
            leases: leases.into_iter().collect(),
            heard: Some(heard),
        };
        if awaited.settled() {
            return hearing;
        }
        self.changes.insert(number, awaited);
        hearing
    }

    /// `lease` has heard changes `numbers`.
    pub(super) fn acknowledged(&mut self, lease: &str, numbers: &[u64]) {
        for number in numbers {
            if let Some(awaited) = self.changes.get_mut(number) {
                awaited.leases.remove(lease);
                if awaited.settled() {
                    self.changes.remove(number);
                }
            }
        }
    }

    /// `leases` ran out without acknowledging change `number`: they serve nothing from memory.
    pub(super) fn gone(&mut self, number: u64, leases: &[String]) {
        if let Some(awaited) = self.changes.get_mut(&number) {
            for lease in leases {
                awaited.leases.remove(lease);
            }
            if awaited.settled() {
                self.changes.remove(&number);
            }
        }
    }

    /// The leases change `number` still waits for.
    pub(super) fn pending(&self, number: u64) -> Vec<String> {
        self.changes
            .get(&number)
            .map(|awaited| awaited.leases.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Stops waiting for change `number` (its transaction did not commit, or its writer gave
    /// up).
    pub(super) fn forget(&mut self, number: u64) {
        self.changes.remove(&number);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.changes.len()
    }
}

impl Awaited {
    /// Tells the writer when no lease is left to hear from; whether none is.
    fn settled(&mut self) -> bool {
        if !self.leases.is_empty() {
            return false;
        }
        if let Some(heard) = self.heard.take() {
            let _ = heard.send(());
        }
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tokio::sync::oneshot::error::TryRecvError;

    use super::*;

    fn change(number: u64) -> Change {
        Change {
            server: "0192f0c4-7d1e-7000-8000-000000000001".to_owned(),
            number,
        }
    }

    #[test]
    fn notices_name_the_change_and_every_customer_and_stay_under_postgresqls_limit() {
        let customers: Vec<_> = (0..450).map(|_| CustomerId::generate()).collect();

        let payloads = notices(&change(u64::MAX), &customers);

        assert_eq!(payloads.len(), 3);
        assert!(payloads.iter().all(|payload| payload.len() < 8_000));
        let heard: Vec<Notice> = payloads.iter().map(|p| notice(p).unwrap()).collect();
        assert!(heard.iter().all(|n| n.change == Some(change(u64::MAX))));
        let named: Vec<_> = heard.into_iter().flat_map(|n| n.customers).collect();
        assert_eq!(named, customers);
    }

    #[test]
    fn a_notice_of_an_earlier_version_names_customers_and_no_change() {
        let customer = CustomerId::generate();

        assert_eq!(
            notice(&customer.to_string()),
            Some(Notice {
                change: None,
                customers: vec![customer],
            })
        );
    }

    #[test]
    fn a_payload_that_is_not_a_notice_is_not_heard_as_one() {
        let customer = CustomerId::generate();
        assert_eq!(notice(&format!("{customer},someone")), None);
        assert_eq!(notice(""), None);
        assert_eq!(notice(&format!("server;{customer}")), None);
        assert_eq!(notice(&format!("server/x;{customer}")), None);
    }

    #[test]
    fn an_acknowledgement_gives_each_writer_the_numbers_of_its_changes() {
        let heard = BTreeMap::from([
            ("writer-a".to_owned(), vec![3, 7]),
            ("writer-b".to_owned(), vec![1]),
        ]);

        let payload = acknowledgement("lease-1", &heard);

        assert_eq!(
            acknowledged(&payload, "writer-a"),
            Some(("lease-1", vec![3, 7]))
        );
        assert_eq!(
            acknowledged(&payload, "writer-b"),
            Some(("lease-1", vec![1]))
        );
        assert_eq!(
            acknowledged(&payload, "writer-c"),
            Some(("lease-1", vec![]))
        );
        assert_eq!(acknowledged("", "writer-a"), None);
        assert_eq!(acknowledged("lease-1 writer-a/x", "writer-a"), None);
    }

    #[test]
    fn leases_are_read_with_what_they_have_left() {
        assert_eq!(
            leases("a=250,b=1000"),
            Some(vec![
                ("a".to_owned(), Duration::from_millis(250)),
                ("b".to_owned(), Duration::from_millis(1000)),
            ])
        );
        assert_eq!(leases(""), Some(vec![]));
        assert_eq!(leases("a"), None);
    }

    #[test]
    fn a_change_is_heard_once_every_lease_acknowledged_it() {
        let mut awaiting = Awaiting::default();
        let mut hearing = awaiting.expect(1, ["a".to_owned(), "b".to_owned()]);
        let mut other = awaiting.expect(2, ["a".to_owned()]);

        awaiting.acknowledged("a", &[1]);
        assert_eq!(hearing.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(awaiting.pending(1), ["b".to_owned()]);
        assert_eq!(other.try_recv(), Err(TryRecvError::Empty), "not change 2");

        awaiting.acknowledged("b", &[1]);
        assert_eq!(hearing.try_recv(), Ok(()));
        assert_eq!(awaiting.len(), 1);
    }

    #[test]
    fn a_change_no_lease_waits_for_is_heard_at_once() {
        let mut awaiting = Awaiting::default();

        assert_eq!(awaiting.expect(1, []).try_recv(), Ok(()));
        assert_eq!(awaiting.len(), 0);
    }

    #[test]
    fn a_lease_that_ran_out_is_not_waited_for() {
        let mut awaiting = Awaiting::default();
        let mut hearing = awaiting.expect(1, ["a".to_owned(), "b".to_owned()]);

        awaiting.acknowledged("a", &[1]);
        awaiting.gone(1, &["b".to_owned()]);

        assert_eq!(hearing.try_recv(), Ok(()));
        assert_eq!(awaiting.len(), 0);
    }

    #[test]
    fn a_forgotten_change_is_not_waited_for() {
        let mut awaiting = Awaiting::default();
        let mut hearing = awaiting.expect(1, ["a".to_owned()]);

        awaiting.forget(1);
        awaiting.acknowledged("a", &[1]);

        assert_eq!(hearing.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(awaiting.len(), 0);
    }
}

//! Document numbers (文号) handed out as letters are written, gap-free per sender and
//! year (DESIGN §6): a letter holds its number before its commit, so the number is
//! taken when the plan is made, held while the commit is decided, and kept if it was
//! written. A number whose commit failed goes back, and the next letter takes it: the
//! pool is then rebuilt from the store (the numbers written, less those still held).
//!
//! Where replicas share the store, each number taken is also claimed in it, so that no
//! two processes hand out the same one: a number above all those taken comes from the
//! store's counter of the sender's year, claimed in the same statement; a free one
//! below (given back, or lapsed) is claimed, and left to another process that claimed
//! it first. A claim lapses after [`CLAIM`] (its process gone), and pools are rebuilt
//! at least that often, so a number a lost process held is handed out again.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex, PoisonError},
};

use chrono::{DateTime, Utc};

use super::AppError;
use crate::{
    domain::MemberCode,
    store::{NumberClaim, SeqsTaken, Store},
};

/// How long a process's claim on a number stands: far longer than a plan and its
/// commit take.
const CLAIM: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Numbers in a row found claimed by other processes before a take gives up.
const ATTEMPTS: usize = 32;

/// Each sender's numbers of each year, as this process hands them out.
pub struct Numbers {
    pools: Mutex<HashMap<(MemberCode, i32), Pool>>,
    /// Held while a pool is rebuilt from the store: the takes that find it stale
    /// meanwhile wait and take from the rebuilt pool rather than each reading the store
    /// (a stale pool under load set off as many reads as submits in flight).
    rebuilding: tokio::sync::Mutex<()>,
    /// Counts the pools rebuilt.
    rebuilt: prometheus::IntCounter,
    /// This process, as its claims name it.
    holder: String,
}

impl Numbers {
    /// No pool yet; `rebuilt` counts the pools rebuilt from the store.
    pub fn new(rebuilt: prometheus::IntCounter) -> Self {
        Self {
            pools: Mutex::default(),
            rebuilding: tokio::sync::Mutex::default(),
            rebuilt,
            holder: uuid::Uuid::new_v4().to_string(),
        }
    }
}

#[derive(Default)]
struct Pool {
    /// Numbers below `next` not taken and not held: handed out first.
    free: BTreeSet<u32>,
    held: BTreeSet<u32>,
    /// The number after the highest this pool knows taken: on a store one process
    /// writes, the next it hands out; on a shared store, the least it asks the store's
    /// counter for.
    next: u32,
    /// When the pool was built from the store; none since a commit failed.
    built: Option<DateTime<Utc>>,
}

/// What a pool gives a take.
enum Step {
    /// A number below the highest taken, not taken: claimed before it is handed out.
    Free(u32),
    /// None free: the pool's own next, or the store's counter's from `floor` on.
    Next { floor: u32 },
}

impl Pool {
    /// The pool as the store has it (`taken`), with what is held kept out.
    fn rebuild(&mut self, taken: &SeqsTaken, now: DateTime<Utc>) {
        let top = self.held.last().map_or(taken.top, |&held| held.max(taken.top));
        let above = taken.top + 1..=top;
        self.free = taken.free.iter().copied().chain(above).filter(|n| !self.held.contains(n)).collect();
        self.next = top + 1;
        self.built = Some(now);
    }

    /// Built, with no commit failed since, and recently enough that a claim which
    /// lapsed since is seen.
    fn fresh(&self, now: DateTime<Utc>) -> bool {
        self.built.is_some_and(|at| now < at + CLAIM)
    }

    fn step(&mut self) -> Step {
        match self.free.pop_first() {
            Some(seq) => {
                self.held.insert(seq);
                Step::Free(seq)
            }
            None => Step::Next { floor: self.next },
        }
    }

    /// The pool's own next number.
    fn take_next(&mut self) -> u32 {
        let seq = self.next;
        self.next += 1;
        self.held.insert(seq);
        seq
    }

    /// `seq` was taken from the store's counter.
    fn counted(&mut self, seq: u32) -> u32 {
        self.next = self.next.max(seq + 1);
        self.held.insert(seq);
        seq
    }

    #[cfg(test)]
    fn take(&mut self) -> u32 {
        match self.step() {
            Step::Free(seq) => seq,
            Step::Next { .. } => self.take_next(),
        }
    }
}

/// Numbers taken for one plan: given back when dropped unless [`Held::written`].
pub struct Held {
    numbers: Arc<Numbers>,
    taken: Vec<(MemberCode, i32, u32)>,
}

impl Numbers {
    /// The next number of `sender` in `year` at `now`, held by `held`.
    pub async fn take(
        self: &Arc<Self>,
        store: &dyn Store,
        now: DateTime<Utc>,
        held: &mut Held,
        sender: &MemberCode,
        year: i32,
    ) -> Result<u32, AppError> {
        let key = (sender.clone(), year);
        let step = |taken: Option<&SeqsTaken>| {
            let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
            let pool = pools.entry(key.clone()).or_default();
            if let Some(taken) = taken {
                pool.rebuild(taken, now);
                self.rebuilt.inc();
            }
            pool.fresh(now).then(|| pool.step())
        };
        let claim = |seq| NumberClaim {
            sender: sender.clone(),
            year,
            seq,
            holder: self.holder.clone(),
            at: now,
            until: now + CLAIM,
        };
        for attempt in 0..ATTEMPTS {
            let step = match step(None) {
                Some(step) => step,
                None => {
                    let _rebuilding = self.rebuilding.lock().await;
                    match step(None) {
                        Some(step) => step,
                        None => {
                            let taken = store.document_seqs(sender, year, (&self.holder, now)).await?;
                            step(Some(&taken)).expect("a rebuilt pool is fresh")
                        }
                    }
                }
            };
            let seq = match step {
                Step::Free(seq) => seq,
                // Above every number taken: the store's counter hands it out, claimed,
                // so that processes sharing the store never reach for the same one; a
                // store one process writes leaves it to the pool.
                Step::Next { floor } => {
                    let counted = store.claim_next_number(&claim(floor)).await?;
                    let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
                    let pool = pools.entry(key.clone()).or_default();
                    let seq = match counted {
                        Some(seq) => pool.counted(seq),
                        None => pool.take_next(),
                    };
                    held.taken.push((sender.clone(), year, seq));
                    return Ok(seq);
                }
            };
            held.taken.push((sender.clone(), year, seq));
            if store.claim_number(&claim(seq)).await? {
                return Ok(seq);
            }
            // Another process has it: the pool goes on past it, and is rebuilt if the
            // next free one is another's too.
            held.taken.pop();
            let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(pool) = pools.get_mut(&key) {
                pool.held.remove(&seq);
                if attempt > 0 {
                    pool.built = None;
                }
            }
        }
        Err(AppError::Unavailable(format!("every document number of {sender} tried was claimed by another hub; retry")))
    }

    /// Nothing held yet.
    pub fn hold(self: &Arc<Self>) -> Held {
        Held { numbers: self.clone(), taken: Vec::new() }
    }
}

impl Held {
    /// The numbers were written: they are no longer held.
    pub fn written(mut self) {
        self.release(true);
    }

    fn release(&mut self, written: bool) {
        let mut pools = self.numbers.pools.lock().unwrap_or_else(PoisonError::into_inner);
        for (sender, year, seq) in self.taken.drain(..) {
            if let Some(pool) = pools.get_mut(&(sender, year)) {
                pool.held.remove(&seq);
                if !written {
                    pool.built = None;
                }
            }
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.release(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::harness::{at, Harness, T0};

    impl Default for Numbers {
        fn default() -> Self {
            Numbers::new(prometheus::IntCounter::new("rebuilt", "pools rebuilt").unwrap())
        }
    }

    /// Two processes on one shared store never hand out the same number, and the
    /// numbers of one that is gone are handed out again once its claims lapse.
    #[tokio::test]
    #[ignore = "needs PostgreSQL; scripts/test.sh runs it on a throwaway cluster"]
    async fn two_processes_on_a_shared_store_hand_out_each_number_once() {
        let h = Harness::new().await;
        let store = h.hub.store().as_ref();
        let now = at(T0);
        let (a, b) = (Arc::new(Numbers::default()), Arc::new(Numbers::default()));
        let (mut on_a, mut on_b) = (a.hold(), b.hold());
        async fn take(numbers: &Arc<Numbers>, store: &dyn Store, held: &mut Held, at: DateTime<Utc>) -> u32 {
            numbers.take(store, at, held, &MemberCode::parse("jcy").unwrap(), 2026).await.unwrap()
        }
        assert_eq!(take(&a, store, &mut on_a, now).await, 1);
        assert_eq!(take(&b, store, &mut on_b, now).await, 2, "1 is claimed by the other process");
        assert_eq!(take(&a, store, &mut on_a, now).await, 3, "and 2");
        // A is gone with 1 and 3 claimed and never written.
        drop((on_a, a));
        let later = now + chrono::TimeDelta::minutes(1);
        assert_eq!(take(&b, store, &mut on_b, later).await, 4, "3 is still claimed");
        let lapsed = later + CLAIM;
        assert_eq!(take(&b, store, &mut on_b, lapsed).await, 1, "the lapsed claims' numbers are handed out again");
        assert_eq!(take(&b, store, &mut on_b, lapsed).await, 3);
        assert_eq!(take(&b, store, &mut on_b, lapsed).await, 5);
        drop(on_b);
        h.close().await;
    }

    /// Two processes taking one sender's numbers at once get each from the store's
    /// counter: none twice, none skipped, and no pool rebuilt for a claim lost; the
    /// numbers of a process gone, the highest handed out among them, are handed out again
    /// once their claims lapse.
    #[tokio::test]
    #[ignore = "needs PostgreSQL; scripts/test.sh runs it on a throwaway cluster"]
    async fn two_processes_taking_at_once_share_the_stores_counter() {
        let h = Harness::new().await;
        let now = at(T0);
        let jcy = MemberCode::parse("jcy").unwrap();
        let (a, b) = (Arc::new(Numbers::default()), Arc::new(Numbers::default()));
        let takes: Vec<_> = (0..32)
            .map(|n| {
                let numbers = if n % 2 == 0 { a.clone() } else { b.clone() };
                let (store, jcy) = (h.hub.store().clone(), jcy.clone());
                tokio::spawn(async move {
                    let mut held = numbers.hold();
                    let seq = numbers.take(store.as_ref(), now, &mut held, &jcy, 2026).await.unwrap();
                    (seq, held)
                })
            })
            .collect();
        let mut seqs = Vec::new();
        let mut holding = Vec::new();
        for take in takes {
            let (seq, held) = take.await.unwrap();
            seqs.push(seq);
            holding.push(held);
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=32).collect::<Vec<_>>(), "each number once, none skipped");
        // One goes on where the other took meanwhile, from the counter: no claim of
        // its own lost, no pool rebuilt.
        let (mut on_a, mut on_b) = (a.hold(), b.hold());
        for expected in 33..=35 {
            assert_eq!(a.take(h.hub.store().as_ref(), now, &mut on_a, &jcy, 2026).await.unwrap(), expected);
        }
        assert_eq!(b.take(h.hub.store().as_ref(), now, &mut on_b, &jcy, 2026).await.unwrap(), 36);
        assert_eq!((a.rebuilt.get(), b.rebuilt.get()), (1, 1), "each pool built once, at its first take");
        holding.extend([on_a, on_b]);

        // Both gone, nothing written: once their claims lapse, a third process hands
        // out the same numbers again, the counter's last among them, then goes on.
        drop(holding);
        let c = Arc::new(Numbers::default());
        let mut on_c = c.hold();
        let store = h.hub.store().as_ref();
        let lapsed = now + CLAIM;
        for expected in 1..=37 {
            assert_eq!(c.take(store, lapsed, &mut on_c, &jcy, 2026).await.unwrap(), expected);
        }
        drop(on_c);
        h.close().await;
    }

    /// A claim that waits on the row of one a commit is dropping, as it writes the
    /// number, does not take the number once the commit is done.
    #[tokio::test]
    #[ignore = "needs PostgreSQL; scripts/test.sh runs it on a throwaway cluster"]
    async fn a_claim_waiting_on_a_commit_that_writes_the_number_gives_it_up() {
        use sqlx::Connection;
        let h = Harness::new().await;
        let store = h.hub.store().as_ref();
        let now = at(T0);
        let (a, b) = (Arc::new(Numbers::default()), Arc::new(Numbers::default()));
        let (mut on_a, mut on_b) = (a.hold(), b.hold());
        let jcy = MemberCode::parse("jcy").unwrap();
        assert_eq!(a.take(store, now, &mut on_a, &jcy, 2026).await.unwrap(), 1);
        // A's commit of number 1, held open: it drops A's claim and writes the number
        // (its referral left out: only the numbers matter here).
        let url = h.config.database_url.clone().expect("a PostgreSQL store");
        let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
        let mut commit = connection.begin().await.unwrap();
        sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *commit).await.unwrap();
        sqlx::query("DELETE FROM letter_number_claims WHERE sender = 'jcy' AND year = 2026 AND seq = 1")
            .execute(&mut *commit)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO letter_numbers (referral_id, sender, year, seq, prefix) VALUES ('r', 'jcy', 2026, 1, 'x')",
        )
        .execute(&mut *commit)
        .await
        .unwrap();
        // B's pool was built before A claimed, so B tries 1 first and waits on the row.
        let claim = NumberClaim {
            sender: jcy.clone(),
            year: 2026,
            seq: 1,
            holder: b.holder.to_string(),
            until: now + CLAIM,
            at: now,
        };
        let waiting = tokio::spawn({
            let store = h.hub.store().clone();
            async move { store.claim_number(&claim).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!waiting.is_finished(), "the claim waits on the commit");
        commit.commit().await.unwrap();
        assert!(!waiting.await.unwrap().unwrap(), "the number written meanwhile is not claimed");
        assert_eq!(b.take(store, now, &mut on_b, &jcy, 2026).await.unwrap(), 2);
        drop((on_a, on_b));
        h.close().await;
    }

    /// Takes that find the pool stale at once wait for one rebuild and take from it
    /// rather than each reading the store.
    #[tokio::test]
    async fn takes_finding_the_pool_stale_at_once_rebuild_it_once() {
        let h = Harness::new().await;
        let numbers = Arc::new(Numbers::default());
        let jcy = MemberCode::parse("jcy").unwrap();
        let takes: Vec<_> = (0..16)
            .map(|_| {
                let (numbers, store, jcy) = (numbers.clone(), h.hub.store().clone(), jcy.clone());
                tokio::spawn(async move {
                    let mut held = numbers.hold();
                    let seq = numbers.take(store.as_ref(), at(T0), &mut held, &jcy, 2026).await.unwrap();
                    held.written();
                    seq
                })
            })
            .collect();
        let mut seqs = Vec::new();
        for take in takes {
            seqs.push(take.await.unwrap());
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=16).collect::<Vec<u32>>());
        assert_eq!(numbers.rebuilt.get(), 1);
        h.close().await;
    }

    /// The store tells the highest number taken and the free ones below it.
    #[tokio::test]
    async fn the_store_tells_the_highest_number_taken_and_the_free_ones_below_it() {
        use sqlx::Connection;
        let h = Harness::new().await;
        let store = h.hub.store().as_ref();
        let jcy = MemberCode::parse("jcy").unwrap();
        let taken = || store.document_seqs(&jcy, 2026, ("this process", at(T0)));
        assert_eq!(taken().await.unwrap(), SeqsTaken::default());
        h.refer("王芳", &["mz"]).await;
        h.refer("李娜", &["mz"]).await;
        assert_eq!(taken().await.unwrap(), SeqsTaken { top: 2, free: vec![] });
        // 5 and 9 written as well (their referrals left out: only the numbers matter).
        let written = "INSERT INTO letter_numbers (referral_id, sender, year, seq, prefix) \
                       VALUES ('r5', 'jcy', 2026, 5, 'x'), ('r9', 'jcy', 2026, 9, 'x')";
        match &h.config.database_url {
            Some(url) => {
                let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
                let mut tx = connection.begin().await.unwrap();
                sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await.unwrap();
                sqlx::query(written).execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            }
            None => {
                let connection = rusqlite::Connection::open(h.config.data_dir.join("xianjie.db")).unwrap();
                connection.execute_batch(&format!("PRAGMA foreign_keys = OFF; {written}")).unwrap();
            }
        }
        assert_eq!(taken().await.unwrap(), SeqsTaken { top: 9, free: vec![3, 4, 6, 7, 8] });
        h.close().await;
    }

    #[test]
    fn a_number_not_written_is_handed_out_again_and_none_held_twice() {
        let now = DateTime::<Utc>::default();
        let mut pool = Pool::default();
        pool.rebuild(&SeqsTaken { top: 4, free: vec![3] }, now);
        assert_eq!((pool.take(), pool.take(), pool.take()), (3, 5, 6));
        // 5 failed: rebuilt from the store (1–4 written meanwhile, 6 still held).
        pool.held.remove(&5);
        pool.held.remove(&3);
        pool.rebuild(&SeqsTaken { top: 4, free: vec![] }, now);
        assert_eq!(pool.take(), 5, "the number given back first");
        assert_eq!(pool.take(), 7, "6 is still held");
        assert!(pool.fresh(now) && !pool.fresh(now + CLAIM), "rebuilt once a claim could have lapsed");
    }
}

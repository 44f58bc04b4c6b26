//! Document numbers (文号) handed out as letters are written, gap-free per sender and
//! year (DESIGN §6): a letter holds its number before its commit, so the number is
//! taken when the plan is made, held while the commit is decided, and kept if it was
//! written. A number whose commit failed goes back, and the next letter takes it: the
//! pool is then rebuilt from the store (the numbers written, less those still held),
//! which also heals a number another hub process took meanwhile.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex, PoisonError},
};

use super::AppError;
use crate::{domain::MemberCode, store::Store};

/// Each sender's numbers of each year, as this process hands them out.
#[derive(Default)]
pub struct Numbers {
    pools: Mutex<HashMap<(MemberCode, i32), Pool>>,
}

#[derive(Default)]
struct Pool {
    /// Numbers below `next` not written and not held: handed out first.
    free: BTreeSet<u32>,
    held: BTreeSet<u32>,
    next: u32,
    /// Built from the store at least once, and no commit failed since.
    fresh: bool,
}

impl Pool {
    /// The pool as the store has it (`written`), with what is held kept out.
    fn rebuild(&mut self, written: &[u32]) {
        let top = written.iter().chain(&self.held).copied().max().unwrap_or(0);
        let written: BTreeSet<u32> = written.iter().copied().collect();
        self.free = (1..=top).filter(|n| !written.contains(n) && !self.held.contains(n)).collect();
        self.next = top + 1;
        self.fresh = true;
    }

    fn take(&mut self) -> u32 {
        let seq = self.free.pop_first().unwrap_or_else(|| {
            self.next += 1;
            self.next - 1
        });
        self.held.insert(seq);
        seq
    }
}

/// Numbers taken for one plan: given back when dropped unless [`Held::written`].
pub struct Held {
    numbers: Arc<Numbers>,
    taken: Vec<(MemberCode, i32, u32)>,
}

impl Numbers {
    /// The next number of `sender` in `year`, held by `held`.
    pub async fn take(
        self: &Arc<Self>,
        store: &dyn Store,
        held: &mut Held,
        sender: &MemberCode,
        year: i32,
    ) -> Result<u32, AppError> {
        let key = (sender.clone(), year);
        let take = |written: Option<&[u32]>| {
            let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
            let pool = pools.entry(key.clone()).or_default();
            if let Some(written) = written {
                pool.rebuild(written);
            }
            pool.fresh.then(|| pool.take())
        };
        let seq = match take(None) {
            Some(seq) => seq,
            None => {
                let written = store.document_seqs(sender, year).await?;
                take(Some(&written)).expect("a rebuilt pool is fresh")
            }
        };
        held.taken.push((sender.clone(), year, seq));
        Ok(seq)
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
                    pool.fresh = false;
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

    #[test]
    fn a_number_not_written_is_handed_out_again_and_none_held_twice() {
        let mut pool = Pool::default();
        pool.rebuild(&[1, 2, 4]);
        assert_eq!((pool.take(), pool.take(), pool.take()), (3, 5, 6));
        // 5 failed: rebuilt from the store (1–4 and 6 written meanwhile? 6 still held).
        pool.held.remove(&5);
        pool.held.remove(&3);
        pool.rebuild(&[1, 2, 3, 4]);
        assert_eq!(pool.take(), 5, "the number given back first");
        assert_eq!(pool.take(), 7, "6 is still held");
    }
}

//! `last_active_at` without a write per request: checks note the latest
//! instant per session in memory, and a worker flushes them in one batch.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct ActivityTracker {
    pending: Mutex<HashMap<String, i64>>,
}

impl ActivityTracker {
    pub fn touch(&self, session_id: &str, at_ms: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        match pending.get_mut(session_id) {
            Some(t) => *t = (*t).max(at_ms),
            None => {
                pending.insert(session_id.to_string(), at_ms);
            }
        }
    }

    /// The latest activity not yet flushed, if any.
    pub fn pending_for(&self, session_id: &str) -> Option<i64> {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(session_id)
            .copied()
    }

    pub fn drain(&self) -> Vec<(String, i64)> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_touches_make_one_pending_write() {
        let t = ActivityTracker::default();
        t.touch("ses_a", 10);
        t.touch("ses_a", 30);
        t.touch("ses_a", 20);
        t.touch("ses_b", 5);
        let mut drained = t.drain();
        drained.sort();
        assert_eq!(
            drained,
            vec![("ses_a".to_string(), 30), ("ses_b".to_string(), 5)]
        );
        assert!(t.drain().is_empty());
    }
}

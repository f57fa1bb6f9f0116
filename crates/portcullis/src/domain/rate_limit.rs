//! The rate-limit rule: GCRA (the generic cell rate algorithm, as in
//! governor). A key's whole state is one instant, its "theoretical arrival
//! time" (TAT), so it fits one row in a shared database as well as one map
//! entry in memory. A quota of `n` per period allows a burst of `n`, then
//! one more every `period / n`.

/// `count` events per `period_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub count: u32,
    pub period_ms: i64,
}

impl Quota {
    pub fn per_minute(count: u32) -> Quota {
        Quota {
            count,
            period_ms: 60_000,
        }
    }

    pub fn per_hour(count: u32) -> Quota {
        Quota {
            count,
            period_ms: 3_600_000,
        }
    }

    pub fn per_day(count: u32) -> Quota {
        Quota {
            count,
            period_ms: 86_400_000,
        }
    }

    /// Time one event uses up (at least 1 ms).
    pub fn interval_ms(&self) -> i64 {
        (self.period_ms / i64::from(self.count.max(1))).max(1)
    }

    /// How far ahead of now the TAT may run: the burst.
    pub fn tolerance_ms(&self) -> i64 {
        self.interval_ms() * i64::from(self.count.max(1))
    }
}

/// One event at `now_ms` for a key whose TAT is `tat_ms` (none if new):
/// `Ok(new TAT)` when allowed, `Err(ms to wait)` when not (TAT unchanged).
pub fn admit(tat_ms: Option<i64>, now_ms: i64, quota: Quota) -> Result<i64, i64> {
    let new_tat = tat_ms.unwrap_or(now_ms).max(now_ms) + quota.interval_ms();
    let ahead = new_tat - now_ms;
    if ahead > quota.tolerance_ms() {
        Err(ahead - quota.tolerance_ms())
    } else {
        Ok(new_tat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn three_a_minute_is_a_burst_of_three_then_one_every_twenty_seconds() {
        let q = Quota::per_minute(3);
        let mut tat = None;
        for _ in 0..3 {
            tat = Some(admit(tat, 0, q).unwrap());
        }
        assert_eq!(admit(tat, 0, q), Err(20_000));
        assert_eq!(admit(tat, 19_999, q), Err(1));
        let after = admit(tat, 20_000, q).unwrap();
        assert_eq!(admit(Some(after), 20_000, q), Err(20_000));
        // Idle long enough, the burst is whole again.
        let mut tat = Some(after);
        for _ in 0..3 {
            tat = Some(admit(tat, 200_000, q).unwrap());
        }
        assert!(admit(tat, 200_000, q).is_err());
    }

    proptest! {
        /// Between any two allowed events at `t_i <= t_j`, at most
        /// `count + (t_j - t_i) / interval` events pass: the burst plus the
        /// sustained rate, whatever the arrival pattern.
        #[test]
        fn never_more_than_the_burst_plus_the_rate(
            count in 1u32..20,
            gaps in proptest::collection::vec(0i64..5_000, 1..200),
        ) {
            let q = Quota::per_minute(count);
            let mut tat = None;
            let mut now = 0;
            let mut passed = Vec::new();
            for gap in gaps {
                now += gap;
                if let Ok(t) = admit(tat, now, q) {
                    tat = Some(t);
                    passed.push(now);
                }
            }
            for i in 0..passed.len() {
                for j in i..passed.len() {
                    let events = (j - i + 1) as i64;
                    let allowed = i64::from(count) + (passed[j] - passed[i]) / q.interval_ms();
                    prop_assert!(events <= allowed, "{events} > {allowed}");
                }
            }
        }
    }
}

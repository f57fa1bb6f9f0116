//! The test clock: moving it, and reading it as the API writes times.

use super::app::TestApp;

impl TestApp {
    pub fn advance(&self, by: time::Duration) {
        self.clock.advance(by);
    }

    /// The controlled clock's "now" as the API prints it.
    pub fn clock_rfc3339(&self) -> String {
        use portcullis::clock::Clock;
        portcullis::clock::rfc3339(portcullis::clock::to_millis(self.clock.now()))
    }

    /// The controlled clock's "now" moved by `by`, as RFC 3339 in whole
    /// seconds (how a caller writes an expiry).
    pub fn rfc3339_in(&self, by: time::Duration) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.clock_now_s() + by.whole_seconds())
            .expect("a time")
            .format(&time::format_description::well_known::Rfc3339)
            .expect("formats")
    }

    /// The test clock, in Unix seconds.
    pub fn clock_now_s(&self) -> i64 {
        use portcullis::clock::Clock;
        self.clock.now().unix_timestamp()
    }
}

//! Prometheus metrics, recorded through a recorder owned by the application
//! (not the process-global one), so several servers in one process — as in
//! the tests — keep their own figures.

use std::sync::Arc;

use axum::http::Method;
use metrics::{Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

const META: Metadata<'static> = Metadata::new("portcullis", Level::INFO, None);

#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl Metrics {
    pub fn new() -> Result<Self, String> {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("duration_seconds".into()),
                &[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ],
            )
            .map_err(|e| e.to_string())?
            .build_recorder();
        let handle = recorder.handle();
        Ok(Self {
            recorder: Arc::new(recorder),
            handle,
        })
    }

    pub fn render(&self) -> String {
        self.handle.render()
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>, by: u64) {
        self.recorder
            .register_counter(&Key::from_parts(name, labels), &META)
            .increment(by);
    }

    /// One answered request. Every label comes from a closed set, whatever
    /// the client sent: the method from [`method_label`], the route as the
    /// matched route template or `unmatched`, the status from 100–999
    /// (what an HTTP status can be). So the number of series is bounded.
    pub fn http_request(&self, method: &Method, route: &str, status: u16, seconds: f64) {
        let labels = vec![
            Label::new("method", method_label(method)),
            Label::new("route", route.to_string()),
            Label::new("status", status.to_string()),
        ];
        self.counter("portcullis_http_requests_total", labels.clone(), 1);
        self.recorder
            .register_histogram(
                &Key::from_parts(
                    "portcullis_http_request_duration_seconds",
                    labels[..2].to_vec(),
                ),
                &META,
            )
            .record(seconds);
    }

    pub fn sign_in(&self, method: &'static str, outcome: &'static str) {
        self.counter(
            "portcullis_sign_ins_total",
            vec![Label::new("method", method), Label::new("outcome", outcome)],
            1,
        );
    }

    pub fn revocation(&self, scope: &'static str, sessions: u64) {
        self.counter(
            "portcullis_revocations_total",
            vec![Label::new("scope", scope)],
            1,
        );
        self.counter(
            "portcullis_revoked_sessions_total",
            vec![Label::new("scope", scope)],
            sessions,
        );
    }

    pub fn session_check(&self, outcome: &'static str) {
        self.counter(
            "portcullis_session_checks_total",
            vec![Label::new("outcome", outcome)],
            1,
        );
    }

    /// A browser request to the SDK API answered by the CORS check:
    /// `preflight` (allowed, answered 204) or `refused` (403).
    pub fn cors(&self, outcome: &'static str) {
        self.counter(
            "portcullis_cors_checks_total",
            vec![Label::new("outcome", outcome)],
            1,
        );
    }

    /// An SDK request refused at the door by the environment lock.
    pub fn locked(&self) {
        self.counter("portcullis_locked_requests_total", vec![], 1);
    }
}

/// A request method as a metrics label: the standard methods by name, any
/// other (a client may send any token) as `other`.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_ones_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        for odd in ["BREW", "get", "X-RANDOM-1", "PROPFIND"] {
            let method = Method::from_bytes(odd.as_bytes()).unwrap();
            assert_eq!(method_label(&method), "other", "{odd}");
        }
    }
}

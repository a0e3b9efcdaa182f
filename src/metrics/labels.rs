//! The label sets of Gatehouse's labelled series and how their values are spelled in
//! the exposition, plus the two small adapters the registry needs (a family declared
//! before its first series, a value read at scrape time). Every label value comes from
//! a closed set chosen by the code, never from raw request data.

use std::borrow::Cow;
use std::fmt::{self, Write};

use prometheus_client::encoding::{
    EncodeLabelSet, EncodeLabelValue, EncodeMetric, LabelValueEncoder, MetricEncoder,
};
use prometheus_client::metrics::MetricType;

use super::{LoginMethod, LoginOutcome};
use crate::domain::user::Realm;

/// `gatehouse_logins_total{realm, method, outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(super) struct LoginLabels {
    pub(super) realm: Realm,
    pub(super) method: LoginMethod,
    pub(super) outcome: LoginOutcome,
}

/// `gatehouse_sso_errors_total{reason}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(super) struct ReasonLabel {
    pub(super) reason: &'static str,
}

/// `gatehouse_forward_auth_decisions_total{decision}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(super) struct DecisionLabel {
    pub(super) decision: &'static str,
}

/// `gatehouse_http_request_duration_seconds{route, method, status}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(super) struct HttpLabels {
    /// Borrowed for the static routes, so their requests allocate nothing here.
    pub(super) route: Cow<'static, str>,
    pub(super) method: &'static str,
    pub(super) status: u16,
}

impl EncodeLabelValue for Realm {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> fmt::Result {
        // Runs at scrape time only; the realm is kept as the enum while counting.
        encoder.write_str(&self.key())
    }
}

impl EncodeLabelValue for LoginMethod {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> fmt::Result {
        encoder.write_str(self.as_str())
    }
}

impl EncodeLabelValue for LoginOutcome {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> fmt::Result {
        encoder.write_str(self.as_str())
    }
}

/// The method label: standard methods by name, anything else as `other`, so odd
/// methods sent by scanners cannot create new series.
pub(super) fn known_method(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// A metric family whose `# HELP`/`# TYPE` lines are served from start-up, even
/// before its first series exists (the registry would otherwise leave empty families
/// out), so a scrape shows every metric Gatehouse exports.
#[derive(Debug)]
pub(super) struct Declared<M>(pub(super) M);

impl<M: EncodeMetric> EncodeMetric for Declared<M> {
    fn encode(&self, encoder: MetricEncoder) -> fmt::Result {
        self.0.encode(encoder)
    }

    fn metric_type(&self) -> MetricType {
        self.0.metric_type()
    }
}

/// A gauge whose value is read at scrape time and handed in; `None` (the value could
/// not be read) serves the family's header without a sample.
#[derive(Debug)]
pub(super) struct ScrapedGauge(pub(super) Option<u64>);

impl EncodeMetric for ScrapedGauge {
    fn encode(&self, mut encoder: MetricEncoder) -> fmt::Result {
        match self.0 {
            Some(value) => encoder.encode_gauge(&value),
            None => Ok(()),
        }
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }
}

//! The Prometheus text-format building blocks behind [`super::Metrics`]: counters,
//! fixed-bucket histograms, families of series by label set, and the text they print.

use std::collections::HashMap;
use std::fmt::Write;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

pub(super) fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value escaped for the text format.
pub(super) fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub(super) struct Counter(AtomicU64);

impl Counter {
    pub(super) fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn value(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A histogram with fixed buckets.
#[derive(Debug)]
pub(super) struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    /// The sum of observations, as `f64` bits.
    sum: AtomicU64,
}

impl Histogram {
    pub(super) fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }

    pub(super) fn observe(&self, value: f64) {
        let index = self.bounds.partition_point(|bound| *bound < value);
        self.buckets[index].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        let _ = self
            .sum
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + value).to_bits())
            });
    }

    pub(super) fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            cumulative += bucket.load(Ordering::Relaxed);
            let le = match self.bounds.get(i) {
                Some(bound) => bound.to_string(),
                None => "+Inf".to_owned(),
            };
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
            );
        }
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let sum = f64::from_bits(self.sum.load(Ordering::Relaxed));
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        // The count is the +Inf bucket, so the two always agree within one scrape.
        let _ = writeln!(out, "{name}_count{braces} {cumulative}");
    }
}

/// Series of one metric by label set.
pub(super) struct Family<K, M> {
    members: RwLock<HashMap<K, Arc<M>>>,
    make: fn() -> M,
}

impl<K: Eq + Hash + Clone, M> Family<K, M> {
    pub(super) fn new(make: fn() -> M) -> Family<K, M> {
        Family {
            members: RwLock::new(HashMap::new()),
            make,
        }
    }

    /// Runs `f` on the series for `key`, creating it on first use.
    pub(super) fn with(&self, key: K, f: impl FnOnce(&M)) {
        {
            let members = self.members.read().unwrap_or_else(|p| p.into_inner());
            if let Some(member) = members.get(&key) {
                f(member);
                return;
            }
        }
        let member = {
            let mut members = self.members.write().unwrap_or_else(|p| p.into_inner());
            Arc::clone(
                members
                    .entry(key)
                    .or_insert_with(|| Arc::new((self.make)())),
            )
        };
        f(&member);
    }

    /// Every series, ordered by `order` so the output is stable.
    pub(super) fn sorted_by<O: Ord>(&self, order: impl Fn(&K) -> O) -> Vec<(K, Arc<M>)> {
        let mut all: Vec<(K, Arc<M>)> = self
            .members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, m)| (k.clone(), Arc::clone(m)))
            .collect();
        all.sort_by_key(|(k, _)| order(k));
        all
    }
}

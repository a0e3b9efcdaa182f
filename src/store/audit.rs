//! The append-only audit trail.

use redb::ReadableTable;

use super::codec::{self, Record};
use super::tables::AUDIT;
use super::{Result, Tables, Writer};
use crate::domain::audit::AuditEvent;
use crate::domain::audit_filter::AuditPage;

impl Record for AuditEvent {
    const KIND: &'static str = "audit event";
}

/// Reading the audit trail.
pub trait AuditReads: Tables {
    /// Up to `limit` events, newest first, with sequence numbers below `before` when
    /// given.
    fn audit_events(&self, limit: usize, before: Option<u64>) -> Result<Vec<(u64, AuditEvent)>> {
        let table = self.table(AUDIT)?;
        let range = match before {
            Some(b) => table.range(..b)?,
            None => table.range(0..)?,
        };
        let mut out = Vec::new();
        for entry in range.rev().take(limit) {
            let (k, v) = entry?;
            out.push((k.value(), codec::decode(v.value())?));
        }
        Ok(out)
    }

    /// Up to `limit` events that `keep` accepts, newest first, below `before`, looking
    /// at no more than `scan` events; also the sequence number of the last one looked
    /// at when more remain (where the next page starts).
    fn audit_events_where(
        &self,
        limit: usize,
        before: Option<u64>,
        scan: usize,
        keep: &dyn Fn(&AuditEvent) -> bool,
    ) -> Result<AuditPage> {
        let table = self.table(AUDIT)?;
        let range = match before {
            Some(b) => table.range(..b)?,
            None => table.range(0..)?,
        };
        let mut out = Vec::new();
        let mut last = None;
        let mut rest = range.rev();
        for entry in rest.by_ref().take(scan) {
            let (k, v) = entry?;
            last = Some(k.value());
            let event: AuditEvent = codec::decode(v.value())?;
            if keep(&event) {
                out.push((k.value(), event));
                if out.len() == limit {
                    break;
                }
            }
        }
        let more = rest.next().is_some();
        Ok(AuditPage {
            events: out,
            next_before: if more { last } else { None },
        })
    }

    /// Events with sequence numbers above `after`, oldest first (for `audit --follow`).
    fn audit_events_after(&self, after: u64, limit: usize) -> Result<Vec<(u64, AuditEvent)>> {
        let table = self.table(AUDIT)?;
        let mut out = Vec::new();
        for entry in table.range(after.saturating_add(1)..)?.take(limit) {
            let (k, v) = entry?;
            out.push((k.value(), codec::decode(v.value())?));
        }
        Ok(out)
    }
}

impl<T: Tables> AuditReads for T {}

impl Writer {
    /// Appends an event; returns its sequence number.
    pub fn append_audit(&mut self, event: &AuditEvent) -> Result<u64> {
        let mut table = self.table_mut(AUDIT)?;
        let next = table.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1);
        let bytes = codec::encode(event)?;
        table.insert(next, bytes.as_slice())?;
        Ok(next)
    }
}

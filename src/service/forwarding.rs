//! Requests that carried `X-Forwarded-For` from a peer that is not a trusted proxy.
//! Gatehouse ignores the header then (anyone can send it), so when the peer really is
//! a proxy every visitor looks like the proxy's one address: one throttle and one audit
//! address for all. The server remembers how often it saw that since it started, and
//! `gatehouse doctor` warns about it.

use std::net::IpAddr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::Services;

/// What the server saw of forwarded requests from untrusted peers since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UntrustedForwarding {
    /// Requests that carried the header.
    pub requests: u64,
    /// The peer of the latest of them.
    pub last_peer: String,
}

/// The running count, shared by all requests.
#[derive(Default)]
pub struct ForwardingNotices {
    seen: Mutex<Option<UntrustedForwarding>>,
}

impl Services {
    /// Notes a request whose peer sent `X-Forwarded-For` without being trusted. The
    /// first one is also logged.
    pub fn note_untrusted_forwarding(&self, peer: IpAddr) {
        let mut seen = self
            .forwarding
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let first = seen.is_none();
        let entry = seen.get_or_insert_with(UntrustedForwarding::default);
        entry.requests = entry.requests.saturating_add(1);
        entry.last_peer = peer.to_string();
        if first {
            tracing::warn!(
                %peer,
                "X-Forwarded-For from a peer not in trusted_proxies is ignored: if it is your proxy, add its address to trusted_proxies"
            );
        }
    }

    /// What [`note_untrusted_forwarding`](Self::note_untrusted_forwarding) saw so far.
    pub fn untrusted_forwarding(&self) -> Option<UntrustedForwarding> {
        self.forwarding
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

//! Email (DESIGN §11): a bounded in-process outbox in front of the SMTP server. Use
//! cases queue a [`Mail`] and go on: sending never blocks a request. A worker task
//! delivers each message, retries a temporary failure after a back-off, and gives up
//! with one clear error log line on a permanent one. What happened to the recent
//! messages (sent, retrying, failed) is kept in memory for the admin's Email page.
//!
//! Without `[smtp]` nothing is queued and every link is shown to the admin to copy.

pub mod compose;
mod transport;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use tokio::sync::{mpsc, watch};

use crate::config::SmtpConfig;
use crate::domain::text::neutralised;
use crate::domain::time::{Clock, Timestamp};
use crate::domain::user::{Email, Realm};
use crate::store::prelude::*;

pub use compose::{Branding, Mail, Recipient};

use super::{Result, ServiceError, Services};

/// Messages waiting for the worker at most; past that a new one is refused (and shown
/// as failed), so a dead server cannot make memory grow.
const QUEUE_CAPACITY: usize = 500;
/// Messages the Email page remembers.
const RECENT: usize = 50;

/// The waits before the second, third… attempt of a temporarily failing message.
pub const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(10),
    Duration::from_secs(60),
    Duration::from_secs(300),
];

/// Where one message stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryState {
    Queued,
    Sent,
    /// Failed for now; tried again later.
    Retrying(String),
    /// Given up.
    Failed(String),
}

impl DeliveryState {
    pub fn label(&self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Sent => "sent",
            DeliveryState::Retrying(_) => "retrying",
            DeliveryState::Failed(_) => "failed",
        }
    }

    pub fn error(&self) -> Option<&str> {
        match self {
            DeliveryState::Retrying(e) | DeliveryState::Failed(e) => Some(e),
            DeliveryState::Queued | DeliveryState::Sent => None,
        }
    }
}

/// A queued message's progress, for front doors that can wait (the CLI).
#[derive(Debug)]
pub struct Delivery(watch::Receiver<DeliveryState>);

impl Delivery {
    /// Waits (at most `limit`) for the first attempt's outcome.
    pub async fn first_outcome(mut self, limit: Duration) -> DeliveryState {
        let waited = tokio::time::timeout(limit, async {
            loop {
                let now = self.0.borrow_and_update().clone();
                if now != DeliveryState::Queued {
                    return now;
                }
                if self.0.changed().await.is_err() {
                    return self.0.borrow().clone();
                }
            }
        })
        .await;
        waited.unwrap_or(DeliveryState::Queued)
    }
}

/// One message as the Email page lists it (never its body: it may hold a link).
#[derive(Debug, Clone)]
pub struct MailRecord {
    pub id: u64,
    pub queued_at: Timestamp,
    pub to: String,
    pub subject: String,
    pub kind: &'static str,
    pub attempts: u32,
    pub state: DeliveryState,
}

/// The outbox at a glance.
#[derive(Debug, Clone)]
pub struct MailStatus {
    /// `[smtp]` is set.
    pub configured: bool,
    /// `host:port (security)`, for the page.
    pub server: String,
    pub from: String,
    pub sent: u64,
    pub failed: u64,
    /// Newest first.
    pub recent: Vec<MailRecord>,
}

struct Queued {
    id: u64,
    mail: Mail,
    attempt: u32,
    state: watch::Sender<DeliveryState>,
}

#[derive(Default)]
struct Ledger {
    next_id: u64,
    sent: u64,
    failed: u64,
    recent: VecDeque<MailRecord>,
}

struct Shared {
    config: Option<SmtpConfig>,
    retry_delays: Vec<Duration>,
    clock: Arc<dyn Clock>,
    ledger: Mutex<Ledger>,
    sender: Mutex<Option<mpsc::Sender<Queued>>>,
}

/// The outbox: the queue, its worker and the ledger of recent messages.
pub struct Outbox {
    shared: Arc<Shared>,
}

impl Outbox {
    pub fn new(
        config: Option<SmtpConfig>,
        retry_delays: Vec<Duration>,
        clock: Arc<dyn Clock>,
    ) -> Outbox {
        Outbox {
            shared: Arc::new(Shared {
                config,
                retry_delays,
                clock,
                ledger: Mutex::new(Ledger::default()),
                sender: Mutex::new(None),
            }),
        }
    }

    /// Starts the worker on the current tokio runtime if it is not running yet.
    fn sender(&self) -> Option<mpsc::Sender<Queued>> {
        let mut slot = lock(&self.shared.sender);
        if let Some(tx) = slot.as_ref().filter(|tx| !tx.is_closed()) {
            return Some(tx.clone());
        }
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        runtime.spawn(work(Arc::clone(&self.shared), rx, tx.clone()));
        *slot = Some(tx.clone());
        Some(tx)
    }

    /// Queues `mail`; `None` when email is off. Never waits.
    fn queue(&self, mail: Mail) -> Option<Delivery> {
        self.shared.config.as_ref()?;
        let (state, watcher) = watch::channel(DeliveryState::Queued);
        let id = {
            let mut ledger = lock(&self.shared.ledger);
            ledger.next_id += 1;
            let id = ledger.next_id;
            ledger.recent.push_front(MailRecord {
                id,
                queued_at: self.shared.clock.now(),
                to: mail.to.clone(),
                subject: neutralised(&mail.subject),
                kind: mail.kind,
                attempts: 0,
                state: DeliveryState::Queued,
            });
            ledger.recent.truncate(RECENT);
            id
        };
        let queued = Queued {
            id,
            mail,
            attempt: 0,
            state,
        };
        let refused = match self.sender() {
            Some(tx) => tx.try_send(queued).err().map(|e| match e {
                mpsc::error::TrySendError::Full(q) => (q, "the mail queue is full"),
                mpsc::error::TrySendError::Closed(q) => (q, "the mail queue is closed"),
            }),
            None => None,
        };
        if let Some((q, why)) = refused {
            self.shared
                .settle(&q, DeliveryState::Failed(why.to_owned()));
        }
        Some(Delivery(watcher))
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// Records the outcome of an attempt in the ledger and tells any waiter.
    fn settle(&self, q: &Queued, state: DeliveryState) {
        {
            let mut ledger = lock(&self.ledger);
            match &state {
                DeliveryState::Sent => ledger.sent += 1,
                DeliveryState::Failed(_) => ledger.failed += 1,
                DeliveryState::Queued | DeliveryState::Retrying(_) => {}
            }
            if let Some(record) = ledger.recent.iter_mut().find(|r| r.id == q.id) {
                record.attempts = q.attempt + 1;
                record.state = state.clone();
            }
        }
        if let DeliveryState::Failed(error) = &state {
            tracing::error!(
                target: "gatehouse::mail",
                to = %neutralised(&q.mail.to),
                kind = q.mail.kind,
                attempts = q.attempt + 1,
                %error,
                "email could not be sent; giving up (see the admin Email page)"
            );
        }
        q.state.send_replace(state);
    }
}

/// The worker: delivers queued messages one at a time; a temporary failure is put back
/// in the queue after its back-off, without holding up the messages behind it.
async fn work(shared: Arc<Shared>, mut rx: mpsc::Receiver<Queued>, tx: mpsc::Sender<Queued>) {
    while let Some(mut q) = rx.recv().await {
        let Some(config) = shared.config.as_ref() else {
            continue;
        };
        let outcome = match message(config, &q.mail) {
            Ok(message) => transport::deliver(config, message).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {
                tracing::info!(target: "gatehouse::mail", kind = q.mail.kind, "email sent");
                shared.settle(&q, DeliveryState::Sent);
            }
            Err(e) if !e.permanent && (q.attempt as usize) < shared.retry_delays.len() => {
                let wait = shared.retry_delays[q.attempt as usize];
                tracing::warn!(target: "gatehouse::mail", kind = q.mail.kind, error = %e.message, retry_in_secs = wait.as_secs(), "email not sent yet; will retry");
                shared.settle(&q, DeliveryState::Retrying(e.message));
                q.attempt += 1;
                let tx = tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    let _ = tx.send(q).await;
                });
            }
            Err(e) => shared.settle(&q, DeliveryState::Failed(e.message)),
        }
    }
}

/// The MIME message: text and HTML alternatives, from the configured sender.
fn message(config: &SmtpConfig, mail: &Mail) -> Result<Message, transport::DeliveryError> {
    let bad = |what: &str| transport::DeliveryError {
        message: format!("cannot build the message: {what}"),
        permanent: true,
    };
    let from: Mailbox = config.from.parse().map_err(|_| bad("smtp.from"))?;
    let address = mail.to.parse().map_err(|_| bad("recipient address"))?;
    let name = mail.to_name.trim();
    let to = Mailbox::new((!name.is_empty()).then(|| name.to_owned()), address);
    Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|_| bad("headers"))
}

impl Services {
    /// Whether `[smtp]` is set (invitations, reset links and notices are emailed).
    pub fn mail_enabled(&self) -> bool {
        self.settings.smtp.is_some()
    }

    /// Starts the outbox worker on the current runtime (`serve` does it at start-up;
    /// otherwise the first message starts it).
    pub fn start_mail(&self) {
        if self.mail_enabled() {
            let _ = self.mail.sender();
        }
    }

    /// Queues `mail`; `None` when email is off. Never waits for the server.
    pub(crate) fn send_mail(&self, mail: Mail) -> Option<Delivery> {
        self.mail.queue(mail)
    }

    /// The outbox's state, for the admin's Email page and `doctor`.
    pub fn mail_status(&self) -> MailStatus {
        let ledger = lock(&self.mail.shared.ledger);
        let smtp = self.settings.smtp.as_ref();
        MailStatus {
            configured: smtp.is_some(),
            server: smtp.map_or_else(String::new, |s| {
                format!("{}:{} ({})", s.host, s.port, s.security.as_str())
            }),
            from: smtp.map_or_else(String::new, |s| s.from.clone()),
            sent: ledger.sent,
            failed: ledger.failed,
            recent: ledger.recent.iter().cloned().collect(),
        }
    }

    /// How many messages were given up on, with the newest reason; `None` when none.
    pub fn mail_failures(&self) -> Option<super::status::MailFailures> {
        let ledger = lock(&self.mail.shared.ledger);
        (ledger.failed > 0).then(|| super::status::MailFailures {
            failed: ledger.failed,
            last_error: ledger
                .recent
                .iter()
                .find_map(|r| match &r.state {
                    DeliveryState::Failed(e) => Some(e.clone()),
                    _ => None,
                })
                .unwrap_or_default(),
        })
    }

    /// Queues a test message to `to`.
    pub fn send_test_mail(&self, to: &str) -> Result<Delivery> {
        let email = Email::parse(to).map_err(|e| ServiceError::Invalid(format!("Email: {e}.")))?;
        let recipient = Recipient {
            email: email.as_str().to_owned(),
            name: String::new(),
        };
        let branding = self.read(|r| self.branding(r, Realm::Staff))?;
        self.send_mail(compose::test_message(&branding, &recipient))
            .ok_or_else(|| {
                ServiceError::Forbidden(
                    "Email is not set up: add an [smtp] section to the configuration.".to_owned(),
                )
            })
    }

    /// The look of `realm`'s emails: the client's name and accent for a portal.
    pub(crate) fn branding(&self, r: &impl Tables, realm: Realm) -> Result<Branding> {
        Ok(match realm {
            Realm::Staff => Branding::staff_of(&r.setting()?),
            Realm::Client(id) => match r.client(id)? {
                Some(client) => Branding {
                    name: client.name,
                    accent: client
                        .accent
                        .unwrap_or_else(|| compose::DEFAULT_ACCENT.to_owned()),
                },
                None => Branding::staff(),
            },
        })
    }

    /// An absolute link to `path` of `realm`'s pages, built from `public_url` (never
    /// from a request's Host header).
    pub(crate) fn realm_link(&self, r: &impl Tables, realm: Realm, path: &str) -> Result<String> {
        let prefix = match realm {
            Realm::Staff => String::new(),
            Realm::Client(id) => {
                let client = r.client(id)?.ok_or(ServiceError::NotFound("client"))?;
                format!("/p/{}", client.slug)
            }
        };
        Ok(format!("{}{prefix}{path}", self.settings.base_url))
    }
}

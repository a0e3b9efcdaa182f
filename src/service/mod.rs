//! Use cases: one function per user action (sign in, enrol TOTP, invite a user…).
//! Each crosses into blocking work once — Argon2 under the hashing semaphore, store
//! writes that fsync — and returns domain values or a [`ServiceError`]. Nothing here
//! knows about HTTP.
//!
//! The front doors (`web`, `admin_api`) reach the store only through these use cases:
//! the fields of [`Services`] are private to this module, and what a front door may
//! read of them (the time, the public URL, the metrics) has its own accessor.
//!
//! **Inline or `blocking`** — the one rule for store work: a *point read* may run
//! inline on the async executor; everything else goes through [`Services::blocking`].
//! A point read looks up a bounded handful of rows by key (an index hop included, or
//! a table's length, which redb keeps in the table header) and each row is small (a
//! few KiB: a session, a user; a client with its logo of at most 64 KiB is the
//! largest). Anything that scans a table or a range (lists, audit pages, sweeps),
//! writes (a commit fsyncs), or hashes (Argon2) goes through `blocking`.

pub mod account;
pub mod activity;
pub mod admin;
pub mod backup;
pub mod branding;
pub mod clients;
pub mod devices;
pub mod email_change;
pub mod enrolment;
pub mod forward_auth;
mod forward_auth_cache;
pub mod forwarding;
pub mod hashing;
pub mod health;
pub mod invites;
pub mod login;
pub mod mail;
mod new_password;
pub mod notify;
pub mod observe;
pub mod passkeys;
pub mod password_reset;
pub mod policy;
pub mod portal;
pub mod provisioning;
pub mod secrets;
pub mod sessions;
pub mod setup;
pub mod sso;
pub mod status;
pub mod step_up;
pub mod sweep;
pub mod throttle;
pub mod user_removal;

use std::sync::Arc;

use crate::config::Config;
use crate::domain::audit::AuditEvent;
use crate::domain::password::HashParams;
use crate::domain::redirect::RedirectPolicy;
use crate::domain::session::{AuthMethod, Lifetimes, Origin, Session, Stage};
use crate::domain::time::{Clock, Timestamp};
use crate::domain::token::SecretToken;
use crate::domain::totp::NoRandomness;
use crate::domain::user::{Realm, User};
use crate::keys::{Keys, Unseal};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError, Writer};

use hashing::Hashing;
use sessions::Activity;
use throttle::Throttle;

/// Why a use case did not succeed. Messages in `Invalid`, `Forbidden` and `Conflict`
/// are written for the person using the product; the others map to fixed texts.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Sign-in refused; deliberately says nothing about which part was wrong.
    #[error("sign-in failed")]
    LoginFailed,
    /// A TOTP or recovery code was wrong, malformed or already used.
    #[error("invalid code")]
    InvalidCode,
    /// Too many failures; try again after this many seconds.
    #[error("throttled for {retry_after_secs}s")]
    Throttled { retry_after_secs: i64 },
    /// The input is not acceptable; the message says why.
    #[error("{0}")]
    Invalid(String),
    /// A setup or invitation link that does not exist or was already used.
    #[error("link not valid")]
    LinkInvalid,
    /// A setup or invitation link past its time.
    #[error("link expired")]
    LinkExpired,
    /// The half-finished sign-in this step belongs to is gone or expired.
    #[error("sign-in expired")]
    SignInExpired,
    /// The thing asked for does not exist (user, session…).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Not allowed, with the reason for the user.
    #[error("{0}")]
    Forbidden(String),
    /// Clashes with the current state (email taken, last admin…).
    #[error("{0}")]
    Conflict(String),
    /// Microsoft sign-in could not start or finish.
    #[error("Microsoft sign-in failed: {0:?}")]
    Sso(sso::SsoFailure),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something that should not happen; the detail goes to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<NoRandomness> for ServiceError {
    fn from(e: NoRandomness) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

impl From<Unseal> for ServiceError {
    fn from(e: Unseal) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Settings the use cases need from the configuration.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// `public_url` without trailing slash.
    pub base_url: String,
    pub staff_lifetimes: Lifetimes,
    pub hash_params: HashParams,
    /// Concurrent Argon2 computations allowed (memory bound).
    pub hash_permits: usize,
    pub redirects: RedirectPolicy,
    /// Microsoft's login host (`entra.authority_host`), without trailing slash.
    pub authority_host: String,
    /// `entra.allow_insecure_loopback`.
    pub allow_insecure_authority: bool,
    /// `[smtp]`, when email is on.
    pub smtp: Option<crate::config::SmtpConfig>,
    /// The waits before each retry of a temporarily failing email.
    pub mail_retry_delays: Vec<std::time::Duration>,
    /// Microsoft Graph (`entra.graph_host`), without trailing slash.
    pub graph_host: String,
}

impl ServiceSettings {
    pub fn from_config(config: &Config) -> ServiceSettings {
        ServiceSettings {
            base_url: config.base_url().to_owned(),
            staff_lifetimes: Lifetimes {
                idle_secs: config.session.idle_timeout_secs,
                absolute_secs: config.session.absolute_timeout_secs,
            },
            hash_params: HashParams::RECOMMENDED,
            hash_permits: std::thread::available_parallelism().map_or(2, |n| n.get()),
            redirects: RedirectPolicy::new(&config.public_url, &config.forward_auth.allowed_hosts),
            authority_host: config
                .entra
                .authority_host
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
            allow_insecure_authority: config.entra.allow_insecure_loopback,
            smtp: config.smtp.clone(),
            mail_retry_delays: mail::RETRY_DELAYS.to_vec(),
            graph_host: config
                .entra
                .graph_host
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
        }
    }
}

/// A session just created: the cookie value to hand out and the session itself.
#[derive(Debug)]
pub struct NewSession {
    pub token: SecretToken,
    pub session: Session,
    /// The admin secret of an active staff session (see [`step_up`]), for its own
    /// host-only cookie.
    pub admin_secret: Option<SecretToken>,
}

/// Everything the use cases share. The fields are private to `service`: front doors
/// call use cases, and read the little they need through the accessors below.
pub struct Services {
    pub(in crate::service) store: Store,
    pub(in crate::service) keys: Keys,
    pub(in crate::service) clock: Arc<dyn Clock>,
    pub(in crate::service) settings: ServiceSettings,
    pub(in crate::service) hashing: Hashing,
    pub(in crate::service) throttle: Throttle,
    pub(in crate::service) activity: Activity,
    pub(in crate::service) forward_auth_cache: forward_auth_cache::ForwardAuthCache,
    pub(in crate::service) entra: sso::client::EntraClient,
    pub(in crate::service) oidc: sso::oidc::OidcClient,
    pub(in crate::service) metrics: Metrics,
    pub(in crate::service) forwarding: forwarding::ForwardingNotices,
    pub(in crate::service) mail: mail::Outbox,
    pub(in crate::service) provisioning: provisioning::ProvisioningMemory,
    pub(in crate::service) graph: sweep::graph::GraphClient,
    pub(in crate::service) passkeys: passkeys::RelyingParty,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Services")
    }
}

impl Services {
    pub fn new(
        mut store: Store,
        keys: Keys,
        clock: Arc<dyn Clock>,
        settings: ServiceSettings,
    ) -> Result<Services> {
        let hashing = Hashing::new(settings.hash_params, settings.hash_permits);
        let entra = sso::client::EntraClient::new(
            &settings.authority_host,
            settings.allow_insecure_authority,
        )
        .map_err(|e| ServiceError::Internal(format!("while building the HTTP client: {e}")))?;
        let oidc = sso::oidc::OidcClient::new(settings.allow_insecure_authority)
            .map_err(|e| ServiceError::Internal(format!("while building the HTTP client: {e}")))?;
        let graph =
            sweep::graph::GraphClient::new(&settings.graph_host, settings.allow_insecure_authority)
                .map_err(|e| {
                    ServiceError::Internal(format!("while building the Graph client: {e}"))
                })?;
        let metrics = Metrics::new();
        let mail = mail::Outbox::new(
            settings.smtp.clone(),
            settings.mail_retry_delays.clone(),
            Arc::clone(&clock),
        );
        let passkeys = passkeys::RelyingParty::new(&settings.base_url);
        store.observe_commits(metrics.commit_observer());
        let services = Services {
            entra,
            oidc,
            store,
            keys,
            clock,
            settings,
            hashing,
            throttle: Throttle::default(),
            forwarding: forwarding::ForwardingNotices::default(),
            provisioning: provisioning::ProvisioningMemory::default(),
            graph,
            passkeys,
            activity: Activity::default(),
            forward_auth_cache: Default::default(),
            metrics,
            mail,
        };
        services.bind_key_to_store()?;
        Ok(services)
    }

    /// Records a sealed known value on first use, and on every later open checks that
    /// the master key still opens it: a wrong key fails loudly at start-up instead of
    /// making every TOTP check fail.
    fn bind_key_to_store(&self) -> Result<()> {
        use crate::store::prelude::*;
        const CHECK: &[u8] = b"gatehouse master key check";
        match self.store.read(|r| r.key_check())? {
            Some(sealed) => match self.keys.open(&sealed, "key-check") {
                Ok(plain) if plain == CHECK => Ok(()),
                _ => Err(ServiceError::Forbidden(
                    "the master key does not belong to this store (wrong master.key?)".to_owned(),
                )),
            },
            None => {
                let sealed = self.keys.seal(CHECK, "key-check")?;
                self.store.write(|w| w.put_key_check(&sealed))?;
                Ok(())
            }
        }
    }

    /// The current time, by the clock the use cases run on.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The public URL, without trailing slash.
    pub fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    /// `raw` as a place to send the browser after sign-in, if it is a safe one (our
    /// own origin or an allowed forward-auth host).
    pub fn safe_target(&self, raw: &str) -> Option<String> {
        self.settings.redirects.safe_target(raw)
    }

    /// The MAC that ties a CSRF form token to its cookie.
    pub fn csrf_mac(&self, data: &[u8]) -> [u8; 32] {
        self.keys.csrf_mac(data)
    }

    /// The process's metrics, for the HTTP middleware and the `/metrics` page.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The Argon2 gate (permits and the count of hashes computed). Used by tests that
    /// check how many hashes a request costs.
    pub fn hashing(&self) -> &Hashing {
        &self.hashing
    }

    /// The settings the services run with. Used by benches (the hash parameters).
    pub fn settings(&self) -> &ServiceSettings {
        &self.settings
    }

    /// The Entra client. Used by tests that make it forget cached discovery.
    pub fn entra(&self) -> &sso::client::EntraClient {
        &self.entra
    }

    /// The store itself, for the offline CLI tools (backup), tests and benches. Front
    /// doors never call this: they go through the use cases.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The master key, for the offline CLI tools (backup `--with-key`) and benches.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Runs store work (or other blocking work) off the async executor: see the
    /// module docs for what must go through here.
    pub async fn blocking<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Services) -> Result<T> + Send + 'static,
    {
        let services = Arc::clone(self);
        tokio::task::spawn_blocking(move || f(&services))
            .await
            .map_err(|e| ServiceError::Internal(format!("blocking task failed: {e}")))?
    }

    /// [`Store::read`] with service errors, for closures that mix store and service
    /// failures.
    pub fn read<T>(&self, f: impl FnOnce(&crate::store::Reader) -> Result<T>) -> Result<T> {
        self.store.read(f)
    }

    /// [`Store::write`] with service errors: the transaction commits only if `f`
    /// returns `Ok`.
    pub fn write<T>(&self, f: impl FnOnce(&mut Writer) -> Result<T>) -> Result<T> {
        self.store.write(f)
    }

    /// Session lifetimes for `realm`: the configured ones, or a client's override.
    pub fn lifetimes(&self, r: &impl crate::store::Tables, realm: Realm) -> Result<Lifetimes> {
        use crate::store::prelude::ClientReads;
        let mut lifetimes = self.settings.staff_lifetimes;
        if let Realm::Client(id) = realm
            && let Some(client) = r.client(id)?
        {
            lifetimes.idle_secs = client.idle_timeout_secs.unwrap_or(lifetimes.idle_secs);
            lifetimes.absolute_secs = client
                .absolute_timeout_secs
                .unwrap_or(lifetimes.absolute_secs);
        }
        Ok(lifetimes)
    }

    /// The stored key of a session token.
    pub fn session_key(&self, token: &str) -> crate::store::sessions::SessionKey {
        crate::store::sessions::session_key(&self.keys.token_hash("session", token))
    }

    /// Creates a session for `user` in the open transaction.
    pub(crate) fn start_session(
        &self,
        w: &mut Writer,
        user: &User,
        stage: Stage,
        auth: AuthMethod,
        next: Option<String>,
        origin: &Origin,
    ) -> Result<NewSession> {
        let token = SecretToken::generate()?;
        let lifetimes = self.lifetimes(w, user.realm)?;
        let mut session = Session::start(
            user.id,
            user.realm,
            stage,
            auth,
            lifetimes,
            origin,
            self.clock.now(),
        );
        session.next = next;
        self.make_room_for_session(w, user.id)?;
        let admin_secret = self.bind_admin_secret(&mut session)?;
        w.put_session(&self.session_key(token.expose()), &session)?;
        Ok(NewSession {
            token,
            session,
            admin_secret,
        })
    }

    /// Appends to the audit trail in the open transaction, and mirrors the event to
    /// the log (without secrets: events never hold any).
    pub(crate) fn audit(&self, w: &mut Writer, mut event: AuditEvent) -> Result<()> {
        event.at = self.clock.now();
        tracing::info!(
            target: "gatehouse::audit",
            kind = event.kind.as_str(),
            actor = %event.actor_email,
            subject = %event.subject_email,
            ip = %event.source_ip,
            detail = %event.detail,
            "audit"
        );
        w.append_audit(&event)?;
        Ok(())
    }
}

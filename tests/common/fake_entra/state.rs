//! What the fake knows and remembers: tenants and their verified domains, apps and
//! their secrets, outstanding authorization codes, the test's instructions for the
//! next sign-in, and a record of what the relying party sent. No HTTP here.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::errors::Refusal;
use super::keys::KeyRing;
use super::{ConsentOutcome, FakeUser, Hostile};

/// How long an authorization code lives (Entra: about 10 minutes).
const CODE_LIFETIME_SECS: i64 = 600;

pub(super) struct App {
    /// Secret value → expired.
    secrets: BTreeMap<String, bool>,
    /// Tenant GUIDs where the app (or its service principal) exists.
    tenants: BTreeSet<String>,
}

/// An authorization code and what it was issued for.
#[derive(Clone)]
pub(super) struct Code {
    pub client_id: String,
    pub redirect_uri: String,
    pub nonce: Option<String>,
    /// (code_challenge, code_challenge_method).
    pub challenge: Option<(String, String)>,
    pub tenant: String,
    pub user: FakeUser,
    pub scope: String,
    pub issued_at: i64,
    /// When the user last entered their credentials at the fake (`auth_time`).
    pub auth_time: i64,
    pub redeemed: bool,
    pub expired: bool,
}

pub(super) struct State {
    pub base: String,
    pub clock_offset: i64,
    tenants: BTreeSet<String>,
    /// Lower-cased domain → tenant GUID.
    domains: BTreeMap<String, String>,
    apps: BTreeMap<String, App>,
    pub codes: HashMap<String, Code>,
    pub logins: VecDeque<FakeUser>,
    pub current_user: Option<FakeUser>,
    /// When the current user last entered their credentials (their "Entra session").
    pub authenticated_at: Option<i64>,
    /// Ignores `prompt=login` and `max_age` (a misbehaving provider), so an old
    /// `auth_time` comes back.
    pub ignore_reauth: bool,
    pub next_error: Option<(String, String)>,
    pub hostile: Hostile,
    pub keys: KeyRing,
    pub redirect_all: Option<String>,
    pub outage: Option<u16>,
    pub jwks_fetches: usize,
    pub discovery_fetches: usize,
    pub last_authorize: Option<Vec<(String, String)>>,
    pub last_token: Option<Vec<(String, String)>>,
    pub last_token_basic: Option<(String, String)>,
    pub last_consent: Option<Vec<(String, String)>>,
    pub consent_next: Option<ConsentOutcome>,
    pub consent_tenant: Option<String>,
    pub requests: Vec<String>,
    pub id_tokens: Vec<String>,
    /// Generic OpenID issuers (`/oidc/{name}`), by name; each is also a "tenant".
    pub issuers: BTreeMap<String, IssuerOptions>,
    /// Claims merged into every ID token (`null` removes one).
    pub extra_claims: serde_json::Map<String, serde_json::Value>,
    /// ID tokens carry no `kid` header.
    pub omit_kid: bool,
    /// The JWKS also publishes a second RSA key.
    pub second_key: bool,
}

/// How a generic issuer's discovery document reads.
#[derive(Clone, Debug, Default)]
pub struct IssuerOptions {
    /// `token_endpoint_auth_methods_supported` (`None`: basic and post).
    pub auth_methods: Option<Vec<String>>,
    /// `id_token_signing_alg_values_supported` (`None`: RS256).
    pub algorithms: Option<Vec<String>>,
    /// The `issuer` named in discovery, when not the real one.
    pub issuer_override: Option<String>,
    /// How ID tokens are signed (default RS256). With ES256 the JWKS also publishes
    /// the fake's P-256 key.
    pub signing: SigningAlg,
    /// ID tokens say `alg: ES256` and name the RSA key's `kid`, signed by the P-256
    /// key (also published, under its own kid): a key/algorithm mismatch.
    pub es256_header_with_rsa_kid: bool,
}

/// The algorithm a generic issuer signs ID tokens with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SigningAlg {
    #[default]
    Rs256,
    Ps256,
    Es256,
}

impl State {
    pub fn new(base: String) -> State {
        State {
            base,
            clock_offset: 0,
            tenants: BTreeSet::new(),
            domains: BTreeMap::new(),
            apps: BTreeMap::new(),
            codes: HashMap::new(),
            logins: VecDeque::new(),
            current_user: None,
            authenticated_at: None,
            ignore_reauth: false,
            next_error: None,
            hostile: Hostile::None,
            keys: KeyRing::new(),
            redirect_all: None,
            outage: None,
            jwks_fetches: 0,
            discovery_fetches: 0,
            last_authorize: None,
            last_token: None,
            last_token_basic: None,
            last_consent: None,
            consent_next: None,
            consent_tenant: None,
            requests: Vec::new(),
            id_tokens: Vec::new(),
            issuers: BTreeMap::new(),
            extra_claims: serde_json::Map::new(),
            omit_kid: false,
            second_key: false,
        }
    }

    /// Seconds since the epoch on the fake's clock.
    pub fn now(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs() as i64;
        real + self.clock_offset
    }

    pub fn add_tenant(&mut self, tenant: &str) {
        self.tenants.insert(tenant.to_ascii_lowercase());
    }

    pub fn add_domain(&mut self, domain: &str, tenant: &str) {
        self.add_tenant(tenant);
        self.domains
            .insert(domain.to_ascii_lowercase(), tenant.to_ascii_lowercase());
    }

    /// The tenant GUID for a path segment (a GUID or a verified domain).
    pub fn resolve(&self, segment: &str) -> Result<String, Refusal> {
        let key = segment.to_ascii_lowercase();
        if self.tenants.contains(&key) {
            return Ok(key);
        }
        self.domains
            .get(&key)
            .cloned()
            .ok_or_else(|| Refusal::tenant_not_found(segment))
    }

    pub fn register_app(&mut self, tenant: &str, client_id: &str, secret: &str) {
        self.add_tenant(tenant);
        let app = self
            .apps
            .entry(client_id.to_owned())
            .or_insert_with(|| App {
                secrets: BTreeMap::new(),
                tenants: BTreeSet::new(),
            });
        app.secrets.entry(secret.to_owned()).or_insert(false);
        app.tenants.insert(tenant.to_ascii_lowercase());
    }

    pub fn expire_secret(&mut self, client_id: &str, secret: &str) {
        if let Some(expired) = self
            .apps
            .get_mut(client_id)
            .and_then(|app| app.secrets.get_mut(secret))
        {
            *expired = true;
        }
    }

    pub fn app_known(&self, client_id: &str) -> bool {
        self.apps.contains_key(client_id)
    }

    /// Admin consent puts a (multi-tenant) app into the consenting tenant.
    pub fn consent_app(&mut self, tenant: &str, client_id: &str) {
        if let Some(app) = self.apps.get_mut(client_id) {
            app.tenants.insert(tenant.to_owned());
        }
    }

    /// The app must exist in `tenant`.
    pub fn check_app(&self, tenant: &str, client_id: &str) -> Result<(), Refusal> {
        match self.apps.get(client_id) {
            Some(app) if app.tenants.contains(tenant) => Ok(()),
            _ => Err(Refusal::app_not_found(client_id, tenant)),
        }
    }

    /// The app must exist in `tenant` and `secret` must be one of its live secrets.
    pub fn check_client(
        &self,
        tenant: &str,
        client_id: &str,
        secret: Option<&str>,
    ) -> Result<(), Refusal> {
        self.check_app(tenant, client_id)?;
        let secret = secret.ok_or_else(Refusal::missing_secret)?;
        match self.apps[client_id].secrets.get(secret) {
            None => Err(Refusal::wrong_secret(client_id)),
            Some(true) => Err(Refusal::expired_secret(client_id)),
            Some(false) => Ok(()),
        }
    }

    /// The user signing in now and when they entered their credentials: the front of
    /// the queue (who signs in now), else the last one again, whose earlier sign-in
    /// still counts unless `reauthenticate` (`prompt=login`, or `max_age` exceeded)
    /// makes them enter their credentials again now.
    pub fn take_user(&mut self, reauthenticate: impl Fn(i64) -> bool) -> Option<(FakeUser, i64)> {
        let now = self.now();
        if let Some(user) = self.logins.pop_front() {
            self.current_user = Some(user);
            self.authenticated_at = Some(now);
        }
        let user = self.current_user.clone()?;
        let mut at = self.authenticated_at.unwrap_or(now);
        if !self.ignore_reauth && reauthenticate(at) {
            at = now;
        }
        self.authenticated_at = Some(at);
        Some((user, at))
    }

    pub fn issue_code(&mut self, code: Code) -> String {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("OS RNG");
        let value = format!("1.A{}", URL_SAFE_NO_PAD.encode(bytes));
        self.codes.insert(value.clone(), code);
        value
    }

    /// Checks a code presented at `tenant`'s token endpoint by an authenticated client;
    /// marks it redeemed on success.
    pub fn redeem_code(
        &mut self,
        tenant: &str,
        client_id: &str,
        value: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<&Code, Refusal> {
        let now = self.now();
        let code = match self.codes.get_mut(value) {
            Some(code) if code.tenant == tenant && code.client_id == client_id => code,
            _ => return Err(Refusal::code_invalid()),
        };
        if code.redeemed {
            return Err(Refusal::code_redeemed());
        }
        if code.expired || now > code.issued_at + CODE_LIFETIME_SECS {
            return Err(Refusal::code_expired());
        }
        let redirect_uri = redirect_uri.unwrap_or_default();
        if redirect_uri != code.redirect_uri {
            return Err(Refusal::reply_address_mismatch(
                redirect_uri,
                &code.redirect_uri,
            ));
        }
        if let Some((challenge, method)) = &code.challenge {
            let verifier = verifier.ok_or_else(Refusal::verifier_missing)?;
            let expected = if method.eq_ignore_ascii_case("S256") {
                URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
            } else {
                verifier.to_owned()
            };
            if &expected != challenge {
                return Err(Refusal::verifier_mismatch());
            }
        }
        code.redeemed = true;
        Ok(code)
    }
}

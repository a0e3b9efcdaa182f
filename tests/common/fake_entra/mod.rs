//! A fake Microsoft Entra ID for tests: a real HTTP server on 127.0.0.1 (ephemeral
//! port, inside the test's actix runtime) that serves Entra v2.0 discovery and JWKS
//! documents, runs the authorization-code (PKCE) and client-credentials grants and
//! admin consent, and signs real RS256 ID tokens — or, on request, hostile ones.
//!
//! Point Gatehouse at it with `entra.authority_host = <fake.base>` and
//! `entra.allow_insecure_loopback = true`. Test support only: it never talks to
//! Microsoft and nothing in `src/` may depend on it.
//!
//! Who signs in: `next_login` queues users; each authorize request takes the front of
//! the queue, and when the queue is empty the user of the previous sign-in signs in
//! again (like a browser that still holds an Entra session, keeping the `auth_time` of
//! its last real sign-in unless `prompt=login` or `max_age` asks for a new one). With
//! no user at all,
//! authorize answers a 400 page telling the test to call `next_login`.
//!
//! A sign-in from a test (Gatehouse in-process, `TestApp` + `Browser`):
//!
//! ```ignore
//! let fake = FakeEntra::start().await;
//! fake.register_app(TENANT, CLIENT_ID, SECRET);
//! fake.next_login(FakeUser::new(TENANT, "Ada Lovelace", "ada@contoso.com"));
//! let app = TestApp::with_config(config_with(&format!(
//!     "[entra]\nauthority_host = '{}'\nallow_insecure_loopback = true", fake.base))).await;
//! // … configure staff SSO with TENANT / CLIENT_ID / SECRET …
//! let mut browser = app.browser();
//! let start = browser.get("/login/sso").await;                  // 302 to the fake's authorize
//! let back = fake.follow_authorize(start.location()).await;     // 302 back with code and state
//! let done = browser.get(&path_and_query(&back)).await;         // Gatehouse redeems the code
//! ```

mod endpoints;
mod errors;
mod jwt;
mod keys;
mod state;

use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::HttpServer;
use actix_web::dev::ServerHandle;

pub use jwt::{GRAPH_APP_ID, hs256, pairwise_sub};

use endpoints::lock;
use state::State;
pub use state::{IssuerOptions, SigningAlg};

/// The tenant of personal Microsoft accounts.
pub const CONSUMER_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// A running fake Entra ID; stops when dropped.
pub struct FakeEntra {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    state: Arc<Mutex<State>>,
    handle: ServerHandle,
}

/// The person "signing in" at the fake.
#[derive(Clone, Debug)]
pub struct FakeUser {
    /// Goes into the `tid` claim (normally the tenant the sign-in runs against).
    pub tid: String,
    /// Goes into the `oid` claim.
    pub oid: String,
    pub name: String,
    pub email: Option<String>,
    pub preferred_username: Option<String>,
    /// For a guest (B2B) account: its home identity provider, sent as the `idp`
    /// claim (members have none).
    pub idp: Option<String>,
}

impl FakeUser {
    /// A member of `tid` with a fresh `oid`, whose `email` and `preferred_username`
    /// are both `email`.
    pub fn new(tid: &str, name: &str, email: &str) -> FakeUser {
        FakeUser {
            tid: tid.to_owned(),
            oid: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
            email: Some(email.to_owned()),
            preferred_username: Some(email.to_owned()),
            idp: None,
        }
    }
}

/// How the next ID token is spoiled; each variant changes one aspect of a valid token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hostile {
    /// A valid token.
    None,
    /// Signed by the published key, then signature bytes flipped.
    BadSignature,
    /// Header `alg: none`, empty signature.
    AlgNone,
    /// Header `alg: HS256` (kid of the published key), HMAC-SHA256 keyed with the
    /// client secret that was presented at the token endpoint.
    Hs256WithClientSecret,
    /// `iss` with a "1" appended.
    IssPlusOne,
    /// `aud` = client id with a "1" appended.
    AudPlusOne,
    /// `aud` = [client id, Microsoft Graph], no `azp`.
    ExtraAudienceWithoutAzp,
    /// `aud` = [client id, Microsoft Graph], `azp` = client id (valid per OIDC Core).
    ExtraAudienceWithAzp,
    /// `exp` 1 h in the past, `iat`/`nbf` 2 h in the past.
    Expired,
    /// `nbf` 1 h in the future (`exp` 2 h in the future).
    NotYetValid,
    /// `iat` (and `nbf`) 24 h ago, `exp` 1 h ahead.
    IssuedADayAgo,
    /// A random `nonce`.
    WrongNonce,
    /// No `nonce` claim.
    MissingNonce,
    /// `tid` is a random GUID, unlike the tenant in `iss`.
    WrongTid,
    /// `tid` and the issuer's tenant are the consumer tenant (`CONSUMER_TENANT`).
    ConsumerTenant,
    /// Signed with a key that is not in the JWKS; its public JWK is put in the header
    /// as `jwk` and its `kid` is unknown.
    EmbeddedJwk,
    /// Signed with a fresh key whose `kid` is never published.
    UnknownKid,
}

impl Hostile {
    /// Every variant, `None` first.
    pub const ALL: [Hostile; 17] = [
        Hostile::None,
        Hostile::BadSignature,
        Hostile::AlgNone,
        Hostile::Hs256WithClientSecret,
        Hostile::IssPlusOne,
        Hostile::AudPlusOne,
        Hostile::ExtraAudienceWithoutAzp,
        Hostile::ExtraAudienceWithAzp,
        Hostile::Expired,
        Hostile::NotYetValid,
        Hostile::IssuedADayAgo,
        Hostile::WrongNonce,
        Hostile::MissingNonce,
        Hostile::WrongTid,
        Hostile::ConsumerTenant,
        Hostile::EmbeddedJwk,
        Hostile::UnknownKid,
    ];
}

/// How the next `/adminconsent` request answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsentOutcome {
    /// `?admin_consent=True&tenant=…&scope=…&state=…`; the app becomes present in the
    /// consenting tenant.
    Granted,
    /// `?admin_consent=True&error=…&error_description=…&state=…` (Entra really sends
    /// `admin_consent=True` together with an error).
    Error { error: String, description: String },
}

impl FakeEntra {
    /// Starts the fake on 127.0.0.1 with an ephemeral port. Needs an actix runtime
    /// (`#[actix_web::test]`).
    pub async fn start() -> FakeEntra {
        // Bind first so that `base` is known before the state is built.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let base = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(State::new(base.clone())));
        let shared = state.clone();
        let server = HttpServer::new(move || endpoints::app(shared.clone()))
            .workers(1)
            .disable_signals()
            .shutdown_timeout(0)
            .listen(listener)
            .expect("listen")
            .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        FakeEntra {
            base,
            state,
            handle,
        }
    }

    fn st(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// `{base}/{tenant}/v2.0` — the issuer (and the authority) of `tenant`.
    pub fn issuer(&self, tenant: &str) -> String {
        format!("{}/{tenant}/v2.0", self.base)
    }

    /// The discovery URL of `tenant` (GUID or verified domain).
    pub fn discovery_url(&self, tenant: &str) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer(tenant))
    }

    /// A generic OpenID issuer `{base}/oidc/{name}` (lower-case name) with `options`
    /// for its discovery document. Register apps on it with `register_app(name, …)`;
    /// its tokens carry `sub` = the user's `oid` and `email_verified: true` unless
    /// `claims` says otherwise.
    pub fn add_issuer(&self, name: &str, options: IssuerOptions) {
        let mut st = self.st();
        st.add_tenant(name);
        st.issuers.insert(name.to_ascii_lowercase(), options);
    }

    /// The issuer URL of generic issuer `name`.
    pub fn generic_issuer(&self, name: &str) -> String {
        format!("{}/oidc/{name}", self.base)
    }

    /// Claims merged into every ID token from now on (`null` removes a claim, e.g.
    /// `sub`); replaces earlier ones.
    pub fn claims(&self, extra: serde_json::Value) {
        self.st().extra_claims = extra.as_object().cloned().unwrap_or_default();
    }

    /// ID tokens carry no `kid` header from now on.
    pub fn omit_kid(&self, omit: bool) {
        self.st().omit_kid = omit;
    }

    /// The JWKS also publishes a second RSA key (that signs nothing).
    pub fn publish_second_key(&self, on: bool) {
        self.st().second_key = on;
    }

    /// A tenant that exists (GUID strings in tests; kept lower-cased).
    pub fn add_tenant(&self, tenant: &str) {
        self.st().add_tenant(tenant);
    }

    /// A verified domain of `tenant` (creating the tenant if needed): `{domain}` works
    /// in place of the GUID in every path and resolves to the GUID, as at Entra.
    pub fn add_domain(&self, domain: &str, tenant: &str) {
        self.st().add_domain(domain, tenant);
    }

    /// The app `client_id` with secret `client_secret` exists in `tenant` (creating the
    /// tenant if needed). Calling it again adds secrets and tenants (a multi-tenant
    /// app consented in several tenants shares its secrets).
    pub fn register_app(&self, tenant: &str, client_id: &str, client_secret: &str) {
        self.st().register_app(tenant, client_id, client_secret);
    }

    /// From now on that secret gets AADSTS7000222 at the token endpoint.
    pub fn expire_secret(&self, client_id: &str, client_secret: &str) {
        self.st().expire_secret(client_id, client_secret);
    }

    /// Queues the user who signs in at a coming authorize request (see the module
    /// docs: a queue, and the last user stays signed in once it is empty).
    pub fn next_login(&self, user: FakeUser) {
        self.st().logins.push_back(user);
    }

    /// When `true`, the fake ignores `prompt=login` and `max_age` (as a misbehaving
    /// provider would), so a signed-in user comes back with their old `auth_time`.
    pub fn ignore_reauth(&self, ignore: bool) {
        self.st().ignore_reauth = ignore;
    }

    /// The next authorize request redirects back with `error`, `error_description`
    /// (verbatim) and `state` instead of a code.
    pub fn next_error(&self, error: &str, description: &str) {
        self.st().next_error = Some((error.to_owned(), description.to_owned()));
    }

    /// Spoils the next ID token issued (only that one; then back to `Hostile::None`).
    pub fn hostile(&self, h: Hostile) {
        self.st().hostile = h;
    }

    /// A new signing key with a new kid; the JWKS publishes only it from now on.
    pub fn rotate_key(&self) {
        self.st().keys.rotate();
    }

    /// The kid of the published signing key.
    pub fn current_kid(&self) -> String {
        self.st().keys.current.kid.clone()
    }

    /// The kids used by `Hostile::EmbeddedJwk` and `Hostile::UnknownKid` tokens.
    pub fn attacker_kids(&self) -> (String, String) {
        let st = self.st();
        (st.keys.embedded.kid.clone(), st.keys.unknown.kid.clone())
    }

    /// JWKS GETs answered (all tenants, errors included; not intercepted requests).
    pub fn jwks_fetches(&self) -> usize {
        self.st().jwks_fetches
    }

    /// Discovery GETs answered (all tenants, errors included; not intercepted requests).
    pub fn discovery_fetches(&self) -> usize {
        self.st().discovery_fetches
    }

    /// When `Some`, every request is answered `302 Location: url`.
    pub fn redirect_everything_to(&self, url: Option<&str>) {
        self.st().redirect_all = url.map(str::to_owned);
    }

    /// When `Some(status)`, every request is answered with that status (after
    /// redirects, which win).
    pub fn outage(&self, status: Option<u16>) {
        self.st().outage = status;
    }

    /// Every request received, as `"METHOD /path?query"`, intercepted ones included.
    pub fn requests(&self) -> Vec<String> {
        self.st().requests.clone()
    }

    /// The query of the last authorize request.
    pub fn last_authorize_query(&self) -> Option<Vec<(String, String)>> {
        self.st().last_authorize.clone()
    }

    /// The form fields of the last token request (`client_secret` included when sent
    /// in the form; see `last_token_basic_auth` for `client_secret_basic`).
    pub fn last_token_request(&self) -> Option<Vec<(String, String)>> {
        self.st().last_token.clone()
    }

    /// The decoded `Authorization: Basic` (client id, secret) of the last token
    /// request, if it used one.
    pub fn last_token_basic_auth(&self) -> Option<(String, String)> {
        self.st().last_token_basic.clone()
    }

    /// The query of the last admin consent request.
    pub fn last_consent_query(&self) -> Option<Vec<(String, String)>> {
        self.st().last_consent.clone()
    }

    /// Every ID token issued, oldest first.
    pub fn id_tokens(&self) -> Vec<String> {
        self.st().id_tokens.clone()
    }

    /// The last ID token issued.
    pub fn last_id_token(&self) -> Option<String> {
        self.st().id_tokens.last().cloned()
    }

    /// How the next `/adminconsent` answers (afterwards: `Granted`).
    pub fn consent_next(&self, outcome: ConsentOutcome) {
        self.st().consent_next = Some(outcome);
    }

    /// The `tenant` reported back by successful admin consents from now on (`None`:
    /// the tenant that consented), to simulate a mismatching answer.
    pub fn consent_claims_tenant(&self, tenant: Option<&str>) {
        self.st().consent_tenant = tenant.map(str::to_owned);
    }

    /// Makes every authorization code issued so far expired (AADSTS70008).
    pub fn expire_codes(&self) {
        for code in self.st().codes.values_mut() {
            code.expired = true;
        }
    }

    /// Shifts the fake's clock (token times, code expiry) by `secs` from real time,
    /// e.g. to follow a test's manual clock.
    pub fn set_clock_offset(&self, secs: i64) {
        self.st().clock_offset = secs;
    }

    /// Sends a browser to `authorize_url` (no redirect following) and returns the
    /// `Location` the fake answers with — the redirect back to the relying party.
    /// Panics with the page if the fake answered anything but a redirect.
    pub async fn follow_authorize(&self, authorize_url: &str) -> String {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        let res = client
            .get(authorize_url)
            .send()
            .await
            .expect("authorize request");
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match location {
            Some(location) if status.is_redirection() => location,
            _ => panic!(
                "authorize answered {status}: {}",
                res.text().await.unwrap_or_default()
            ),
        }
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// The path and query of an absolute URL (`http://host/sso/callback?code=…` →
/// `/sso/callback?code=…`), for sending a redirect back into an in-process app.
pub fn path_and_query(url: &str) -> String {
    let url = url::Url::parse(url).expect("absolute URL");
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

impl Drop for FakeEntra {
    fn drop(&mut self) {
        // `stop` sends its command at once; the returned future only awaits completion.
        drop(self.handle.stop(false));
    }
}

//! Test harness: a Gatehouse app on the real route table with an in-memory store and
//! a clock the test controls, and a `Browser` that keeps cookies, reads CSRF tokens
//! from pages and sends forms as a browser would.

pub mod binary;
pub mod fake_entra;
pub mod fake_graph;
pub mod forward_auth;
pub mod idp;
mod page;
pub mod passkey;
pub mod passkey_steps;
pub mod portal;
pub mod post_redirect;
pub mod scim;
pub mod smtp;
pub mod sso;
pub mod staff;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::{test, web};
use futures_util::future::LocalBoxFuture;

use gatehouse::config::Config;
use gatehouse::domain::time::{Clock, ManualClock, Timestamp};
use gatehouse::domain::totp::TotpSecret;
use gatehouse::keys::Keys;
use gatehouse::service::admin::AdminActor;
use gatehouse::service::{ServiceSettings, Services};
use gatehouse::store::Store;
use gatehouse::web::{AppState, app};

pub use page::Page;

type Call = Rc<dyn Fn(actix_http::Request) -> LocalBoxFuture<'static, ServiceResponse<BoxBody>>>;

/// One Gatehouse instance under test.
pub struct TestApp {
    pub services: Arc<Services>,
    pub clock: Arc<ManualClock>,
    call: Call,
}

/// A configuration table with test defaults; `extra` is TOML merged on top.
pub fn config_with(extra: &str) -> Config {
    let mut table: toml::Table = "data_dir = '/nonexistent-test-dir'\n".parse().unwrap();
    let extra: toml::Table = extra.parse().expect("test TOML");
    for (k, v) in extra {
        table.insert(k, v);
    }
    Config::from_table(table).expect("test config")
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with_config(config_with("")).await
    }

    pub async fn with_config(config: Config) -> TestApp {
        TestApp::with_settings(config, |_| {}).await
    }

    /// An app whose service settings `adjust` changes first (like shorter mail
    /// retry delays).
    pub async fn with_settings(
        config: Config,
        adjust: impl FnOnce(&mut ServiceSettings),
    ) -> TestApp {
        let mut master = [0u8; 32];
        getrandom::fill(&mut master).unwrap();
        let clock = Arc::new(ManualClock::new(gatehouse::domain::time::SystemClock.now()));
        let mut settings = ServiceSettings::from_config(&config);
        adjust(&mut settings);
        let services = Arc::new(
            Services::new(
                Store::in_memory().unwrap(),
                Keys::from_master(master),
                clock.clone(),
                settings,
            )
            .unwrap(),
        );
        TestApp::around(services, clock, config).await
    }

    /// An app over existing services (e.g. to share a store between two apps).
    pub async fn around(
        services: Arc<Services>,
        clock: Arc<ManualClock>,
        config: Config,
    ) -> TestApp {
        let state = web::Data::new(AppState::new(services.clone(), Arc::new(config)));
        let svc = Rc::new(test::init_service(app(state)).await);
        let call: Call = Rc::new(move |req| {
            let svc = svc.clone();
            Box::pin(async move {
                match svc.call(req).await {
                    Ok(res) => res.map_into_boxed_body(),
                    Err(e) => panic!("the app returned an error instead of a response: {e}"),
                }
            })
        });
        TestApp {
            services,
            clock,
            call,
        }
    }

    pub fn browser(&self) -> Browser {
        Browser {
            call: self.call.clone(),
            cookies: BTreeMap::new(),
            ip: "203.0.113.10".parse().unwrap(),
            csrf: None,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Creates an active staff admin with a password (no authenticator yet).
    pub async fn create_admin(&self, email: &str, password: &str) {
        self.services
            .create_admin(
                AdminActor::cli(),
                email.into(),
                "Admin".into(),
                password.into(),
            )
            .await
            .expect("create admin");
    }

    /// The current TOTP code for a base32 secret, at the app's clock, `steps` steps
    /// from now.
    pub fn code(&self, secret: &str, steps: i64) -> String {
        let at = self.now().plus_secs(steps * 30).0 as u64;
        TotpSecret::from_base32(secret)
            .expect("base32 secret")
            .code_at(at, 6)
    }

    /// Moves the clock to the start of the next TOTP step (so a fresh code exists).
    pub fn next_step(&self) {
        let now = self.now().0;
        self.clock.set(Timestamp(now - now % 30 + 30));
    }
}

/// A cookie-keeping client.
pub struct Browser {
    call: Call,
    pub cookies: BTreeMap<String, String>,
    /// The peer address requests come from.
    pub ip: IpAddr,
    /// The CSRF token of the last page that had one.
    pub csrf: Option<String>,
}

impl Browser {
    /// A fresh browser for `app` (same as `app.browser()`).
    pub fn clone_from(app: &TestApp) -> Browser {
        app.browser()
    }

    /// A copy of this browser (cookies, CSRF token, address) for sending requests side
    /// by side, as a script firing many at once would.
    pub fn fork(&self) -> Browser {
        Browser {
            call: self.call.clone(),
            cookies: self.cookies.clone(),
            ip: self.ip,
            csrf: self.csrf.clone(),
        }
    }

    fn request(&self, method: actix_web::http::Method, path: &str) -> test::TestRequest {
        let mut req = test::TestRequest::default()
            .method(method)
            .uri(path)
            .peer_addr(SocketAddr::new(self.ip, 40000))
            .insert_header((
                header::USER_AGENT,
                "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36",
            ));
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.insert_header((header::COOKIE, cookie));
        }
        req
    }

    /// Sends a request and records cookies and any CSRF token on the page.
    pub async fn send(&mut self, req: test::TestRequest) -> Page {
        let res = (self.call)(req.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body();
        let bytes = actix_web::body::to_bytes(body).await.unwrap_or_default();
        let set_cookies: Vec<String> = headers
            .get_all(header::SET_COOKIE)
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for raw in &set_cookies {
            let cookie = actix_web::cookie::Cookie::parse(raw.clone()).expect("valid Set-Cookie");
            let removed = cookie
                .max_age()
                .is_some_and(|a| a.is_zero() || a.is_negative())
                || cookie
                    .expires_datetime()
                    .is_some_and(|t| t.unix_timestamp() < 1_000_000_000);
            if removed {
                self.cookies.remove(cookie.name());
            } else {
                self.cookies
                    .insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
        let page = Page {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            set_cookies,
        };
        if let Some(token) = page.input_value("csrf_token") {
            self.csrf = Some(token);
        }
        page
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let req = self.request(actix_web::http::Method::GET, path);
        self.send(req).await
    }

    /// Posts a form with the current CSRF token.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        let token = self.csrf.clone().unwrap_or_default();
        all.push(("csrf_token", &token));
        let body = serde_urlencoded::to_string(&all).unwrap();
        self.post_raw(path, "application/x-www-form-urlencoded", body.into_bytes())
            .await
    }

    /// Posts a form with the current CSRF token and extra request headers.
    pub async fn post_with_headers(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        let token = self.csrf.clone().unwrap_or_default();
        all.push(("csrf_token", &token));
        let body = serde_urlencoded::to_string(&all).unwrap();
        let mut req = self
            .request(actix_web::http::Method::POST, path)
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .insert_header((header::ORIGIN, "null"))
            .insert_header(("sec-fetch-site", "same-origin"))
            .set_payload(body.into_bytes());
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        self.send(req).await
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_without_csrf(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.post_raw(path, "application/x-www-form-urlencoded", body.into_bytes())
            .await
    }

    /// Posts a body with the headers a browser sends for a form on our own pages: under
    /// our `Referrer-Policy: no-referrer` that is `Origin: null` (not our origin) with
    /// `Sec-Fetch-Site: same-origin`.
    pub async fn post_raw(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let req = self
            .request(actix_web::http::Method::POST, path)
            .insert_header((header::CONTENT_TYPE, content_type))
            .insert_header((header::ORIGIN, "null"))
            .insert_header(("sec-fetch-site", "same-origin"))
            .set_payload(body);
        self.send(req).await
    }

    /// Follows the `303 See Other` a form answered with (POST-redirect-GET): asserts it
    /// is one and opens the page it names.
    pub async fn follow(&mut self, page: &Page) -> Page {
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "a form answers with a redirect: {}",
            page.body
        );
        let location = page.location().to_owned();
        self.get(&location).await
    }

    /// Posts a form and follows the redirect it answers with to the page it names.
    pub async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.post(path, fields).await;
        self.follow(&page).await
    }

    /// The value of cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.get(name).cloned()
    }

    /// The staff session cookie value (plain http test installs use `gh_session`).
    pub fn session(&self) -> Option<String> {
        self.cookie("gh_session")
    }

    /// Signs in with password and, if asked, a TOTP code; returns the final page.
    pub async fn sign_in(
        &mut self,
        app: &TestApp,
        email: &str,
        password: &str,
        totp_secret: Option<&str>,
    ) -> Page {
        self.sign_in_at("", app, email, password, totp_secret).await
    }

    /// The same on the pages under `prefix` (`""` for staff, `/p/{slug}` for a portal).
    pub async fn sign_in_at(
        &mut self,
        prefix: &str,
        app: &TestApp,
        email: &str,
        password: &str,
        totp_secret: Option<&str>,
    ) -> Page {
        self.get(&format!("{prefix}/login")).await;
        let page = self
            .post(
                &format!("{prefix}/login"),
                &[("email", email), ("password", password)],
            )
            .await;
        match totp_secret {
            Some(secret) => {
                assert_eq!(
                    page.location(),
                    format!("{prefix}/login/mfa"),
                    "password step: {}",
                    page.status
                );
                self.get(&format!("{prefix}/login/mfa")).await;
                let code = app.code(secret, 0);
                self.post(&format!("{prefix}/login/mfa"), &[("code", &code)])
                    .await
            }
            None => page,
        }
    }

    /// Confirms who the signed-in admin is at the step-up page `confirm` (as the
    /// gate's redirect names it, `/admin/confirm?next=…`) with the password and a fresh
    /// TOTP code (one step on), as admin changes need once the step-up window since
    /// sign-in has passed; returns to its `next` (a redirect on success).
    pub async fn step_up_at(
        &mut self,
        confirm: &str,
        app: &TestApp,
        password: &str,
        totp_secret: &str,
    ) -> Page {
        let page = self.get(confirm).await;
        let next = page.input_value("next").unwrap_or_default();
        app.next_step();
        let code = app.code(totp_secret, 0);
        self.post(
            "/admin/confirm",
            &[("password", password), ("code", &code), ("next", &next)],
        )
        .await
    }

    /// Enrols TOTP from `/mfa/setup`; returns (secret, recovery codes).
    pub async fn enrol(&mut self, app: &TestApp) -> (String, Vec<String>) {
        self.enrol_at("", app).await
    }

    /// The same under `prefix`.
    pub async fn enrol_at(&mut self, prefix: &str, app: &TestApp) -> (String, Vec<String>) {
        let page = self.get(&format!("{prefix}/mfa/setup")).await;
        assert_eq!(page.status, StatusCode::OK, "enrolment page: {}", page.body);
        let secret = page
            .input_value("secret")
            .expect("secret shown on the page");
        let uri = page.input_value("otpauth").expect("otpauth URI shown");
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(page.has("data:image/svg+xml;base64,"), "QR code shown");
        let code = app.code(&secret, 0);
        let page = self
            .post(&format!("{prefix}/mfa/setup"), &[("code", &code)])
            .await;
        // POST-redirect-GET: the codes are shown once on the page the form leads to.
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "enrolment confirm: {}",
            page.body
        );
        assert!(
            page.location()
                .starts_with(&format!("{prefix}/account/recovery-codes?done=")),
            "{}",
            page.location()
        );
        let page = self.follow(&page).await;
        assert_eq!(page.status, StatusCode::OK, "recovery codes: {}", page.body);
        let codes = page.codes();
        assert_eq!(codes.len(), 10, "ten recovery codes shown");
        (secret, codes)
    }
}

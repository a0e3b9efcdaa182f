//! POST-redirect-GET for every form (DESIGN §11): a form that succeeded answers
//! `303 See Other` to a page, so reloading that page repeats nothing. What the page
//! must show once — a notice, a fresh invitation link, new recovery codes — travels
//! as a *flash*: kept in memory on the server under a random id that goes into the
//! redirect's `?done=` query, bound to the browser (a hash of its CSRF cookie) and to
//! the page it is for, valid ten minutes, and shown once (taking it deletes it).
//! Nothing secret is ever put in the URL, and the flash never reaches the store.

use std::collections::HashMap;
use std::future::{Ready, ready};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::error::WebError;
use super::{AppState, see_other};
use crate::service::sso::settings::ConnectionTest;

/// How long a flash waits for its page.
const LIFETIME: Duration = Duration::from_secs(10 * 60);
/// At most this many flashes wait at once; beyond it the oldest is dropped.
const CAPACITY: usize = 10_000;
/// The query parameter carrying a flash id.
pub const PARAM: &str = "done";

/// An invitation just made: the address and the single-use link to pass on.
#[derive(Clone, PartialEq, Eq)]
pub struct Invited {
    pub email: String,
    pub link: String,
    /// The invitation was also emailed.
    pub emailed: bool,
}

/// What a page shows once after the form that led to it. `Debug` hides the secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Flash {
    pub notice: Option<String>,
    pub invited: Option<Invited>,
    pub recovery_codes: Vec<String>,
    /// Where "Continue" leads after the recovery codes (checked before it was stored).
    pub continue_url: Option<String>,
    /// An admin-consent link just made for a client.
    pub consent_link: Option<String>,
    /// A connection test just run.
    pub test: Option<ConnectionTest>,
    /// What the test just run was of (an identity provider's id), when a page lists several.
    pub tested: Option<String>,
    /// Why an action was refused (not a form's field error: those show on the form).
    pub error: Option<String>,
    /// A link an admin just made for a user, to copy: (what it is, the link).
    pub shown_link: Option<(String, String)>,
}

impl std::fmt::Debug for Flash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flash")
            .field("notice", &self.notice)
            .field("invited", &self.invited.as_ref().map(|i| &i.email))
            .field("recovery_codes", &self.recovery_codes.len())
            .field("consent_link", &self.consent_link.is_some())
            .field("test", &self.test)
            .field("tested", &self.tested)
            .field("error", &self.error)
            .field(
                "shown_link",
                &self.shown_link.as_ref().map(|(what, _)| what),
            )
            .finish()
    }
}

impl Flash {
    /// A flash carrying only a notice.
    pub fn notice(text: impl Into<String>) -> Flash {
        Flash {
            notice: Some(text.into()),
            ..Flash::default()
        }
    }
}

struct Entry {
    browser: [u8; 32],
    page: String,
    expires: Instant,
    flash: Flash,
}

/// The flashes waiting for their page.
#[derive(Default)]
pub struct Flashes {
    waiting: Mutex<HashMap<String, Entry>>,
}

impl Flashes {
    fn put(&self, browser: [u8; 32], page: &str, flash: Flash) -> Option<String> {
        let id = random_id()?;
        let now = Instant::now();
        let mut waiting = self.waiting.lock().ok()?;
        waiting.retain(|_, e| e.expires > now);
        if waiting.len() >= CAPACITY
            && let Some(oldest) = waiting
                .iter()
                .min_by_key(|(_, e)| e.expires)
                .map(|(k, _)| k.clone())
        {
            waiting.remove(&oldest);
        }
        waiting.insert(
            id.clone(),
            Entry {
                browser,
                page: page.to_owned(),
                expires: now + LIFETIME,
                flash,
            },
        );
        Some(id)
    }

    fn take(&self, id: &str, browser: [u8; 32], page: &str) -> Option<Flash> {
        let mut waiting = self.waiting.lock().ok()?;
        let entry = waiting.get(id)?;
        if entry.browser != browser || entry.page != page {
            return None;
        }
        let entry = waiting.remove(id)?;
        (entry.expires > Instant::now()).then_some(entry.flash)
    }
}

fn random_id() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

/// The browser a request comes from: a hash of its CSRF cookie (every page gives one;
/// every accepted form carried one).
fn browser_of(req: &HttpRequest) -> Option<[u8; 32]> {
    let state = AppState::of(req);
    let cookie = req.cookie(state.cookies.csrf_name())?;
    Some(Sha256::digest(cookie.value().as_bytes()).into())
}

/// `303 See Other` to `page` (a path without query), carrying `flash` to it.
pub fn redirect(req: &HttpRequest, page: &str, flash: Flash) -> HttpResponse {
    let state = AppState::of(req);
    let id = browser_of(req).and_then(|browser| state.flashes.put(browser, page, flash));
    match id {
        Some(id) => see_other(&format!("{page}?{PARAM}={id}")),
        None => see_other(page),
    }
}

impl FromRequest for Flash {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    /// The flash this page was sent with, once; empty when there is none (or it is
    /// not this browser's, not for this page, expired or already shown).
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = url::form_urlencoded::parse(req.query_string().as_bytes())
            .find(|(k, _)| k == PARAM)
            .map(|(_, v)| v.into_owned());
        let flash = id
            .zip(browser_of(req))
            .and_then(|(id, browser)| AppState::of(req).flashes.take(&id, browser, req.path()));
        ready(Ok(flash.unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_is_shown_once_to_its_browser_on_its_page() {
        let flashes = Flashes::default();
        let id = flashes
            .put([1; 32], "/admin/users", Flash::notice("done"))
            .unwrap();
        assert!(flashes.take(&id, [2; 32], "/admin/users").is_none());
        assert!(flashes.take(&id, [1; 32], "/account").is_none());
        assert_eq!(
            flashes.take(&id, [1; 32], "/admin/users"),
            Some(Flash::notice("done"))
        );
        assert!(flashes.take(&id, [1; 32], "/admin/users").is_none());
    }
}

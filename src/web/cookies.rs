//! Cookie names and attributes. Session cookies are `HttpOnly`, `SameSite=Lax`,
//! `Path=/`, and under https `Secure` with the `__Host-` prefix — or `__Secure-` when
//! `cookie_domain` widens them to the protected apps' subdomains. Each realm has its
//! own session cookie, so a browser can hold a staff and a portal session side by
//! side and neither is ever read for the other.
//!
//! Staff sessions also get an admin cookie holding a separate secret: host-only
//! always (`__Host-` under https, never a `Domain`), so protected apps never see it.
//! Only it, together with the session, opens `/admin`.

use actix_web::cookie::{Cookie, SameSite};

use crate::config::Config;

/// The CSRF cookie's base name.
const CSRF: &str = "gh_csrf";
/// The session cookie's base name.
const SESSION: &str = "gh_session";
/// The admin cookie's base name.
const ADMIN: &str = "gh_admin";
/// The device cookie's base name ("sign-in from a new device").
const DEVICE: &str = "gh_device";

#[derive(Debug, Clone)]
pub struct CookieSettings {
    secure: bool,
    domain: Option<String>,
}

impl CookieSettings {
    pub fn from_config(config: &Config) -> CookieSettings {
        CookieSettings {
            secure: config.is_https(),
            domain: config.cookie_domain.clone(),
        }
    }

    fn session_prefix(&self) -> &'static str {
        match (self.secure, &self.domain) {
            (true, None) => "__Host-",
            (true, Some(_)) => "__Secure-",
            (false, _) => "",
        }
    }

    /// Whether `name` is [`Self::session_name`] of the realm (compared without
    /// building the name: forward-auth asks on every request).
    pub fn is_session_name(&self, name: &str, portal_slug: Option<&str>) -> bool {
        let Some(rest) = name
            .strip_prefix(self.session_prefix())
            .and_then(|n| n.strip_prefix(SESSION))
        else {
            return false;
        };
        match portal_slug {
            None => rest.is_empty(),
            Some(slug) => rest.strip_prefix("_p_") == Some(slug),
        }
    }

    /// The session cookie name of a realm: staff, or the portal of `slug`.
    pub fn session_name(&self, portal_slug: Option<&str>) -> String {
        match portal_slug {
            None => format!("{}{SESSION}", self.session_prefix()),
            Some(slug) => format!("{}{SESSION}_p_{slug}", self.session_prefix()),
        }
    }

    /// A session cookie holding `token`. It lasts as long as the browser session;
    /// the server enforces idle and absolute limits.
    pub fn session(&self, name: String, token: String) -> Cookie<'static> {
        let mut cookie = Cookie::build(name, token)
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .finish();
        if let Some(domain) = &self.domain {
            cookie.set_domain(domain.clone());
        }
        cookie
    }

    /// A cookie that deletes the session cookie `name`.
    pub fn session_removal(&self, name: String) -> Cookie<'static> {
        let mut cookie = self.session(name, String::new());
        cookie.make_removal();
        cookie
    }

    /// The admin cookie's name.
    pub fn admin_name(&self) -> &'static str {
        if self.secure {
            "__Host-gh_admin"
        } else {
            ADMIN
        }
    }

    /// The admin cookie holding `secret`: host-only, whatever `cookie_domain` says.
    pub fn admin(&self, secret: String) -> Cookie<'static> {
        Cookie::build(self.admin_name(), secret)
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .finish()
    }

    /// A cookie that deletes the admin cookie.
    pub fn admin_removal(&self) -> Cookie<'static> {
        let mut cookie = self.admin(String::new());
        cookie.make_removal();
        cookie
    }

    /// The device cookie's name for the realm whose session cookie is `session_name`
    /// (see `service::devices`): host-only, one per realm.
    pub fn device_name(&self, session_name: &str) -> String {
        let realm_suffix = session_name
            .split_once(SESSION)
            .map_or("", |(_, rest)| rest);
        let prefix = if self.secure { "__Host-" } else { "" };
        format!("{prefix}{DEVICE}{realm_suffix}")
    }

    /// The long-lived device cookie holding `value` (400 days, the most browsers keep).
    pub fn device(&self, name: String, value: String) -> Cookie<'static> {
        Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .max_age(actix_web::cookie::time::Duration::days(400))
            .finish()
    }

    pub fn csrf_name(&self) -> &'static str {
        if self.secure { "__Host-gh_csrf" } else { CSRF }
    }

    /// The CSRF cookie: host-only, never sent to other subdomains.
    pub fn csrf(&self, value: String) -> Cookie<'static> {
        Cookie::build(self.csrf_name(), value)
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .finish()
    }
}

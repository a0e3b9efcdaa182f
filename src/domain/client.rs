//! Clients: the business's customer companies, each with its own portal realm and
//! its own sign-in rules (login methods, Entra tenant, SSO-only, MFA for password
//! users, just-in-time users, guests, session lifetimes) and branding.

use serde::{Deserialize, Serialize};

use super::time::Timestamp;
use super::user::{ClientId, Sealed};

/// Why a slug was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the short name (slug) must be 2 to 40 characters: lower-case letters, digits and '-'")]
pub struct InvalidSlug;

/// Checks a client's slug (`[a-z0-9-]{2,40}`).
pub fn check_slug(slug: &str) -> Result<(), InvalidSlug> {
    let ok = (2..=40).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok { Ok(()) } else { Err(InvalidSlug) }
}

/// Checks an accent colour (`#rrggbb`); returns it lower-cased.
pub fn check_accent(colour: &str) -> Option<String> {
    let c = colour.trim().to_ascii_lowercase();
    (c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(c)
}

/// The longest name shown in an authenticator app or a page footer.
pub const SHORT_TEXT_LIMIT: usize = 80;

/// Checks a short line of text an admin sets for a portal (the name in authenticator
/// apps, the footer): trimmed, at most [`SHORT_TEXT_LIMIT`] characters, no control
/// characters. `Some("")` means "none".
pub fn check_short_text(text: &str) -> Option<String> {
    let text = text.trim();
    (text.chars().count() <= SHORT_TEXT_LIMIT && !text.chars().any(char::is_control))
        .then(|| text.to_owned())
}

/// Whether the client's Entra admin granted the portal app consent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Consent {
    #[default]
    NotRequested,
    Granted {
        at: Timestamp,
    },
    Failed {
        at: Timestamp,
        error: String,
        description: String,
    },
}

/// A pending admin-consent link: the sealed `state` (so the link can be shown again)
/// and its expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentLink {
    pub state: Sealed,
    pub expires_at: Timestamp,
}

/// A small logo shown on the portal pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logo {
    /// `image/png` or `image/jpeg`.
    pub content_type: String,
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
}

/// The largest logo accepted.
pub const LOGO_LIMIT: usize = 64 * 1024;

impl Logo {
    /// Accepts PNG or JPEG (recognised by content, not by name) up to 64 KiB. SVG is
    /// refused: it can carry script.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Logo> {
        if bytes.is_empty() || bytes.len() > LOGO_LIMIT {
            return None;
        }
        let content_type = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            "image/jpeg"
        } else {
            return None;
        };
        Some(Logo {
            content_type: content_type.to_owned(),
            bytes,
        })
    }
}

impl Client {
    /// What changed from `before` to `self`, for the audit log: "name: Acme → Acme Ltd;
    /// accent: none → #12ab34; …". Only settings, never anything secret (the logo and
    /// the consent link are named, not shown).
    pub fn changes_since(&self, before: &Client) -> String {
        fn text(v: &Option<String>) -> String {
            v.clone().unwrap_or_else(|| "none".to_owned())
        }
        fn secs(v: Option<i64>) -> String {
            v.map_or_else(|| "default".to_owned(), |s| format!("{s}s"))
        }
        fn on(v: bool) -> String {
            if v { "on" } else { "off" }.to_owned()
        }
        let pairs = [
            ("name", before.name.clone(), self.name.clone()),
            ("accent", text(&before.accent), text(&self.accent)),
            (
                "authenticator name",
                text(&before.totp_issuer),
                text(&self.totp_issuer),
            ),
            ("footer", text(&before.footer), text(&self.footer)),
            (
                "password sign-in",
                on(before.password_login),
                on(self.password_login),
            ),
            (
                "MFA required",
                on(before.mfa_required),
                on(self.mfa_required),
            ),
            (
                "Microsoft sign-in",
                on(before.sso_enabled),
                on(self.sso_enabled),
            ),
            ("tenant", text(&before.tenant_id), text(&self.tenant_id)),
            ("SSO-only", on(before.sso_only), on(self.sso_only)),
            ("just-in-time users", on(before.jit), on(self.jit)),
            (
                "allowed domains",
                before.allowed_domains.join(","),
                self.allowed_domains.join(","),
            ),
            ("guests", on(before.allow_guests), on(self.allow_guests)),
            (
                "idle timeout",
                secs(before.idle_timeout_secs),
                secs(self.idle_timeout_secs),
            ),
            (
                "absolute timeout",
                secs(before.absolute_timeout_secs),
                secs(self.absolute_timeout_secs),
            ),
            ("enabled", on(before.enabled), on(self.enabled)),
        ];
        let mut changed: Vec<String> = pairs
            .into_iter()
            .filter(|(_, old, new)| old != new)
            .map(|(what, old, new)| format!("{what}: {old} → {new}"))
            .collect();
        if before.logo != self.logo {
            changed.push("logo changed".to_owned());
        }
        if changed.is_empty() {
            "nothing".to_owned()
        } else {
            changed.join("; ")
        }
    }

    /// The issuer name in this portal's TOTP links: what the user's authenticator app
    /// shows beside the codes. A colon separates issuer and account in those links, so
    /// it becomes a space.
    pub fn authenticator_name(&self) -> String {
        self.totp_issuer
            .as_deref()
            .unwrap_or(&self.name)
            .replace(':', " ")
    }
}

/// A client and its portal settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub id: ClientId,
    /// The portal's address: `/p/{slug}`. Never changes.
    pub slug: String,
    /// Shown on every portal page.
    pub name: String,
    #[serde(default)]
    pub accent: Option<String>,
    #[serde(default)]
    pub logo: Option<Logo>,
    /// The name authenticator apps show for this portal's codes (default: `name`).
    #[serde(default)]
    pub totp_issuer: Option<String>,
    /// A line at the foot of every portal page (default: none).
    #[serde(default)]
    pub footer: Option<String>,
    /// Email + password sign-in is offered.
    #[serde(default = "yes")]
    pub password_login: bool,
    /// Password users must use TOTP.
    #[serde(default = "yes")]
    pub mfa_required: bool,
    /// "Sign in with Microsoft" against `tenant_id`.
    #[serde(default)]
    pub sso_enabled: bool,
    /// The client's Entra tenant (GUID).
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub sso_only: bool,
    #[serde(default)]
    pub jit: bool,
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// Guest accounts of the tenant may sign in.
    #[serde(default)]
    pub allow_guests: bool,
    /// "Sign in with a passkey" (no password) is offered on the portal.
    #[serde(default)]
    pub passkey_sign_in: bool,
    #[serde(default)]
    pub idle_timeout_secs: Option<i64>,
    #[serde(default)]
    pub absolute_timeout_secs: Option<i64>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub consent: Consent,
    #[serde(default)]
    pub consent_link: Option<ConsentLink>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn yes() -> bool {
    true
}

impl Client {
    /// A new client with the defaults: password + TOTP, no SSO, enabled.
    pub fn new(id: ClientId, slug: String, name: String, now: Timestamp) -> Client {
        Client {
            id,
            slug,
            name,
            accent: None,
            logo: None,
            totp_issuer: None,
            footer: None,
            password_login: true,
            mfa_required: true,
            sso_enabled: false,
            tenant_id: None,
            sso_only: false,
            jit: false,
            allowed_domains: Vec::new(),
            allow_guests: false,
            passkey_sign_in: false,
            idle_timeout_secs: None,
            absolute_timeout_secs: None,
            enabled: true,
            consent: Consent::NotRequested,
            consent_link: None,
            created_at: now,
            updated_at: now,
        }
    }
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for good in ["ab", "acme", "acme-corp-2", &"a".repeat(40)] {
            assert_eq!(check_slug(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "a",
            "Acme",
            "acme corp",
            "acme_corp",
            "acmé",
            "../x",
            &"a".repeat(41),
        ] {
            assert_eq!(check_slug(bad), Err(InvalidSlug), "{bad}");
        }
    }

    #[test]
    fn accents() {
        assert_eq!(check_accent("#1F4E79").as_deref(), Some("#1f4e79"));
        for bad in ["1f4e79", "#fff", "#12345g", "red", "#1f4e79;x"] {
            assert_eq!(check_accent(bad), None, "{bad}");
        }
    }

    #[test]
    fn logos_are_png_or_jpeg_only() {
        assert!(Logo::from_bytes(b"\x89PNG\r\n\x1a\nrest".to_vec()).is_some());
        assert!(Logo::from_bytes(vec![0xff, 0xd8, 0xff, 0xe0]).is_some());
        assert!(Logo::from_bytes(b"<svg onload=alert(1)>".to_vec()).is_none());
        assert!(Logo::from_bytes(vec![0x89; LOGO_LIMIT + 1]).is_none());
    }
}

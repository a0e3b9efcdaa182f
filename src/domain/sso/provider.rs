//! Identity providers of a realm (DESIGN §10): an ordered list, each `entra` or
//! `oidc`. What an admin may enter (ids, issuers, domain lists) is checked here, and
//! so is whether an ID token proves MFA at the provider. No network, no store.
//!
//! An `entra` provider's connection (tenant, app, secret) stays where it always was
//! (the staff app settings, or the client's tenant with the portal app): the list
//! entry gives it its place, its button and the settings that are new with providers
//! (`require_mfa` with its authentication context, routing domains). An `oidc`
//! provider holds everything itself.

use serde::{Deserialize, Serialize};

use crate::domain::user::Sealed;

/// The id of the provider the Entra settings of a realm become.
pub const ENTRA_PROVIDER_ID: &str = "microsoft";
/// At most this many providers per realm.
pub const MAX_PROVIDERS: usize = 10;
/// Default scopes of an `oidc` provider.
pub const DEFAULT_SCOPES: &str = "openid profile email";

/// The kinds of identity provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Microsoft Entra ID, keyed by (tid, oid).
    Entra,
    /// Any OpenID Connect provider by discovery, keyed by (iss, sub).
    Oidc,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Entra => "entra",
            ProviderKind::Oidc => "oidc",
        }
    }

    pub fn parse(text: &str) -> Result<ProviderKind, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "entra" => Ok(ProviderKind::Entra),
            "oidc" => Ok(ProviderKind::Oidc),
            other => Err(format!(
                "unknown provider kind {other:?}: use entra or oidc"
            )),
        }
    }
}

/// The last connection test of an `oidc` provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderTest {
    pub at: i64,
    pub revision: u64,
    pub passed: bool,
    /// (what was checked, passed, detail).
    pub items: Vec<(String, bool, String)>,
}

/// One identity provider of a realm, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityProvider {
    /// Slug, unique in its realm; in `/login/sso/{id}`.
    pub id: String,
    pub kind: ProviderKind,
    /// The button reads "Sign in with {name}".
    pub name: String,
    #[serde(default)]
    pub enabled: bool,
    /// `oidc`: the issuer, exactly as discovery must name it.
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub client_id: String,
    /// `oidc`: sealed under [`secret_context`]; never shown again.
    #[serde(default)]
    pub client_secret: Option<Sealed>,
    #[serde(default)]
    pub secret_expires: Option<String>,
    #[serde(default = "default_scopes")]
    pub scopes: String,
    /// An `email_verified` that is not `true` never links or provisions.
    #[serde(default = "yes")]
    pub require_verified_email: bool,
    /// Email domains that email-first sends to this provider.
    #[serde(default)]
    pub routing_domains: Vec<String>,
    /// `oidc`: create users on first sign-in (entra: the realm's Entra settings).
    #[serde(default)]
    pub jit: bool,
    /// `oidc`: domains allowed for just-in-time users; empty = any.
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// The session exists only when the ID token proves MFA at the provider.
    #[serde(default)]
    pub require_mfa: bool,
    /// `oidc`: `acr` values that count as MFA (besides `amr` containing `mfa`).
    #[serde(default)]
    pub mfa_acr_values: Vec<String>,
    /// `entra`: the Conditional Access authentication context id (e.g. `c1`).
    #[serde(default)]
    pub auth_context: Option<String>,
    /// Bumped when what a connection test checks changes.
    #[serde(default)]
    pub revision: u64,
    #[serde(default)]
    pub last_test: Option<ProviderTest>,
}

fn default_scopes() -> String {
    DEFAULT_SCOPES.to_owned()
}

fn yes() -> bool {
    true
}

impl IdentityProvider {
    /// A new provider with the defaults of DESIGN §10 (disabled until turned on).
    pub fn new(id: &str, kind: ProviderKind, name: &str) -> IdentityProvider {
        IdentityProvider {
            id: id.to_owned(),
            kind,
            name: name.to_owned(),
            enabled: false,
            issuer: String::new(),
            client_id: String::new(),
            client_secret: None,
            secret_expires: None,
            scopes: default_scopes(),
            require_verified_email: true,
            routing_domains: Vec::new(),
            jit: false,
            allowed_domains: Vec::new(),
            require_mfa: false,
            mfa_acr_values: Vec::new(),
            auth_context: None,
            revision: 0,
            last_test: None,
        }
    }

    /// The Entra provider a realm's existing Microsoft settings become.
    pub fn entra(enabled: bool) -> IdentityProvider {
        let mut p = IdentityProvider::new(ENTRA_PROVIDER_ID, ProviderKind::Entra, "Microsoft");
        p.enabled = enabled;
        p
    }

    /// An `oidc` provider with issuer, client id and secret all present.
    pub fn oidc_configured(&self) -> bool {
        self.kind == ProviderKind::Oidc
            && !self.issuer.is_empty()
            && !self.client_id.is_empty()
            && self.client_secret.is_some()
    }

    /// Whether `domain` routes to this provider (email-first).
    pub fn routes(&self, domain: &str) -> bool {
        self.routing_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(domain))
    }

    /// The scopes sent, always with `openid`.
    pub fn scope_list(&self) -> String {
        let mut scopes: Vec<&str> = self.scopes.split_whitespace().collect();
        if !scopes.contains(&"openid") {
            scopes.insert(0, "openid");
        }
        scopes.join(" ")
    }
}

/// A sign-in button: one per enabled provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderButton {
    pub id: String,
    pub name: String,
    pub kind: ProviderKind,
}

/// The context an `oidc` provider's client secret is sealed under.
pub fn secret_context(realm_key: &str, id: &str) -> String {
    format!("idp-client-secret:{realm_key}:{id}")
}

/// A realm's providers, in button order, and its email-first switches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderList {
    #[serde(default)]
    pub providers: Vec<IdentityProvider>,
    /// `/login` asks for the email first and routes it.
    #[serde(default)]
    pub email_first: bool,
    /// A client's: the staff email-first login may send its routing domains here.
    #[serde(default)]
    pub discoverable: bool,
}

impl ProviderList {
    pub fn get(&self, id: &str) -> Option<&IdentityProvider> {
        self.providers.iter().find(|p| p.id == id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut IdentityProvider> {
        self.providers.iter_mut().find(|p| p.id == id)
    }

    /// The Entra entry, if the realm has one.
    pub fn entra(&self) -> Option<&IdentityProvider> {
        self.providers
            .iter()
            .find(|p| p.kind == ProviderKind::Entra)
    }
}

/// A provider id: 1–32 of `a-z 0-9 -`, starting with a letter.
pub fn check_id(id: &str) -> Result<String, String> {
    let id = id.trim().to_ascii_lowercase();
    let ok = !id.is_empty()
        && id.len() <= 32
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(id)
    } else {
        Err("a provider id is 1–32 lower-case letters, digits or '-', starting with a letter (e.g. okta)".to_owned())
    }
}

/// An issuer: an absolute `https` URL without query or fragment (plain `http` only on
/// a loopback address when `allow_insecure_loopback`). Kept exactly as entered
/// (trimmed), since the discovery document must repeat it byte for byte.
pub fn check_issuer(text: &str, allow_insecure_loopback: bool) -> Result<String, String> {
    let text = text.trim();
    let url = url::Url::parse(text).map_err(|_| format!("{text:?} is not a URL"))?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err("an issuer has no query, fragment or user name".to_owned());
    }
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(text.to_owned()),
        "http" if allow_insecure_loopback && loopback => Ok(text.to_owned()),
        _ => Err("the issuer must be an https:// URL".to_owned()),
    }
}

/// A comma- or space-separated list of email domains, lower-cased.
pub fn parse_domains(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for d in text
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        let d = d.trim_start_matches('@').to_ascii_lowercase();
        let ok = d.contains('.')
            && d.len() <= 253
            && d.split('.').all(|l| {
                !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !ok {
            return Err(format!("{d:?} is not a domain"));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// What an ID token says about how the user authenticated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthProof {
    pub amr: Vec<String>,
    pub acr: Option<String>,
    /// Entra: the authentication contexts satisfied.
    pub acrs: Vec<String>,
}

/// Whether the token proves MFA as `provider` requires it. `oidc`: `amr` contains
/// `mfa` (RFC 8176), or `acr` is one of the configured values. `entra`: the
/// configured authentication context is in `acrs`.
pub fn proves_mfa(provider: &IdentityProvider, proof: &AuthProof) -> bool {
    match provider.kind {
        ProviderKind::Oidc => {
            proof.amr.iter().any(|m| m == "mfa")
                || proof
                    .acr
                    .as_ref()
                    .is_some_and(|acr| provider.mfa_acr_values.iter().any(|v| v == acr))
        }
        ProviderKind::Entra => provider
            .auth_context
            .as_ref()
            .is_some_and(|c| proof.acrs.iter().any(|a| a == c)),
    }
}

/// The `claims` request parameter asking Entra for authentication context `context`
/// as essential (the token then carries it in `acrs`).
pub fn entra_claims_parameter(context: &str) -> String {
    serde_json::json!({
        "id_token": { "acrs": { "essential": true, "value": context } }
    })
    .to_string()
}

/// An Entra authentication context id: `c1` … `c99`.
pub fn check_auth_context(text: &str) -> Result<String, String> {
    let t = text.trim().to_ascii_lowercase();
    let ok = t
        .strip_prefix('c')
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=99).contains(&n));
    if ok {
        Ok(t)
    } else {
        Err("an authentication context id looks like c1 (c1 … c99, as in Entra's Conditional Access)".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mfa_proofs() {
        let mut oidc = IdentityProvider::new("okta", ProviderKind::Oidc, "Okta");
        let mut proof = AuthProof::default();
        assert!(!proves_mfa(&oidc, &proof));
        proof.amr = vec!["pwd".into(), "mfa".into()];
        assert!(proves_mfa(&oidc, &proof));
        proof.amr = vec!["pwd".into()];
        proof.acr = Some("urn:x:mfa".into());
        assert!(!proves_mfa(&oidc, &proof));
        oidc.mfa_acr_values = vec!["urn:x:mfa".into()];
        assert!(proves_mfa(&oidc, &proof));
        let mut entra = IdentityProvider::entra(true);
        let mut proof = AuthProof {
            acrs: vec!["c1".into()],
            ..AuthProof::default()
        };
        assert!(!proves_mfa(&entra, &proof), "no context configured");
        entra.auth_context = Some("c1".into());
        assert!(proves_mfa(&entra, &proof));
        proof.acrs = vec!["c2".into()];
        proof.amr = vec!["mfa".into()];
        assert!(!proves_mfa(&entra, &proof), "entra ignores amr");
    }

    #[test]
    fn inputs() {
        assert_eq!(check_id(" Okta ").unwrap(), "okta");
        assert!(check_id("1x").is_err());
        assert!(check_id("a/b").is_err());
        assert!(check_issuer("https://id.example.com", false).is_ok());
        assert!(check_issuer("http://id.example.com", true).is_err());
        assert!(check_issuer("http://127.0.0.1:9/x", true).is_ok());
        assert!(check_issuer("https://x.com/?a=b", false).is_err());
        assert_eq!(
            parse_domains("Contoso.com, @fabrikam.com").unwrap(),
            vec!["contoso.com", "fabrikam.com"]
        );
        assert!(parse_domains("nodot").is_err());
        assert_eq!(check_auth_context("C1").unwrap(), "c1");
        assert!(check_auth_context("x1").is_err());
    }
}

//! Microsoft Entra ID rules that need no network: what a tenant reference may be,
//! the exact issuer of a tenant, the claims a verified ID token must still satisfy
//! (audience/azp, not-before, age, tenant), and what Entra's AADSTS error codes mean
//! for the admin who has to fix them.

use uuid::Uuid;

use super::user::Email;

/// The tenant of personal Microsoft accounts; never accepted.
pub const CONSUMER_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
/// Clock difference tolerated on `nbf`, `iat` and `exp`, in seconds.
pub const LEEWAY_SECS: i64 = 5 * 60;
/// How old (by `iat`) an ID token may be when it arrives. Sign-in transactions live
/// ten minutes, so a valid token is never older.
pub const MAX_TOKEN_AGE_SECS: i64 = 10 * 60;

/// A tenant as an admin enters it: its id (GUID) or one of its verified domains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantRef {
    Id(String),
    Domain(String),
}

/// Why a tenant reference was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTenant {
    #[error(
        "enter the Directory (tenant) ID — a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47 — or a verified domain like contoso.com"
    )]
    Malformed,
    #[error(
        "multi-tenant endpoints (common, organizations, consumers) are not allowed: enter your own tenant, so tokens can be checked against it"
    )]
    MultiTenant,
    #[error("personal Microsoft accounts (the consumer tenant) cannot be used")]
    Consumer,
}

impl TenantRef {
    pub fn parse(input: &str) -> Result<TenantRef, InvalidTenant> {
        let text = input.trim().to_ascii_lowercase();
        if matches!(text.as_str(), "common" | "organizations" | "consumers") {
            return Err(InvalidTenant::MultiTenant);
        }
        if let Ok(id) = Uuid::parse_str(&text) {
            let id = id.hyphenated().to_string();
            if id == CONSUMER_TENANT {
                return Err(InvalidTenant::Consumer);
            }
            return Ok(TenantRef::Id(id));
        }
        let valid_domain = text.len() <= 253
            && text.contains('.')
            && text.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if valid_domain {
            Ok(TenantRef::Domain(text))
        } else {
            Err(InvalidTenant::Malformed)
        }
    }

    /// The path segment used in authority URLs.
    pub fn as_path(&self) -> &str {
        match self {
            TenantRef::Id(id) | TenantRef::Domain(id) => id,
        }
    }
}

/// Whether `text` is a tenant GUID (not a domain).
pub fn is_tenant_id(text: &str) -> bool {
    Uuid::parse_str(text).is_ok()
}

/// The issuer Entra uses for `tenant_id` under `host` (no trailing slash).
pub fn issuer_for(host: &str, tenant_id: &str) -> String {
    format!("{}/{tenant_id}/v2.0", host.trim_end_matches('/'))
}

/// The tenant id in an issuer of the exact form `{host}/{guid}/v2.0`.
pub fn tenant_of_issuer(host: &str, issuer: &str) -> Option<String> {
    let rest = issuer
        .strip_prefix(host.trim_end_matches('/'))?
        .strip_prefix('/')?;
    let id = rest.strip_suffix("/v2.0")?;
    let parsed = Uuid::parse_str(id).ok()?.hyphenated().to_string();
    (parsed == id).then_some(parsed)
}

/// The claims of an ID token whose signature, issuer, audience membership, expiry,
/// issue time and nonce were already verified.
#[derive(Clone, Debug, Default)]
pub struct TokenClaims {
    pub audiences: Vec<String>,
    pub azp: Option<String>,
    pub nbf: Option<i64>,
    pub iat: i64,
    pub tid: Option<String>,
    pub oid: Option<String>,
    pub email: Option<String>,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
    /// Set for guests: the identity provider of their home directory.
    pub idp: Option<String>,
    /// When the user last entered their credentials at Microsoft (seconds).
    pub auth_time: Option<i64>,
    /// Authentication contexts the sign-in satisfied (`acrs`).
    pub acrs: Vec<String>,
}

/// What the token must match.
#[derive(Clone, Debug)]
pub struct Expected<'a> {
    pub client_id: &'a str,
    pub tenant_id: &'a str,
    pub now: i64,
}

/// Why an ID token was refused (kept in the audit trail, never shown in detail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    AudienceWithoutAzp,
    WrongAzp,
    NotYetValid,
    TooOld,
    IssuedInFuture,
    MissingTenant,
    WrongTenant,
    ConsumerTenant,
    MissingObjectId,
}

impl Rejection {
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::AudienceWithoutAzp => "extra audience without azp",
            Rejection::WrongAzp => "azp is not our client id",
            Rejection::NotYetValid => "nbf in the future",
            Rejection::TooOld => "iat too old",
            Rejection::IssuedInFuture => "iat in the future",
            Rejection::MissingTenant => "no tid claim",
            Rejection::WrongTenant => "tid is not the configured tenant",
            Rejection::ConsumerTenant => "consumer (personal account) tenant",
            Rejection::MissingObjectId => "no oid claim",
        }
    }
}

/// The Microsoft account a verified token speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoIdentity {
    /// `tid`: the directory the account lives in.
    pub tenant: String,
    /// `oid`: the account's immutable id within that directory.
    pub object_id: String,
    pub email: Option<String>,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
    /// A guest (B2B) account: it lives in another directory and was invited into this
    /// tenant. Entra marks guests with an `idp` claim naming their home directory.
    pub guest: bool,
    /// `auth_time`: when the user last entered their credentials at Microsoft.
    pub auth_time: Option<i64>,
    /// The provider vouches that the account owns `email` (always for Entra, whose
    /// tokens come from the realm's own tenant; `email_verified = true` for `oidc`).
    pub email_verified: bool,
    /// How the user authenticated (`amr`, `acr`, `acrs`), for `require_mfa`.
    pub proof: crate::domain::sso::provider::AuthProof,
}

impl SsoIdentity {
    /// The address used to match invitations and for new users: `email`, else
    /// `preferred_username` when it looks like an address. Both come from the
    /// directory of the configured tenant only; never used to link across tenants.
    pub fn login_email(&self) -> Option<Email> {
        self.email
            .as_deref()
            .and_then(|e| Email::parse(e).ok())
            .or_else(|| {
                self.preferred_username
                    .as_deref()
                    .and_then(|u| Email::parse(u).ok())
            })
    }

    /// A display name for new users.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_default()
    }
}

/// Checks what the generic OpenID verification does not: azp with several audiences,
/// `nbf`, token age, and that the token comes from exactly the expected tenant.
pub fn check_claims(claims: &TokenClaims, expected: &Expected) -> Result<SsoIdentity, Rejection> {
    if let Some(azp) = &claims.azp
        && azp != expected.client_id
    {
        return Err(Rejection::WrongAzp);
    }
    if claims.audiences.len() > 1 && claims.azp.is_none() {
        return Err(Rejection::AudienceWithoutAzp);
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf > expected.now + LEEWAY_SECS)
    {
        return Err(Rejection::NotYetValid);
    }
    if claims.iat > expected.now + LEEWAY_SECS {
        return Err(Rejection::IssuedInFuture);
    }
    if claims.iat < expected.now - MAX_TOKEN_AGE_SECS - LEEWAY_SECS {
        return Err(Rejection::TooOld);
    }
    let tid = claims
        .tid
        .as_deref()
        .ok_or(Rejection::MissingTenant)?
        .to_ascii_lowercase();
    if tid == CONSUMER_TENANT {
        return Err(Rejection::ConsumerTenant);
    }
    if tid != expected.tenant_id.to_ascii_lowercase() {
        return Err(Rejection::WrongTenant);
    }
    let oid = claims
        .oid
        .clone()
        .filter(|o| !o.is_empty())
        .ok_or(Rejection::MissingObjectId)?;
    let guest = claims
        .idp
        .as_deref()
        .is_some_and(|idp| !idp.to_ascii_lowercase().contains(&tid));
    Ok(SsoIdentity {
        tenant: tid,
        object_id: oid,
        email: claims.email.clone(),
        preferred_username: claims.preferred_username.clone(),
        name: claims.name.clone(),
        guest,
        auth_time: claims.auth_time,
        email_verified: true,
        proof: crate::domain::sso::provider::AuthProof {
            acrs: claims.acrs.clone(),
            ..Default::default()
        },
    })
}

/// Whether a sign-in that asked Microsoft for a fresh authentication (`prompt=login`,
/// `max_age=0`) got one: `auth_time` is present and not before the sign-in started
/// (`started`, allowing [`LEEWAY_SECS`] of clock difference). A provider that ignored
/// the request and answered from an older session fails this.
pub fn authenticated_since(auth_time: Option<i64>, started: i64) -> bool {
    auth_time.is_some_and(|at| at >= started - LEEWAY_SECS)
}

/// The AADSTS number at the start of an Entra `error_description`, if any.
pub fn aadsts_code(description: &str) -> Option<u32> {
    let digits: String = description
        .trim_start()
        .strip_prefix("AADSTS")?
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// What an Entra error code means for the admin, in plain words.
pub fn explain_aadsts(code: u32) -> Option<&'static str> {
    Some(match code {
        90002 => {
            "Microsoft does not know this tenant. Check the Directory (tenant) ID on the app registration's Overview page."
        }
        700016 => {
            "The application (client) ID was not found in this tenant. Check the Application (client) ID, and that the app is registered in this tenant."
        }
        7000215 => {
            "The client secret is wrong. Copy the secret's Value (not its Secret ID) from Certificates & secrets, or create a new one."
        }
        7000222 => {
            "The client secret has expired. Create a new secret under Certificates & secrets and enter it here."
        }
        50011 | 500112 | 500113 => {
            "The redirect URI does not match. Add the redirect URI shown on this page to the app registration (platform: Web)."
        }
        65001 => {
            "Consent is missing. Grant admin consent for the requested permissions (openid, profile, email)."
        }
        50020 => "This account is not in the tenant (a guest or personal account).",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn good() -> TokenClaims {
        TokenClaims {
            audiences: vec!["client".into()],
            azp: None,
            nbf: Some(1_000),
            iat: 1_000,
            tid: Some(TENANT.into()),
            oid: Some("oid-1".into()),
            email: Some("Ann@Contoso.com".into()),
            preferred_username: Some("ann@contoso.com".into()),
            name: Some("Ann".into()),
            idp: None,
            auth_time: Some(990),
            acrs: Vec::new(),
        }
    }

    #[test]
    fn a_fresh_authentication_is_one_since_the_sign_in_started() {
        assert!(authenticated_since(Some(1_000), 1_000));
        assert!(authenticated_since(Some(1_000 - LEEWAY_SECS), 1_000));
        assert!(!authenticated_since(Some(1_000 - LEEWAY_SECS - 1), 1_000));
        assert!(!authenticated_since(None, 1_000));
        assert_eq!(
            check_claims(&good(), &expected(1_010)).unwrap().auth_time,
            Some(990)
        );
    }

    #[test]
    fn guests_are_recognised_by_idp() {
        let mut claims = good();
        assert!(!check_claims(&claims, &expected(1_010)).unwrap().guest);
        claims.idp = Some("https://sts.windows.net/00000000-0000-0000-0000-0000000000aa/".into());
        assert!(check_claims(&claims, &expected(1_010)).unwrap().guest);
        claims.idp = Some("live.com".into());
        assert!(check_claims(&claims, &expected(1_010)).unwrap().guest);
    }

    fn expected(now: i64) -> Expected<'static> {
        Expected {
            client_id: "client",
            tenant_id: TENANT,
            now,
        }
    }

    #[test]
    fn tenant_references() {
        assert_eq!(
            TenantRef::parse(" 72F988BF-86F1-41AF-91AB-2D7CD011DB47 "),
            Ok(TenantRef::Id(TENANT.into()))
        );
        assert_eq!(
            TenantRef::parse("Contoso.com"),
            Ok(TenantRef::Domain("contoso.com".into()))
        );
        for multi in ["common", "organizations", "consumers", "COMMON"] {
            assert_eq!(TenantRef::parse(multi), Err(InvalidTenant::MultiTenant));
        }
        assert_eq!(
            TenantRef::parse(CONSUMER_TENANT),
            Err(InvalidTenant::Consumer)
        );
        for bad in [
            "",
            "contoso",
            "contoso..com",
            "-x.com",
            "a/b.com",
            "https://contoso.com",
        ] {
            assert_eq!(
                TenantRef::parse(bad),
                Err(InvalidTenant::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn issuers_are_exact() {
        let host = "https://login.microsoftonline.com";
        assert_eq!(issuer_for(host, TENANT), format!("{host}/{TENANT}/v2.0"));
        assert_eq!(
            tenant_of_issuer(host, &issuer_for(host, TENANT)).as_deref(),
            Some(TENANT)
        );
        assert_eq!(
            tenant_of_issuer(host, &format!("{host}/{TENANT}/v2.01")),
            None
        );
        assert_eq!(
            tenant_of_issuer(host, &format!("https://evil.example/{TENANT}/v2.0")),
            None
        );
        assert_eq!(
            tenant_of_issuer(host, &format!("{host}/contoso.com/v2.0")),
            None
        );
        assert_eq!(
            tenant_of_issuer(host, &format!("{host}/{}/v2.0", TENANT.to_uppercase())),
            None
        );
    }

    #[test]
    fn a_good_token_yields_the_identity() {
        let id = check_claims(&good(), &expected(1_010)).unwrap();
        assert_eq!(id.tenant, TENANT);
        assert_eq!(id.object_id, "oid-1");
        assert_eq!(id.login_email().unwrap().as_str(), "ann@contoso.com");
    }

    type Change = Box<dyn Fn(&mut TokenClaims)>;

    #[test]
    fn each_rule_refuses() {
        let cases: Vec<(Change, Rejection)> = vec![
            (
                Box::new(|c| c.audiences.push("other".into())),
                Rejection::AudienceWithoutAzp,
            ),
            (
                Box::new(|c| c.azp = Some("other".into())),
                Rejection::WrongAzp,
            ),
            (
                Box::new(|c| c.nbf = Some(1_000 + 3_600)),
                Rejection::NotYetValid,
            ),
            (Box::new(|c| c.iat = 1_000 - 86_400), Rejection::TooOld),
            (
                Box::new(|c| c.iat = 1_000 + 3_600),
                Rejection::IssuedInFuture,
            ),
            (Box::new(|c| c.tid = None), Rejection::MissingTenant),
            (
                Box::new(|c| c.tid = Some("00000000-0000-0000-0000-000000000001".into())),
                Rejection::WrongTenant,
            ),
            (
                Box::new(|c| c.tid = Some(CONSUMER_TENANT.into())),
                Rejection::ConsumerTenant,
            ),
            (Box::new(|c| c.oid = None), Rejection::MissingObjectId),
        ];
        for (change, rejection) in cases {
            let mut claims = good();
            change(&mut claims);
            assert_eq!(check_claims(&claims, &expected(1_010)), Err(rejection));
        }
        let mut with_azp = good();
        with_azp.audiences.push("other".into());
        with_azp.azp = Some("client".into());
        assert!(
            check_claims(&with_azp, &expected(1_010)).is_ok(),
            "extra audience with azp = us"
        );
    }

    #[test]
    fn small_clock_differences_are_tolerated() {
        let mut claims = good();
        claims.nbf = Some(1_000 + 200);
        claims.iat = 1_000 + 200;
        assert!(check_claims(&claims, &expected(1_000)).is_ok());
    }

    #[test]
    fn aadsts_codes_are_read_and_explained() {
        assert_eq!(
            aadsts_code("AADSTS7000215: Invalid client secret provided."),
            Some(7_000_215)
        );
        assert_eq!(aadsts_code("nothing"), None);
        for code in [90002, 700016, 7000215, 7000222] {
            assert!(explain_aadsts(code).is_some());
        }
    }
}

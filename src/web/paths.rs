//! Every URL path, used both to register routes and to build links, so the two never
//! drift apart. Realm pages exist twice: at the root for staff and under `/p/{slug}`
//! for a client's portal; [`RealmPaths`] builds links for either.

pub const HOME: &str = "/";
pub const HEALTHZ: &str = "/healthz";
pub const ASSETS: &str = "/assets/{file:.*}";
pub const SETUP: &str = "/setup/{token}";

pub const LOGIN: &str = "/login";
pub const LOGIN_MFA: &str = "/login/mfa";
/// "Forgot password?": asks for a reset link by email.
pub const LOGIN_FORGOT: &str = "/login/forgot";
/// A password reset link.
pub const RESET: &str = "/reset/{token}";
pub const MFA_SETUP: &str = "/mfa/setup";
pub const INVITE: &str = "/invite/{token}";
pub const LOGOUT: &str = "/logout";
pub const ACCOUNT: &str = "/account";
pub const ACCOUNT_PASSWORD: &str = "/account/password";
pub const ACCOUNT_RECOVERY_CODES: &str = "/account/recovery-codes";
pub const ACCOUNT_SESSIONS_REVOKE: &str = "/account/sessions/revoke";
pub const ACCOUNT_PASSKEYS: &str = "/account/passkeys";
pub const ACCOUNT_PASSKEYS_REMOVE: &str = "/account/passkeys/remove";
/// The second step answered with a passkey.
pub const LOGIN_MFA_PASSKEY: &str = "/login/mfa/passkey";
/// Signing in with a passkey alone.
pub const LOGIN_PASSKEY: &str = "/login/passkey";
/// A passkey instead of an authenticator app at the first sign-in.
pub const MFA_SETUP_PASSKEY: &str = "/mfa/setup/passkey";

/// Where portal pages live; the realm pages above are mounted under it too.
pub const PORTAL_SCOPE: &str = "/p/{slug}";
pub const PORTAL_BRAND_CSS: &str = "/brand.css";
pub const PORTAL_LOGO: &str = "/logo";
/// The staff pages' organisation logo (the portal's is `/p/{slug}/logo`).
pub const STAFF_LOGO: &str = "/logo";
pub const ADMIN_BRANDING: &str = "/admin/branding";
pub const ADMIN_BRANDING_LOGO: &str = "/admin/branding/logo";
pub const SSO_CONSENT: &str = "/sso/consent";
pub const FORWARD_AUTH: &str = "/api/authz/forward-auth";
pub const AUTH_REQUEST: &str = "/api/authz/auth-request";

pub const ADMIN: &str = "/admin";
pub const ADMIN_USERS: &str = "/admin/users";
pub const ADMIN_USER: &str = "/admin/users/{id}";
pub const ADMIN_USER_ACTION: &str = "/admin/users/{id}/{action}";
pub const ADMIN_AUDIT: &str = "/admin/audit";
/// Email: the mail server, the outbox, "Send test email".
pub const ADMIN_EMAIL: &str = "/admin/email";
pub const ADMIN_EMAIL_TEST: &str = "/admin/email/test";
pub const ADMIN_SESSIONS_REVOKE: &str = "/admin/sessions/revoke-all";
pub const ADMIN_CLIENTS: &str = "/admin/clients";
pub const ADMIN_CLIENT: &str = "/admin/clients/{client}";
pub const ADMIN_CLIENT_ACTION: &str = "/admin/clients/{client}/do/{action}";
pub const ADMIN_CLIENT_LOGO: &str = "/admin/clients/{client}/logo";
pub const ADMIN_CLIENT_USERS: &str = "/admin/clients/{client}/users";
pub const ADMIN_CLIENT_USER: &str = "/admin/clients/{client}/users/{id}";
pub const ADMIN_CLIENT_USER_ACTION: &str = "/admin/clients/{client}/users/{id}/{action}";
pub const ADMIN_PORTAL: &str = "/admin/portal";
pub const ADMIN_SSO: &str = "/admin/sso";
pub const ADMIN_SSO_ENABLE: &str = "/admin/sso/enable";
pub const ADMIN_SSO_DISABLE: &str = "/admin/sso/disable";
pub const ADMIN_SSO_TEST: &str = "/admin/sso/test";
pub const ADMIN_SSO_TEST_SIGN_IN: &str = "/admin/sso/test-sign-in";
pub const ADMIN_SSO_ONLY: &str = "/admin/sso/sso-only";
pub const ADMIN_SSO_PROVIDERS: &str = "/admin/sso/providers";
pub const ADMIN_SSO_PROVIDER_ACTION: &str = "/admin/sso/providers/{provider}/{action}";
/// A realm's switches outside its providers: `…/email-first`, `…/portal-discovery`
/// (clients only); field `state` (`on` | `off`).
pub const ADMIN_SSO_SIGN_IN_OPTIONS: &str = "/admin/sso/sign-in-options";
pub const ADMIN_SSO_SIGN_IN_OPTION: &str = "/admin/sso/sign-in-options/{switch}";
pub const ADMIN_CLIENT_SIGN_IN_OPTION: &str = "/admin/clients/{client}/sign-in-options/{switch}";
pub const ADMIN_CLIENT_PROVIDERS: &str = "/admin/clients/{client}/providers";
pub const ADMIN_CLIENT_PROVIDER_ACTION: &str =
    "/admin/clients/{client}/providers/{provider}/{action}";
/// Staff "Sign in with a passkey" switch; field `state` (`on` or `off`).
pub const ADMIN_PASSKEY_SIGN_IN: &str = "/admin/passkey-sign-in";
/// Step-up before admin changes: password + code, or a fresh Microsoft sign-in.
pub const ADMIN_CONFIRM: &str = "/admin/confirm";
pub const ADMIN_CONFIRM_MICROSOFT: &str = "/admin/confirm/microsoft";

pub const LOGIN_SSO: &str = "/login/sso";
pub const LOGIN_IDENTIFY: &str = "/login/identify";
pub const LOGIN_SSO_PROVIDER: &str = "/login/sso/{provider}";
pub const SSO_CALLBACK: &str = "/sso/callback";
pub const ACCOUNT_SSO_LINK: &str = "/account/sso/link";
pub const ACCOUNT_SSO_UNLINK: &str = "/account/sso/unlink";

/// Links to the pages of one realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealmPaths {
    /// `""` for staff, `/p/{slug}` for a client portal.
    prefix: String,
}

impl RealmPaths {
    pub fn staff() -> RealmPaths {
        RealmPaths {
            prefix: String::new(),
        }
    }

    pub fn portal(slug: &str) -> RealmPaths {
        RealmPaths {
            prefix: format!("/p/{slug}"),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn join(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    pub fn login(&self) -> String {
        self.join(LOGIN)
    }

    /// The login page that returns to `next` afterwards.
    pub fn login_then(&self, next: &str) -> String {
        let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        format!("{}?next={encoded}", self.login())
    }

    pub fn login_mfa(&self) -> String {
        self.join(LOGIN_MFA)
    }

    pub fn mfa_setup(&self) -> String {
        self.join(MFA_SETUP)
    }

    pub fn logout(&self) -> String {
        self.join(LOGOUT)
    }

    pub fn account(&self) -> String {
        self.join(ACCOUNT)
    }

    pub fn account_password(&self) -> String {
        self.join(ACCOUNT_PASSWORD)
    }

    pub fn account_recovery_codes(&self) -> String {
        self.join(ACCOUNT_RECOVERY_CODES)
    }

    pub fn account_sessions_revoke(&self) -> String {
        self.join(ACCOUNT_SESSIONS_REVOKE)
    }

    pub fn login_sso(&self) -> String {
        self.join(LOGIN_SSO)
    }

    pub fn login_identify(&self) -> String {
        self.join(LOGIN_IDENTIFY)
    }

    /// `/login/sso/{provider}` of this realm.
    pub fn login_sso_provider(&self, provider: &str) -> String {
        self.join(&format!("{LOGIN_SSO}/{provider}"))
    }

    pub fn account_sso_link(&self) -> String {
        self.join(ACCOUNT_SSO_LINK)
    }

    pub fn account_sso_unlink(&self) -> String {
        self.join(ACCOUNT_SSO_UNLINK)
    }

    pub fn account_passkeys(&self) -> String {
        self.join(ACCOUNT_PASSKEYS)
    }

    pub fn account_passkeys_remove(&self) -> String {
        self.join(ACCOUNT_PASSKEYS_REMOVE)
    }

    pub fn login_mfa_passkey(&self) -> String {
        self.join(LOGIN_MFA_PASSKEY)
    }

    pub fn login_passkey(&self) -> String {
        self.join(LOGIN_PASSKEY)
    }

    pub fn mfa_setup_passkey(&self) -> String {
        self.join(MFA_SETUP_PASSKEY)
    }

    pub fn invite(&self, token: &str) -> String {
        self.join(&format!("/invite/{token}"))
    }

    pub fn login_forgot(&self) -> String {
        self.join(LOGIN_FORGOT)
    }

    pub fn reset(&self, token: &str) -> String {
        self.join(&format!("/reset/{token}"))
    }
}

pub fn setup(token: &str) -> String {
    format!("/setup/{token}")
}

/// Provisioning (SCIM tokens, leavers sweep) of the staff realm.
pub const ADMIN_PROVISIONING: &str = "/admin/provisioning";
pub const ADMIN_PROVISIONING_TOKENS: &str = "/admin/provisioning/tokens";
pub const ADMIN_PROVISIONING_REVOKE: &str = "/admin/provisioning/tokens/{id}/revoke";
pub const ADMIN_PROVISIONING_SWEEP: &str = "/admin/provisioning/sweep";
/// The same for a client's portal.
pub const ADMIN_CLIENT_PROVISIONING: &str = "/admin/clients/{client}/provisioning";
pub const ADMIN_CLIENT_PROVISIONING_TOKENS: &str = "/admin/clients/{client}/provisioning/tokens";
pub const ADMIN_CLIENT_PROVISIONING_REVOKE: &str =
    "/admin/clients/{client}/provisioning/tokens/{id}/revoke";
pub const ADMIN_CLIENT_PROVISIONING_SWEEP: &str = "/admin/clients/{client}/provisioning/sweep";

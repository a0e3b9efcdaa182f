//! The sign-in rules of a realm, read from the store: whether password users must
//! use TOTP, and whether passwords are allowed at all (SSO-only). The rules themselves
//! are [`RealmPolicy`] in the domain; this module only reads them. Every password path
//! asks [`RealmPolicy::password_allowed`]; nothing relies on a page hiding a form.

use serde::{Deserialize, Serialize};

use crate::domain::login::RealmPolicy;
use crate::domain::user::{Realm, User};
use crate::store::codec::Record;
use crate::store::prelude::*;
use crate::store::settings::Setting;

/// Staff-wide sign-in switches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffLogin {
    /// Only Microsoft sign-in is allowed (break-glass accounts excepted).
    #[serde(default)]
    pub sso_only: bool,
    /// "Sign in with a passkey" (no password) is offered to staff.
    #[serde(default)]
    pub passkey_sign_in: bool,
}

impl Record for StaffLogin {
    const KIND: &'static str = "staff sign-in settings";
}

impl Setting for StaffLogin {
    const NAME: &'static str = "staff-login";
}

/// Reads the policy of `realm`.
pub fn realm_policy(r: &impl Tables, realm: Realm) -> crate::store::Result<RealmPolicy> {
    match realm {
        Realm::Staff => {
            let staff: StaffLogin = r.setting()?;
            Ok(RealmPolicy {
                mfa_required: true,
                sso_only: staff.sso_only,
                password_login: true,
            })
        }
        Realm::Client(id) => Ok(match r.client(id)? {
            Some(client) if client.enabled => RealmPolicy {
                mfa_required: client.mfa_required,
                sso_only: client.sso_only,
                password_login: client.password_login,
            },
            // A disabled or removed client: nobody signs in there.
            _ => RealmPolicy {
                mfa_required: true,
                sso_only: true,
                password_login: false,
            },
        }),
    }
}

impl crate::service::Services {
    /// Whether `user` may use password paths under their realm's current policy.
    pub fn password_allowed(&self, user: &User) -> crate::service::Result<bool> {
        let policy = self.store.read(|r| realm_policy(r, user.realm))?;
        Ok(policy.password_allowed(user))
    }
}

/// What the sign-in page of a realm offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginOptions {
    /// Some identity provider is available.
    pub sso: bool,
    /// One button per enabled provider, in the realm's order.
    pub buttons: Vec<crate::domain::sso::provider::ProviderButton>,
    /// `/login` asks for the email first.
    pub email_first: bool,
    /// SSO-only is on: the password form is shown only as emergency access.
    pub sso_only: bool,
    /// "Sign in with a passkey" is offered (the realm's switch, and not SSO-only).
    pub passkey_sign_in: bool,
}

impl crate::service::Services {
    /// What `realm`'s sign-in page shows. The page only mirrors the rules; the server
    /// enforces them on every path regardless.
    pub fn login_options(&self, realm: Realm) -> crate::service::Result<LoginOptions> {
        let policy = self.store.read(|r| realm_policy(r, realm))?;
        let buttons = self.login_buttons(realm)?;
        let email_first = self
            .store
            .read(|r| {
                use crate::store::prelude::ProviderReads;
                r.providers(realm)
            })?
            .email_first;
        Ok(LoginOptions {
            email_first,
            sso: !buttons.is_empty(),
            buttons,
            sso_only: policy.sso_only || !policy.password_login,
            passkey_sign_in: self.store.read(|r| passkey_sign_in(r, realm))?
                && !policy.sso_only
                && policy.password_login,
        })
    }
}

/// Whether `realm`'s switch for signing in with a passkey alone is on (off by default
/// for staff and for every client). SSO-only still refuses passkeys.
pub fn passkey_sign_in(r: &impl Tables, realm: Realm) -> crate::store::Result<bool> {
    Ok(match realm {
        Realm::Staff => r.setting::<StaffLogin>()?.passkey_sign_in,
        Realm::Client(id) => r
            .client(id)?
            .is_some_and(|c| c.enabled && c.passkey_sign_in),
    })
}

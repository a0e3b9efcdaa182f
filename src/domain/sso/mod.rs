//! A Microsoft sign-in in progress: what it is for and what its callback must match.
//! Stored server-side under the `state` parameter, bound to the browser that started
//! it, used once, and valid for ten minutes. Who the verified account is here is
//! decided by [`resolve`](resolve::resolve).

pub mod provider;
pub mod resolve;

pub use resolve::{Admission, Known, Presented, Refused, Resolution, resolve};

use serde::{Deserialize, Serialize};

use super::user::{ClientId, Sealed, UserId};

/// How long a sign-in may take between leaving for Microsoft and coming back.
pub const TRANSACTION_LIFETIME_SECS: i64 = 10 * 60;
/// Longer `state` values are refused without a lookup.
pub const STATE_PARAMETER_MAX: usize = 128;

/// What the sign-in is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "for")]
pub enum SsoPurpose {
    /// Sign in, then go to `next` (already checked to be safe).
    Login { next: Option<String> },
    /// Link the Microsoft account to this signed-in user.
    Link { user_id: UserId },
    /// An admin checks the setup; the claims are shown and no session is made.
    TestSignIn { admin_id: UserId },
    /// A signed-in staff admin proves who they are again before admin changes
    /// (`prompt=login`, `max_age=0`): the account must be linked to `user_id`, and
    /// the step-up is recorded on `session` (hex of its stored key). Then `next`.
    StepUp {
        user_id: UserId,
        session: String,
        next: String,
    },
}

/// Which app registration the sign-in uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SsoApp {
    /// The business's single-tenant staff app.
    Staff,
    /// The business's multi-tenant portal app, in a client's tenant.
    Portal(ClientId),
}

/// The server-side half of a sign-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoTransaction {
    pub purpose: SsoPurpose,
    pub app: SsoApp,
    /// Keyed hash (hex) of the value in the browser's binding cookie.
    pub binding: String,
    /// The nonce and PKCE verifier, sealed together.
    pub secrets: Sealed,
    /// The tenant the ID token must come from (for an `oidc` provider: its issuer).
    pub tenant_id: String,
    /// The `oidc` provider of the realm this sign-in runs through; `None` for the
    /// realm's Entra settings.
    #[serde(default)]
    pub provider: Option<String>,
}

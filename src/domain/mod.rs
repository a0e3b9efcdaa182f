//! Pure rules: sign-in, SSO identity resolution, passwords, TOTP, tokens, sessions,
//! throttling, redirects, audit events, free text made safe to record.
//! No actix, no redb, no tokio in here; everything is testable with plain values.

pub mod audit;
pub mod audit_filter;
pub mod branding;
pub mod client;
pub mod colour;
pub mod entra;
pub mod login;
pub mod passkey;
pub mod password;
pub mod password_strength;
pub mod provisioning;
pub mod redirect;
pub mod scim;
pub mod session;
pub mod sso;
pub mod text;
pub mod throttle;
pub mod time;
pub mod token;
pub mod totp;
pub mod user;

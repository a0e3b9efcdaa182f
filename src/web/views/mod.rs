//! HTML views: pure functions from view-models to markup. No store access, no
//! services; handlers build the view-models.

pub mod account;
pub mod admin;
pub mod admin_email;
pub mod admin_users;
pub mod branding;
pub mod clients;
pub mod components;
pub mod confirm;
pub mod errors;
pub mod forgot;
pub mod layout;
pub mod login;
pub mod onboarding;
pub mod passkeys;
pub mod providers;
pub mod provisioning;
pub mod sign_in_options;
pub mod sso;
pub mod step_up;

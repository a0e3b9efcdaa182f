//! Integration tests: one binary, modules by feature, each test with its own app and
//! store (see `common`).

// Test and benchmark code may unwrap, expect and panic: a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod abuse;
mod account;
mod admin_confirm;
mod admin_console;
mod admin_cookie;
mod admin_step_up;
mod architecture;
mod bad_input;
mod cli;
mod fake_entra_selftest;
mod forward_auth;
mod forward_auth_caddy;
mod forward_auth_nginx;
mod forward_auth_proxy;
mod log_injection;
mod login_flow;
mod ops_backup;
mod ops_crash;
mod ops_disk;
mod ops_doctor;
mod ops_metrics;
mod passkeys;
mod persistence;
mod portal_admin;
mod portal_cli;
mod portal_consent;
mod portal_isolation;
mod portal_logo;
mod portal_policy;
mod safe_defaults;
mod sessions;
mod sessions_revoke_all;
mod sso_admin;
mod sso_cli;
mod sso_flow;
mod sso_guests;
mod sso_hostile;
mod sso_only;
mod sso_only_writes;
mod throttle_bursts;
mod weak_passwords;
mod web_security;

//! Integration tests: one binary, modules by feature, each test with its own app and
//! store (see `common`).

// Test and benchmark code may unwrap, expect and panic: a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod abuse;
mod account;
mod account_activity;
mod admin_confirm;
mod admin_confirmations;
mod admin_console;
mod admin_cookie;
mod admin_step_up;
mod architecture;
mod audit_filters;
mod bad_input;
mod cli;
mod colour_contrast;
mod email_invites;
mod email_notices;
mod email_refusals;
mod email_reset;
mod fake_entra_selftest;
mod forward_auth;
mod forward_auth_caddy;
mod forward_auth_nginx;
mod forward_auth_proxy;
mod graph_sweep;
mod idp_admin;
mod idp_conformance;
mod idp_email_first;
mod idp_identities;
mod idp_migration;
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
mod portal_identity;
mod portal_isolation;
mod portal_logo;
mod portal_policy;
mod post_redirect_get;
mod provisioning_admin;
mod safe_defaults;
mod scim_effects;
mod scim_groups;
mod scim_isolation;
mod scim_users;
mod sessions;
mod sessions_revoke_all;
mod sign_in_pages;
mod sso_admin;
mod sso_cli;
mod sso_flow;
mod sso_guests;
mod sso_hostile;
mod sso_only;
mod sso_only_writes;
mod staff_branding;
mod staff_branding_cli;
mod store_fixture_v1;
mod store_migration;
mod throttle_bursts;
mod user_removal;
mod user_removal_cli;
mod weak_passwords;
mod web_security;

//! Integration tests: one binary, modules by feature, each test with its own app and
//! store (see `common`).

mod common;

mod abuse;
mod account;
mod admin_console;
mod bad_input;
mod cli;
mod login_flow;
mod ops_backup;
mod ops_crash;
mod ops_disk;
mod ops_doctor;
mod ops_metrics;
mod persistence;
mod sessions;
mod web_security;

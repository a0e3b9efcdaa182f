//! Gatehouse: a self-hosted, single-binary login appliance.
//!
//! Calls go one way. The front doors — `web` (HTTP), `admin_api` (the admin requests
//! and the admin socket's server side) and `cli` with `ops` (the command line and its
//! operating procedures) — call `service` (the use cases on `Services`), which uses
//! `domain` (pure rules) and `store` (redb). `app` assembles a running server from
//! them. `keys` holds the master key and what derives from it, `config` the validated
//! configuration, `metrics` the Prometheus registry.
//!
//! No import loops between files, `admin_api` never uses `ops`, `service` never a
//! front door, `domain` nothing above it: `tests/architecture/` checks these.

pub(crate) mod admin_api;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod keys;
pub(crate) mod metrics;
pub(crate) mod ops;
pub mod service;
pub mod store;
pub mod web;

//! Gatehouse: a self-hosted, single-binary login appliance.
//!
//! Layers, in the only direction calls go: `web` (HTTP) → `service` (one function per
//! user action) → `domain` (pure rules) and `store` (redb). `keys` holds the master key
//! and what derives from it; `config` the validated configuration; `cli` and
//! `admin_api` the command line and its socket to a running server.

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

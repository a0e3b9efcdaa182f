//! Operating Gatehouse: backups and restores, the `doctor` checks, the status a
//! running server reports over its admin socket, and the container health check.
//! These are CLI-level procedures over files and the store; they hold no business
//! rules (those stay in `service`).

pub mod backup;
pub mod doctor;
pub mod files;
pub mod healthcheck;
pub mod restore;
pub mod sso_checks;
pub mod status;

//! Operating Gatehouse from the command line: backups and restores, the `doctor`
//! checks and the container health check. These are CLI-side procedures over files
//! and the store; they talk to a running server only as a client of its admin socket
//! (`admin_api::socket::send`), hold no business rules (those stay in `service`) and
//! no server code (the socket's answers live in `admin_api`), so the server never
//! depends on this module.

pub mod backup;
pub mod doctor;
pub mod files;
pub mod healthcheck;
pub mod restore;
pub mod store_location;

//! The admin socket: a Unix socket in the data directory (mode 0600, inside the
//! 0700 data directory) on which a running server accepts one JSON request per
//! connection and answers with one JSON line. Only the server's own user (or root)
//! may talk to it.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

use super::{AdminRequest, AdminResponse, execute};
use crate::service::Services;

/// Longest request line accepted.
const REQUEST_LIMIT: u64 = 1024 * 1024;

/// A bound admin socket, not yet serving.
pub struct Bound {
    listener: UnixListener,
    /// The socket file's owner: the user the server runs as.
    owner: u32,
}

/// Binds the socket (replacing a stale one), mode 0600. Done before the server says it
/// is serving, so a CLI command started right after always finds the socket.
pub fn bind(path: &Path) -> std::io::Result<Bound> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    let owner = std::fs::metadata(path)?.uid();
    Ok(Bound { listener, owner })
}

/// Serves requests on the bound socket until the task ends.
pub async fn serve(bound: Bound, services: Arc<Services>) -> std::io::Result<()> {
    let Bound { listener, owner } = bound;
    loop {
        let (stream, _) = listener.accept().await?;
        let services = Arc::clone(&services);
        tokio::spawn(async move {
            if let Err(e) = handle(stream, services, owner).await {
                tracing::warn!(error = %e, "admin socket connection failed");
            }
        });
    }
}

async fn handle(stream: UnixStream, services: Arc<Services>, owner: u32) -> std::io::Result<()> {
    let peer = stream.peer_cred()?.uid();
    let (read, mut write) = stream.into_split();
    let response = if peer != owner && peer != 0 {
        tracing::warn!(
            uid = peer,
            "admin socket: refused a connection from another user"
        );
        AdminResponse::error("permission denied: run the command as the user that runs gatehouse")
    } else {
        let mut line = String::new();
        tokio::io::BufReader::new(read.take(REQUEST_LIMIT))
            .read_line(&mut line)
            .await?;
        match serde_json::from_str::<AdminRequest>(&line) {
            Ok(request) => execute::execute(&services, request).await,
            Err(_) => AdminResponse::error(
                "the request was not understood (is the CLI the same version as the server?)",
            ),
        }
    };
    let mut out = serde_json::to_vec(&response).unwrap_or_default();
    out.push(b'\n');
    write.write_all(&out).await?;
    write.shutdown().await
}

/// Sends `request` to a running server. `Ok(None)` when no server listens there.
pub fn send(path: &Path, request: &AdminRequest) -> std::io::Result<Option<AdminResponse>> {
    let mut stream = match std::os::unix::net::UnixStream::connect(path) {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut line = serde_json::to_vec(request).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer)?;
    serde_json::from_str(&answer)
        .map(Some)
        .map_err(|_| std::io::Error::other("the server's answer was not understood"))
}

//! HTTP servers inside the benchmark process: Gatehouse's real route table over a
//! seeded store (as `gatehouse serve` builds it), and the bare actix-web handler that is
//! forward-auth's physical limit. Each runs on its own actix system and thread, with
//! actix's default worker count, so both sides get the same server set-up.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use actix_web::dev::{Server, ServerHandle};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{App, HttpResponse, HttpServer, web};

use gatehouse::config::Config;
use gatehouse::service::Services;
use gatehouse::web::AppState;

use crate::common::Install;

/// A server running on its own thread.
pub struct Running {
    pub addr: SocketAddr,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    /// Stops the server and waits for its thread (and whatever it owned) to end.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        if let Some(thread) = self.thread.take() {
            actix_web::rt::System::new().block_on(self.handle.stop(false));
            let _ = thread.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.halt();
    }
}

/// A free port on loopback (released before use; the race is harmless here).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The configuration `gatehouse serve` would read for `install` on `port`.
pub fn config(install: &Install, port: u16) -> Config {
    let text = config_toml(install, port);
    Config::from_table(text.parse().expect("bench TOML")).expect("bench config")
}

/// The `gatehouse.toml` of `install` on `port`.
pub fn config_toml(install: &Install, port: u16) -> String {
    format!(
        "listen = '127.0.0.1:{port}'\npublic_url = 'http://127.0.0.1:{port}'\ndata_dir = '{}'\ntrusted_proxies = ['127.0.0.1']\n",
        install.dir.display()
    )
}

/// Gatehouse over `install`, opened as `gatehouse serve` opens it.
pub fn gatehouse(install: &Install) -> (Running, Arc<Services>) {
    let port = free_port();
    let config = Arc::new(config(install, port));
    let services = gatehouse::app::open_services(&config)
        .unwrap_or_else(|_| panic!("open the store in {}", install.dir.display()));
    let state = web::Data::new(AppState::new(Arc::clone(&services), Arc::clone(&config)));
    let running = run(config.listen, move |addr| {
        Ok(HttpServer::new(move || gatehouse::web::app(state.clone()))
            .disable_signals()
            .shutdown_timeout(1)
            .bind(addr)?
            .run())
    });
    (running, services)
}

/// The bare handler: answers with exactly `headers` (the header set of a real
/// allowed forward-auth answer, identity and security headers alike) without looking
/// anything up.
pub fn bare(headers: Vec<(String, Vec<u8>)>) -> Running {
    let headers: Vec<(HeaderName, HeaderValue)> = headers
        .into_iter()
        .filter_map(|(name, value)| {
            Some((
                HeaderName::from_bytes(name.as_bytes()).ok()?,
                HeaderValue::from_bytes(&value).ok()?,
            ))
        })
        .collect();
    let headers = web::Data::new(headers);
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    run(addr, move |addr| {
        Ok(HttpServer::new(move || {
            App::new()
                .app_data(headers.clone())
                .route(gatehouse::web::paths::AUTH_REQUEST, web::get().to(allow))
        })
        .disable_signals()
        .shutdown_timeout(1)
        .bind(addr)?
        .run())
    })
}

async fn allow(headers: web::Data<Vec<(HeaderName, HeaderValue)>>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    for (name, value) in headers.iter() {
        response.insert_header((name.clone(), value.clone()));
    }
    response.finish()
}

/// Runs the server `make` builds (inside its own actix system) on a new thread.
fn run(
    addr: SocketAddr,
    make: impl FnOnce(SocketAddr) -> std::io::Result<Server> + Send + 'static,
) -> Running {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = make(addr).expect("start a bench server");
            let _ = tx.send(server.handle());
            let _ = server.await;
        });
    });
    let handle = rx.recv().expect("the bench server started");
    Running {
        addr,
        handle,
        thread: Some(thread),
    }
}

//! Assembling a running Gatehouse: open the data directory, master key and store,
//! print the setup link when needed, and run the HTTP server, the admin socket and
//! the maintenance loop until SIGTERM/SIGINT.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpServer, web};
use anyhow::Context;

use crate::admin_api::{self, SOCKET_FILE_NAME};
use crate::config::{Config, LogFormat};
use crate::domain::time::SystemClock;
use crate::keys::{KeySource, Keys};
use crate::service::{ServiceSettings, Services};
use crate::store::{STORE_FILE_NAME, Store, StoreError};
use crate::web::{self as gate_web, AppState};

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the store is in use by a running gatehouse server")]
    InUse,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Creates the data directory (mode 0700) if needed.
pub fn ensure_data_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("while creating the data directory {}", dir.display()))?;
    }
    Ok(())
}

/// Opens the key and the store and builds the services.
pub fn open_services(config: &Config) -> Result<Arc<Services>, OpenError> {
    ensure_data_dir(&config.data_dir)?;
    let store_path = config.data_dir.join(STORE_FILE_NAME);
    let existed = store_path.exists();
    let source = KeySource::locate(&config.data_dir, config.master_key_file.as_deref(), existed);
    let keys = Keys::load(&source).context("while loading the master key")?;
    let store = match Store::open(&store_path) {
        Ok(store) => store,
        Err(StoreError::InUse) => return Err(OpenError::InUse),
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("while opening the store {}", store_path.display()))
                .into());
        }
    };
    if !existed && store_path.exists() {
        // Hashes and sealed secrets are nobody else's business either.
        std::fs::set_permissions(&store_path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("while restricting {}", store_path.display()))?;
    }
    let services = Services::new(
        store,
        keys,
        Arc::new(SystemClock),
        ServiceSettings::from_config(config),
    )
    .context("while checking the store against the master key")?;
    Ok(Arc::new(services))
}

/// Sets up logging to standard error as `log.format` asks.
pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        // On a failed write tracing-subscriber would report with `eprintln!`, which
        // panics when stderr is gone (a log pipe whose reader exited): the panicking
        // task was the shutdown task, and SIGTERM then never stopped the server.
        .log_internal_errors(false);
    let _ = match config.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// `gatehouse serve`.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let shutdown = ShutdownSignals::catch();
    init_logging(&config);
    if !config.ignored_env.is_empty() {
        tracing::warn!(
            "ignoring environment variables that name no configuration key: {}",
            config.ignored_env.join(", ")
        );
    }
    let store_existed = config.data_dir.join(STORE_FILE_NAME).exists();
    let services = match open_services(&config) {
        Ok(s) => s,
        Err(OpenError::InUse) => anyhow::bail!(
            "another gatehouse process already has the store {} open",
            config.data_dir.display()
        ),
        Err(OpenError::Other(e)) => return Err(e),
    };
    log_data_location(&config, store_existed);
    if let Some(token) = services.issue_setup_token()? {
        // The one place a secret is printed: the operator needs this link once.
        println!("Setup link: {}/setup/{}", config.base_url(), token.expose());
        tracing::info!(
            "no staff admin yet: a one-time setup link (valid 1 hour) was printed on standard output"
        );
    }

    let socket_path = config.data_dir.join(SOCKET_FILE_NAME);
    let socket = admin_api::socket::bind(&socket_path)
        .with_context(|| format!("while creating the admin socket {}", socket_path.display()))?;
    let socket_task = tokio::spawn(admin_api::socket::serve(socket, Arc::clone(&services)));
    let maintenance_task = tokio::spawn(maintenance(Arc::clone(&services)));
    // The outbox's worker runs on this runtime, not on an HTTP worker's.
    services.start_mail();
    if let Some(smtp) = &config.smtp {
        tracing::info!(host = %smtp.host, port = smtp.port, security = smtp.security.as_str(), "email is on");
    }
    let sweep_task = tokio::spawn(graph_sweeps(
        Arc::clone(&services),
        config.entra.sweep_interval_secs,
    ));

    let config = Arc::new(config);
    let state = web::Data::new(AppState::new(Arc::clone(&services), Arc::clone(&config)));
    let metrics_server = metrics_server(&config, state.clone())?;
    let server = HttpServer::new(move || gate_web::app(state.clone()))
        .shutdown_timeout(10)
        .disable_signals();
    let server = match &config.tls {
        Some(tls) => server
            .bind_rustls_0_23(config.listen, tls_config(&tls.cert, &tls.key)?)
            .with_context(|| format!("while listening on {}", config.listen))?,
        None => server
            .bind(config.listen)
            .with_context(|| format!("while listening on {}", config.listen))?,
    };
    tracing::info!(listen = %config.listen, public_url = %config.base_url(), "gatehouse is serving");
    let server = server.run();
    let handle = server.handle();
    let metrics_handle = metrics_server.map(|m| {
        let handle = m.handle();
        tokio::spawn(m);
        handle
    });
    tokio::spawn(async move {
        shutdown.received().await;
        tracing::info!("shutting down");
        if let Some(metrics) = metrics_handle {
            metrics.stop(true).await;
        }
        handle.stop(true).await;
    });
    server.await.context("while serving HTTP")?;

    socket_task.abort();
    maintenance_task.abort();
    sweep_task.abort();
    let _ = std::fs::remove_file(&socket_path);
    wait_for_last_handle(&services).await;
    let flushed = services.flush_activity();
    tracing::info!(?flushed, "stopped");
    Ok(())
}

/// One line saying where the data is, so an operator who started `serve` in the wrong
/// folder sees it at once.
fn log_data_location(config: &Config, store_existed: bool) {
    let shown = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let key = KeySource::locate(&config.data_dir, config.master_key_file.as_deref(), true);
    let config_file = config
        .file
        .as_deref()
        .map_or_else(|| "none".to_owned(), |f| shown(f).display().to_string());
    tracing::info!(
        data_dir = %shown(&config.data_dir).display(),
        store = %shown(&config.data_dir.join(STORE_FILE_NAME)).display(),
        master_key = %shown(&key.path).display(),
        config_file,
        new_store = !store_existed,
        "data location"
    );
}

/// The separate metrics listener. The default address is a convenience, not the
/// operator's choice: when it is taken (a second instance on the host) metrics are
/// only missing, with a warning; a chosen address that cannot be bound stops start-up.
fn metrics_server(
    config: &Config,
    state: web::Data<AppState>,
) -> anyhow::Result<Option<actix_web::dev::Server>> {
    let listen = config.metrics.listen;
    match gate_web::metrics::server(listen, state) {
        Ok(server) => {
            tracing::info!(%listen, public = config.metrics.public, "metrics are served on their own listener");
            Ok(Some(server))
        }
        Err(e) if config.metrics.listen_is_default => {
            tracing::warn!(error = %format!("{e:#}"), "no metrics listener; set metrics.listen to another address");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Waits (at most ten seconds) until `services` is the only handle left, so that
/// dropping it closes the store cleanly. actix's worker threads drop their copies of
/// the app state only after the server future resolved; a process that exits before
/// they do leaves the store marked open, and the next start then repairs the whole
/// file (seconds, and the file pulled into the page cache, for a large store).
async fn wait_for_last_handle(services: &Arc<Services>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while Arc::strong_count(services) > 1 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if Arc::strong_count(services) > 1 {
        tracing::warn!("shutting down with the store still in use; the next start may repair it");
    }
}

/// SIGTERM and SIGINT, caught from the moment [`ShutdownSignals::catch`] runs: made
/// before anything listens, so a stop sent as soon as `/healthz` answers (a
/// supervisor, a test) shuts the server down cleanly instead of killing it.
struct ShutdownSignals {
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignals {
    fn catch() -> ShutdownSignals {
        use tokio::signal::unix::{SignalKind, signal};
        ShutdownSignals {
            term: signal(SignalKind::terminate()).ok(),
            int: signal(SignalKind::interrupt()).ok(),
        }
    }

    /// Waits for either.
    async fn received(self) {
        match (self.term, self.int) {
            (Some(mut term), Some(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

/// Writes batched session activity and purges expired records, periodically.
async fn maintenance(services: Arc<Services>) {
    let mut tick = tokio::time::interval(Duration::from_secs(15));
    let mut rounds: u64 = 0;
    loop {
        tick.tick().await;
        rounds += 1;
        let s = Arc::clone(&services);
        let purge = rounds % 20 == 1;
        let outcome = tokio::task::spawn_blocking(move || {
            s.flush_activity()?;
            if purge {
                s.purge_expired()?;
            }
            Ok::<_, crate::service::ServiceError>(())
        })
        .await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "maintenance failed"),
            Err(e) => tracing::error!(error = %e, "maintenance task failed"),
        }
    }
}

/// Runs the leavers sweep (Microsoft Graph) every `interval_secs`; 0 = never.
async fn graph_sweeps(services: Arc<Services>, interval_secs: i64) {
    let Ok(secs) = u64::try_from(interval_secs) else {
        return;
    };
    if secs == 0 {
        return;
    }
    loop {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        if let Err(e) = services.sweep_all().await {
            tracing::error!(error = %e, "graph sweep failed");
        }
    }
}

/// A rustls server configuration from PEM files.
fn tls_config(cert: &Path, key: &Path) -> anyhow::Result<rustls::ServerConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("while reading tls.cert {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("while parsing tls.cert {}", cert.display()))?;
    let key_meta = std::fs::metadata(key)
        .with_context(|| format!("while reading tls.key {}", key.display()))?;
    if key_meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(path = %key.display(), "tls.key is readable by other users; chmod 600 it");
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("while parsing tls.key {}", key.display()))?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("while setting up TLS")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("while loading the TLS certificate and key")
}

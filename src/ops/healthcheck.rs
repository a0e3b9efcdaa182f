//! `gatehouse healthcheck`: asks the local server's `/healthz` and exits 0 when it
//! answers `{"status":"ok"}`, else 1. For container `HEALTHCHECK`s and monitors on a
//! host without curl. It connects to the configured `listen` port on loopback (an
//! unspecified listen address such as 0.0.0.0 means loopback works too).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::config::Config;

/// `gatehouse healthcheck`.
pub fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let addr = probe_address(config.listen);
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let url = format!("{scheme}://{addr}/healthz");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let answer = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            // Loopback probe of our own listener: the certificate names the public
            // host, not 127.0.0.1, and nothing secret is sent.
            .danger_accept_invalid_certs(true)
            .build()?;
        let response = client.get(&url).send().await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        Ok::<_, reqwest::Error>((status, body))
    });
    let (status, body) = answer.with_context(|| format!("while requesting {url}"))?;
    if status.is_success() && body["status"] == "ok" {
        println!("healthy ({url})");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("unhealthy: {url} answered {status}");
        Ok(ExitCode::from(1))
    }
}

/// Where to reach a server listening on `listen` from this host.
fn probe_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

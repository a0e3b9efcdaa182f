//! Talking to the mail server with `lettre` over rustls: STARTTLS (required, never
//! downgraded), implicit TLS, or plain SMTP to a loopback relay. One connection per
//! message: the volume is small and a fresh connection survives server restarts.

use std::time::Duration;

use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncTransport, Message, Tokio1Executor};

use crate::config::{SmtpConfig, SmtpSecurity};
use crate::domain::text::neutralise;

/// How long one SMTP command may take before the attempt fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a message did not go out, in words for the admin (never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    pub message: String,
    /// The server refused for good (a 5xx answer): retrying would not help.
    pub permanent: bool,
}

/// Sends `message` through the configured server.
pub async fn deliver(config: &SmtpConfig, message: Message) -> Result<(), DeliveryError> {
    let transport = transport(config)?;
    match transport.send(message).await {
        Ok(_) => Ok(()),
        Err(e) => Err(DeliveryError {
            message: describe(&e),
            permanent: e.is_permanent(),
        }),
    }
}

fn transport(config: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, DeliveryError> {
    let tls_error = |e: lettre::transport::smtp::Error| DeliveryError {
        message: format!("TLS set-up failed: {}", neutralise(&e.to_string())),
        permanent: true,
    };
    let tls = match config.security {
        SmtpSecurity::StartTls => {
            Tls::Required(TlsParameters::new(config.host.clone()).map_err(tls_error)?)
        }
        SmtpSecurity::Tls => {
            Tls::Wrapper(TlsParameters::new(config.host.clone()).map_err(tls_error)?)
        }
        SmtpSecurity::None => Tls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
        .port(config.port)
        .tls(tls)
        .timeout(Some(COMMAND_TIMEOUT));
    if let (Some(user), Some(password)) = (&config.username, &config.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    Ok(builder.build())
}

/// The error in plain words, with its chain of causes (connection refused, certificate
/// not trusted…), on one neutralised line.
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = inner.source();
    }
    neutralise(&text).chars().take(300).collect()
}

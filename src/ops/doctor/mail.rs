//! The doctor's email check: whether `[smtp]` is set, whether its server answers on its
//! port, and whether the running server had to give up on any message.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::{Context, Finding};
use crate::domain::text::neutralise;

/// How long doctor waits for the mail server's port.
const CONNECT_WAIT: Duration = Duration::from_secs(3);

/// `ok` when email is off or works; `warn` when the mail server cannot be reached or
/// the running server could not send some messages.
pub fn check_email(ctx: &Context) -> Vec<Finding> {
    let Some(smtp) = &ctx.config.smtp else {
        return vec![Finding::ok(
            "email",
            "email is off (no [smtp]): invitation and reset links are shown to copy",
        )];
    };
    let server = format!("{}:{}", smtp.host, smtp.port);
    let reachable = (smtp.host.as_str(), smtp.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, CONNECT_WAIT).is_ok());
    let mut findings = vec![if reachable {
        Finding::ok(
            "email",
            format!("mail server {server} ({}) answers", smtp.security.as_str()),
        )
    } else {
        Finding::warn(
            "email",
            format!(
                "mail server {server} cannot be reached: invitations, reset links and notices are not delivered (`gatehouse mail test --to ADDR` shows the reason)"
            ),
        )
    }];
    if let Some(failures) = ctx.status().and_then(|s| s.mail_failures.as_ref()) {
        findings.push(Finding::warn(
            "email",
            format!(
                "{} email(s) could not be sent since the server started; the last reason: {} (see the admin Email page)",
                failures.failed,
                neutralise(&failures.last_error)
            ),
        ));
    }
    findings
}

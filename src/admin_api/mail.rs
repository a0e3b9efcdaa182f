//! The admin requests about email: `mail test`, `user resend-invite`,
//! `user reset-password`, and the "was it emailed?" line `user invite` prints.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::AdminResponse;
use crate::domain::text::neutralise;
use crate::domain::user::User;
use crate::service::admin::AdminActor;
use crate::service::mail::{Delivery, DeliveryState};
use crate::service::{ServiceError, Services};

/// How long the CLI waits for the mail server's answer to the first attempt.
const FIRST_ATTEMPT_WAIT: Duration = Duration::from_secs(45);

/// Waits for the first attempt at `delivery` and says what came of it, as a line of
/// text and a JSON value (`"off"`, `"sent"`, `"retrying"`, `"failed"`, `"queued"`).
pub(super) async fn report(delivery: Option<Delivery>) -> (String, serde_json::Value) {
    let Some(delivery) = delivery else {
        return (
            "Email is off (no [smtp] in the configuration): pass the link on yourself.".to_owned(),
            json!({ "state": "off" }),
        );
    };
    let state = delivery.first_outcome(FIRST_ATTEMPT_WAIT).await;
    let text = match &state {
        DeliveryState::Sent => "Emailed.".to_owned(),
        DeliveryState::Queued => {
            "Queued for email; the mail server has not answered yet.".to_owned()
        }
        DeliveryState::Retrying(e) => format!(
            "Not emailed yet ({}); the server retries. The link above works either way.",
            neutralise(e)
        ),
        DeliveryState::Failed(e) => format!(
            "Could not be emailed: {}. The link above works either way.",
            neutralise(e)
        ),
    };
    let value = json!({ "state": state.label(), "error": state.error() });
    (text, value)
}

/// `gatehouse mail test --to ADDR`
pub(super) async fn test(
    services: &Arc<Services>,
    to: &str,
) -> Result<AdminResponse, ServiceError> {
    let delivery = services.send_test_mail(to)?;
    let state = delivery.first_outcome(FIRST_ATTEMPT_WAIT).await;
    let data = json!({ "to": to, "state": state.label(), "error": state.error() });
    Ok(match state {
        DeliveryState::Sent => AdminResponse::ok(format!("Test email sent to {to}."), data),
        other => AdminResponse {
            ok: false,
            text: format!(
                "The test email to {to} was not sent: {}",
                neutralise(
                    other
                        .error()
                        .unwrap_or("no answer from the mail server in time")
                )
            ),
            data,
        },
    })
}

/// `gatehouse user resend-invite`
pub(super) async fn resend_invite(
    services: &Arc<Services>,
    actor: AdminActor,
    user: User,
) -> Result<AdminResponse, ServiceError> {
    let invitation = services.resend_invite(actor, user.id).await?;
    let (emailed, mail) = report(invitation.delivery).await;
    Ok(AdminResponse::ok(
        format!(
            "New invitation for {} (valid 7 days, single use; the old link no longer works):\n{}\n{emailed}",
            invitation.user.email, invitation.link
        ),
        json!({ "user": who(&invitation.user), "link": invitation.link, "email": mail }),
    ))
}

/// `gatehouse user reset-password`
pub(super) async fn reset_password(
    services: &Arc<Services>,
    actor: AdminActor,
    user: User,
) -> Result<AdminResponse, ServiceError> {
    let issued = services.issue_reset_link(actor, user.id).await?;
    let (emailed, mail) = report(issued.delivery).await;
    Ok(AdminResponse::ok(
        format!(
            "Password reset link for {} (valid 30 minutes, single use; their authenticator is still asked for):\n{}\n{emailed}",
            issued.user.email, issued.link
        ),
        json!({ "user": who(&issued.user), "link": issued.link, "email": mail }),
    ))
}

/// The user a link is for, in JSON answers.
fn who(user: &User) -> serde_json::Value {
    json!({ "id": user.id.to_string(), "email": user.email.as_str(), "realm": user.realm.key() })
}

//! `GET` on a destructive admin action's address shows what it will do and asks to
//! confirm; the `POST` to the same address does it. The pages link here instead of
//! posting at once: disabling a user, resetting their authenticator, signing them out
//! everywhere, and disabling a client's portal.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::admin_chrome;
use super::users::{ActionPath, UserScope, user_in_scope};
use crate::web::csrf::CsrfToken;
use crate::web::error::{WebError, WebResult};
use crate::web::request::StaffAdmin;
use crate::web::views::confirm::{ConfirmView, confirm_page};
use crate::web::{AppState, html};

/// What a confirmation page says: question, effect, button.
struct Asked {
    question: String,
    effect: String,
    button: &'static str,
}

fn render(
    admin: &StaffAdmin,
    csrf: &str,
    asked: &Asked,
    action_url: &str,
    cancel_url: &str,
) -> HttpResponse {
    html(
        StatusCode::OK,
        confirm_page(&ConfirmView {
            chrome: admin_chrome("Confirm", &admin.0, csrf),
            csrf,
            question: &asked.question,
            effect: &asked.effect,
            action_url,
            button: asked.button,
            cancel_url,
        }),
    )
}

fn sessions(n: usize) -> String {
    match n {
        0 => "no open sessions".to_owned(),
        1 => "1 open session".to_owned(),
        n => format!("{n} open sessions"),
    }
}

/// `GET …/users/{id}/{action}` for the destructive user actions.
pub async fn user_action(
    req: HttpRequest,
    admin: StaffAdmin,
    scope: UserScope,
    csrf: CsrfToken,
    path: web::Path<ActionPath>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let id = user_in_scope(&req, &scope, path.id())?;
    let user = state.services.user_by_id(id)?;
    let who = user.name_or_email().to_owned();
    let open = sessions(state.services.count_sessions_of_user(id).await?);
    let asked = match path.action() {
        "disable" => Asked {
            question: format!("Disable {who}?"),
            effect: format!(
                "{who} is signed out of {open} at once, and cannot sign in (with a password, Microsoft or forward-auth) until an admin enables the account again."
            ),
            button: "Disable and sign out",
        },
        "reset-mfa" => Asked {
            question: format!("Reset {who}'s authenticator?"),
            effect: format!(
                "{who}'s authenticator app and every recovery code stop working. At their next sign-in they set up a new app."
            ),
            button: "Reset authenticator",
        },
        "revoke-sessions" => Asked {
            question: format!("Sign {who} out everywhere?"),
            effect: format!("{who} is signed out of {open} on every device and signs in again."),
            button: "Sign out everywhere",
        },
        _ => return Err(WebError::NotFound),
    };
    let action_url = format!("{}/{}/{}", scope.base(), id, path.action());
    let cancel_url = format!("{}/{}", scope.base(), id);
    Ok(render(&admin, &csrf.0, &asked, &action_url, &cancel_url))
}

/// `GET /admin/clients/{client}/do/disable`
pub async fn client_action(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    path: web::Path<(String, String)>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let (slug, action) = path.into_inner();
    if action != "disable" {
        return Err(WebError::NotFound);
    }
    let client = state
        .services
        .client_by_slug(&slug)
        .map_err(|_| WebError::NotFound)?;
    let users = state
        .services
        .list_users(state.services.client_realm(&slug)?)?
        .len();
    let people = match users {
        1 => "its 1 user".to_owned(),
        n => format!("all {n} of its users"),
    };
    let asked = Asked {
        question: format!("Disable the portal of {}?", client.name),
        effect: format!(
            "This signs out {people} of {} at once, and nobody can sign in to the portal (or pass forward-auth for it) until it is enabled again.",
            client.name
        ),
        button: "Disable portal",
    };
    let base = format!("/admin/clients/{slug}");
    Ok(render(
        &admin,
        &csrf.0,
        &asked,
        &format!("{base}/do/disable"),
        &base,
    ))
}

//! Staff users in the admin console: list, invite, one user, actions.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use uuid::Uuid;

use super::admin_chrome;
use crate::domain::user::{Realm, Role, UserId};
use crate::service::ServiceError;
use crate::service::admin::AdminActor;
use crate::store::prelude::*;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::{WebError, WebResult};
use crate::web::request::{ClientOrigin, StaffAdmin};
use crate::web::views::admin::{UserView, UsersView, user_page, users_page};
use crate::web::{AppState, html, paths, see_other};

#[derive(Debug, Deserialize)]
pub struct InviteFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

#[derive(Debug, Deserialize)]
pub struct NoFields {}

fn render_list(
    req: &HttpRequest,
    admin: &StaffAdmin,
    csrf: &str,
    status: StatusCode,
    error: Option<&str>,
    invited: Option<(&str, &str)>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(req);
    let users = state.services.list_users(Realm::Staff)?;
    Ok(html(
        status,
        users_page(&UsersView {
            chrome: admin_chrome("Staff users", &admin.0, csrf),
            csrf,
            users: &users,
            error,
            invited,
        }),
    ))
}

/// `GET /admin/users`
pub async fn list(req: HttpRequest, admin: StaffAdmin, csrf: CsrfToken) -> WebResult<HttpResponse> {
    render_list(&req, &admin, &csrf.0, StatusCode::OK, None, None)
}

/// `POST /admin/users`: invite.
pub async fn invite(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<InviteFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let fields = form.0;
    let Some(role) = Role::parse(&fields.role) else {
        return render_list(
            &req,
            &admin,
            &csrf.0,
            StatusCode::BAD_REQUEST,
            Some("Choose a role: admin or member."),
            None,
        );
    };
    let actor = AdminActor::user(&admin.0.user, &origin.0.ip);
    match state
        .services
        .invite(actor, Realm::Staff, fields.email, fields.name, role)
        .await
    {
        Ok(invitation) => render_list(
            &req,
            &admin,
            &csrf.0,
            StatusCode::OK,
            None,
            Some((invitation.user.email.as_str(), &invitation.link)),
        ),
        Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => render_list(
            &req,
            &admin,
            &csrf.0,
            StatusCode::BAD_REQUEST,
            Some(&m),
            None,
        ),
        Err(e) => Err(e.into()),
    }
}

fn parse_id(raw: &str) -> WebResult<UserId> {
    Uuid::parse_str(raw)
        .map(UserId)
        .map_err(|_| WebError::NotFound)
}

fn render_user(
    req: &HttpRequest,
    admin: &StaffAdmin,
    csrf: &str,
    id: UserId,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(req);
    let user = state.services.user_by_id(id)?;
    if user.realm != Realm::Staff {
        return Err(WebError::NotFound);
    }
    let sessions = state
        .services
        .store
        .read(|r| r.sessions_of_user(id))
        .map_err(ServiceError::from)?
        .len();
    Ok(html(
        status,
        user_page(&UserView {
            chrome: admin_chrome("User", &admin.0, csrf),
            csrf,
            user: &user,
            sessions,
            notice,
            error,
        }),
    ))
}

/// `GET /admin/users/{id}`
pub async fn detail(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    id: web::Path<String>,
) -> WebResult<HttpResponse> {
    render_user(
        &req,
        &admin,
        &csrf.0,
        parse_id(&id)?,
        StatusCode::OK,
        None,
        None,
    )
}

/// `POST /admin/users/{id}/{action}`
pub async fn action(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    path: web::Path<(String, String)>,
    _form: CsrfForm<NoFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let (raw_id, action) = path.into_inner();
    let id = parse_id(&raw_id)?;
    if state.services.user_by_id(id)?.realm != Realm::Staff {
        return Err(WebError::NotFound);
    }
    let actor = AdminActor::user(&admin.0.user, &origin.0.ip);
    let services = &state.services;
    let result = match action.as_str() {
        "disable" => services
            .set_enabled(actor, id, false)
            .await
            .map(|_| "User disabled and signed out."),
        "enable" => services
            .set_enabled(actor, id, true)
            .await
            .map(|_| "User enabled."),
        "reset-mfa" => services
            .reset_mfa(actor, id)
            .await
            .map(|_| "Authenticator removed; they will set up a new one at their next sign-in."),
        "revoke-sessions" => services
            .revoke_sessions(actor, id)
            .await
            .map(|_| "User signed out everywhere."),
        "make-admin" => services
            .set_role(actor, id, Role::Admin)
            .await
            .map(|_| "User is now an admin."),
        "make-member" => services
            .set_role(actor, id, Role::Member)
            .await
            .map(|_| "User is now a member."),
        _ => return Err(WebError::NotFound),
    };
    match result {
        // Acting on oneself may end one's own session; the next page handles that.
        Ok(notice)
            if id == admin.0.user.id
                && matches!(action.as_str(), "disable" | "reset-mfa" | "revoke-sessions") =>
        {
            let _ = notice;
            Ok(see_other(paths::LOGIN))
        }
        Ok(notice) => render_user(
            &req,
            &admin,
            &csrf.0,
            id,
            StatusCode::OK,
            Some(notice),
            None,
        ),
        Err(ServiceError::Conflict(m) | ServiceError::Invalid(m)) => render_user(
            &req,
            &admin,
            &csrf.0,
            id,
            StatusCode::CONFLICT,
            None,
            Some(&m),
        ),
        Err(e) => Err(e.into()),
    }
}

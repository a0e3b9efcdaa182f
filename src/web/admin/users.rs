//! Users in the admin console — staff at `/admin/users`, a client's portal users at
//! `/admin/clients/{slug}/users` — list, invite, one user, actions.

use crate::domain::user::User;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::Deserialize;
use uuid::Uuid;

use super::admin_chrome;
use crate::domain::user::{Realm, Role, UserId};
use crate::service::ServiceError;
use crate::service::admin::AdminActor;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::{WebError, WebResult};
use crate::web::flash::{self, Flash, Invited};
use crate::web::request::{ClientOrigin, StaffAdmin};
use crate::web::views::admin_users::{
    Scope, UserFacts, UserView, UsersView, user_page, users_page,
};
use crate::web::{AppState, html, paths, see_other};

/// Whose users the request is about.
pub struct UserScope {
    realm: Realm,
    title: String,
    base: String,
}

impl UserScope {
    /// `/admin/users` or `/admin/clients/{slug}/users`.
    pub(super) fn base(&self) -> &str {
        &self.base
    }

    fn view(&self) -> Scope<'_> {
        Scope {
            title: &self.title,
            base: &self.base,
            roles: self.realm.is_staff(),
        }
    }
}

impl FromRequest for UserScope {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = AppState::of(req);
        ready(match req.match_info().get("client") {
            None => Ok(UserScope {
                realm: Realm::Staff,
                title: "Staff users".to_owned(),
                base: paths::ADMIN_USERS.to_owned(),
            }),
            Some(slug) => match state.services.portal(slug) {
                Ok(Some(portal)) => Ok(UserScope {
                    realm: Realm::Client(portal.id),
                    title: format!("Users of {}", portal.name),
                    base: format!("/admin/clients/{}/users", portal.slug),
                }),
                Ok(None) => Err(WebError::NotFound),
                Err(e) => Err(e.into()),
            },
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct InviteFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

/// The fields of the actions on one user (only `set-email` and `remove` have any).
#[derive(Debug, Deserialize)]
pub struct ActionFields {
    #[serde(default)]
    new_email: String,
    #[serde(default)]
    confirm: String,
}

fn render_list(
    req: &HttpRequest,
    admin: &StaffAdmin,
    scope: &UserScope,
    csrf: &str,
    status: StatusCode,
    error: Option<&str>,
    flash: &Flash,
) -> WebResult<HttpResponse> {
    let state = AppState::of(req);
    let invited = flash
        .invited
        .as_ref()
        .map(|i| (i.email.as_str(), i.link.as_str()));
    let users: Vec<UserFacts> = state
        .services
        .list_users(scope.realm)?
        .iter()
        .map(UserFacts::of)
        .collect();
    Ok(html(
        status,
        users_page(&UsersView {
            chrome: admin_chrome(&scope.title, &admin.0, csrf),
            scope: scope.view(),
            csrf,
            users: &users,
            error,
            notice: flash.notice.as_deref(),
            invited,
            invite_emailed: flash.invited.as_ref().is_some_and(|i| i.emailed),
        }),
    ))
}

/// `GET /admin/users`, `GET /admin/clients/{slug}/users`
pub async fn list(
    req: HttpRequest,
    admin: StaffAdmin,
    scope: UserScope,
    csrf: CsrfToken,
    flash: Flash,
) -> WebResult<HttpResponse> {
    render_list(&req, &admin, &scope, &csrf.0, StatusCode::OK, None, &flash)
}

/// `POST` to the same paths: invite, then back to the list showing the link once.
pub async fn invite(
    req: HttpRequest,
    admin: StaffAdmin,
    scope: UserScope,
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
            &scope,
            &csrf.0,
            StatusCode::BAD_REQUEST,
            Some("Choose a role: admin or member."),
            &Flash::default(),
        );
    };
    let actor = AdminActor::user(&admin.0.user, &origin.0.ip);
    match state
        .services
        .invite(actor, scope.realm, fields.email, fields.name, role)
        .await
    {
        Ok(invitation) => Ok(flash::redirect(
            &req,
            &scope.base,
            Flash {
                invited: Some(Invited {
                    email: invitation.user.email.to_string(),
                    link: invitation.link,
                    emailed: invitation.delivery.is_some(),
                }),
                ..Flash::default()
            },
        )),
        Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => render_list(
            &req,
            &admin,
            &scope,
            &csrf.0,
            StatusCode::BAD_REQUEST,
            Some(&m),
            &Flash::default(),
        ),
        Err(e) => Err(e.into()),
    }
}

/// The user `raw` of this scope, or 404 (also for a user of another realm).
pub(super) fn user_in_scope(req: &HttpRequest, scope: &UserScope, raw: &str) -> WebResult<UserId> {
    let id = Uuid::parse_str(raw)
        .map(UserId)
        .map_err(|_| WebError::NotFound)?;
    match AppState::of(req).services.user_by_id(id) {
        Ok(user) if user.realm == scope.realm => Ok(id),
        Ok(_) | Err(ServiceError::NotFound(_)) => Err(WebError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// What a user page reports after an action.
struct Said<'a> {
    status: StatusCode,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    /// A link just made, shown to copy: (what it is, the link).
    shown_link: Option<(&'a str, &'a str)>,
}

const QUIET: Said<'static> = Said {
    status: StatusCode::OK,
    notice: None,
    error: None,
    shown_link: None,
};

async fn render_user(
    req: &HttpRequest,
    admin: &StaffAdmin,
    scope: &UserScope,
    csrf: &str,
    id: UserId,
    said: Said<'_>,
) -> WebResult<HttpResponse> {
    let Said {
        status,
        notice,
        error,
        shown_link,
    } = said;
    let state = AppState::of(req);
    let user = UserFacts::of(&state.services.user_by_id(id)?);
    let sessions = state.services.count_sessions_of_user(id).await?;
    Ok(html(
        status,
        user_page(&UserView {
            chrome: admin_chrome("User", &admin.0, csrf),
            scope: scope.view(),
            csrf,
            user: &user,
            sessions,
            notice,
            error,
            shown_link,
            mail_enabled: state.services.mail_enabled(),
        }),
    ))
}

#[derive(Debug, Deserialize)]
pub struct UserPath {
    id: String,
}

/// `GET …/users/{id}`
pub async fn detail(
    req: HttpRequest,
    admin: StaffAdmin,
    scope: UserScope,
    csrf: CsrfToken,
    path: web::Path<UserPath>,
    flash: Flash,
) -> WebResult<HttpResponse> {
    let id = user_in_scope(&req, &scope, &path.id)?;
    let said = Said {
        notice: flash.notice.as_deref(),
        shown_link: flash
            .shown_link
            .as_ref()
            .map(|(what, link)| (what.as_str(), link.as_str())),
        ..QUIET
    };
    render_user(&req, &admin, &scope, &csrf.0, id, said).await
}

#[derive(Debug, Deserialize)]
pub struct ActionPath {
    id: String,
    action: String,
}

impl ActionPath {
    pub(super) fn id(&self) -> &str {
        &self.id
    }

    pub(super) fn action(&self) -> &str {
        &self.action
    }
}

/// `POST …/users/{id}/{action}`; on success back to the user's page (or, after a
/// removal, to the list) with a notice shown once.
pub async fn action(
    req: HttpRequest,
    admin: StaffAdmin,
    scope: UserScope,
    csrf: CsrfToken,
    origin: ClientOrigin,
    path: web::Path<ActionPath>,
    form: CsrfForm<ActionFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let id = user_in_scope(&req, &scope, &path.id)?;
    let actor = AdminActor::user(&admin.0.user, &origin.0.ip);
    let services = &state.services;
    let staff = scope.realm.is_staff();
    let fields = form.0;
    let user_page = format!("{}/{}", scope.base, id);
    let made = match path.action.as_str() {
        "resend-invite" => Some((
            "Invitation link",
            services
                .resend_invite(actor.clone(), id)
                .await
                .map(|i| i.link),
        )),
        "reset-password" => Some((
            "Password reset link",
            services
                .issue_reset_link(actor.clone(), id)
                .await
                .map(|r| r.link),
        )),
        _ => None,
    };
    match made {
        // Back to the user page (POST-redirect-GET), which shows the new link once.
        Some((what, Ok(link))) => {
            let flash = Flash {
                shown_link: Some((what.to_owned(), link)),
                ..Flash::default()
            };
            return Ok(flash::redirect(&req, &user_page, flash));
        }
        Some((_, Err(ServiceError::Conflict(m) | ServiceError::Invalid(m)))) => {
            return render_user(
                &req,
                &admin,
                &scope,
                &csrf.0,
                id,
                Said {
                    status: StatusCode::CONFLICT,
                    error: Some(&m),
                    ..QUIET
                },
            )
            .await;
        }
        Some((_, Err(e))) => return Err(e.into()),
        None => {}
    }
    let result: Result<(String, &str), ServiceError> = match path.action.as_str() {
        "disable" => services.set_enabled(actor, id, false).await.map(|_| {
            (
                "User disabled and signed out.".to_owned(),
                user_page.as_str(),
            )
        }),
        "enable" => services
            .set_enabled(actor, id, true)
            .await
            .map(|_| ("User enabled.".to_owned(), user_page.as_str())),
        "reset-mfa" => services.reset_mfa(actor, id).await.map(|_| {
            (
                "Authenticator removed; they will set up a new one at their next sign-in."
                    .to_owned(),
                user_page.as_str(),
            )
        }),
        "revoke-sessions" => services
            .revoke_sessions(actor, id)
            .await
            .map(|_| ("User signed out everywhere.".to_owned(), user_page.as_str())),
        "make-admin" if staff => services
            .set_role(actor, id, Role::Admin)
            .await
            .map(|_| ("User is now an admin.".to_owned(), user_page.as_str())),
        "make-member" if staff => services
            .set_role(actor, id, Role::Member)
            .await
            .map(|_| ("User is now a member.".to_owned(), user_page.as_str())),
        "set-email" => services
            .set_email(actor, id, fields.new_email)
            .await
            .map(|u| (format!("Email changed to {}.", u.email), user_page.as_str())),
        "remove" if fields.confirm != "yes" => Err(ServiceError::Invalid(
            "Tick the box to confirm removing this user.".to_owned(),
        )),
        "remove" => services.remove_user(actor, id).await.map(|removed| {
            (
                format!(
                    "Removed {}. The address can be invited again.",
                    removed.user.email
                ),
                scope.base.as_str(),
            )
        }),
        _ => return Err(WebError::NotFound),
    };
    match result {
        // Acting on oneself may end one's own session; the sign-in page handles that.
        Ok(_)
            if id == admin.0.user.id
                && matches!(
                    path.action.as_str(),
                    "disable" | "reset-mfa" | "revoke-sessions"
                ) =>
        {
            Ok(see_other(paths::LOGIN))
        }
        Ok((notice, page)) => Ok(flash::redirect(&req, page, Flash::notice(notice))),
        Err(e @ (ServiceError::Conflict(_) | ServiceError::Invalid(_))) => {
            let (status, m) = match e {
                ServiceError::Invalid(m) => (StatusCode::BAD_REQUEST, m),
                ServiceError::Conflict(m) => (StatusCode::CONFLICT, m),
                other => return Err(other.into()),
            };
            render_user(
                &req,
                &admin,
                &scope,
                &csrf.0,
                id,
                Said {
                    status,
                    error: Some(&m),
                    ..QUIET
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

impl UserFacts {
    /// What the pages show of `user`, mapped once here.
    fn of(user: &User) -> UserFacts {
        UserFacts {
            id: user.id,
            email: user.email.as_str().to_owned(),
            name: user.name_or_email().to_owned(),
            role: user.role,
            status: user.status,
            break_glass: user.break_glass,
            totp: user.totp.is_some(),
            recovery_codes_left: user.recovery_codes.len(),
            sso_links: user.sso_links.clone(),
            created_at: user.created_at,
            last_login_at: user.last_login_at,
        }
    }
}

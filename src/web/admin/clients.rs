//! `/admin/portal` (the portal app registration) and `/admin/clients…` (clients, their
//! settings, consent link, connection test, SSO-only, disable, remove).

use crate::domain::client::Client;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::admin_chrome;
use crate::config::parse_duration;
use crate::domain::user::Realm;
use crate::service::ServiceError;
use crate::service::admin::AdminActor;
use crate::service::clients::ClientUpdate;
use crate::service::sso::settings::ConnectionTest;
use crate::web::csrf::{CsrfForm, CsrfToken};
use crate::web::error::{WebError, WebResult};
use crate::web::flash::{self, Flash};
use crate::web::request::{ClientOrigin, StaffAdmin};
use crate::web::views::clients::{ClientFacts, ClientView, ClientsView, client_page, clients_page};
use crate::web::{AppState, html, see_other};

pub(super) fn actor(admin: &StaffAdmin, origin: &ClientOrigin) -> AdminActor {
    AdminActor::user(&admin.0.user, &origin.0.ip)
}

/// An action's result as a page message, or an error page for unexpected failures.
pub(super) enum Said {
    Notice(String),
    Error(StatusCode, String),
}

pub(super) fn said<T>(
    result: Result<T, ServiceError>,
    notice: impl FnOnce(T) -> String,
) -> WebResult<Said> {
    match result {
        Ok(v) => Ok(Said::Notice(notice(v))),
        Err(ServiceError::Invalid(m)) => Ok(Said::Error(StatusCode::BAD_REQUEST, m)),
        Err(ServiceError::Conflict(m)) => Ok(Said::Error(StatusCode::CONFLICT, m)),
        Err(e) => Err(e.into()),
    }
}

pub(super) fn split(said: Option<Said>) -> (StatusCode, Option<String>, Option<String>) {
    match said {
        None => (StatusCode::OK, None, None),
        Some(Said::Notice(n)) => (StatusCode::OK, None, Some(n)),
        Some(Said::Error(s, e)) => (s, Some(e), None),
    }
}

// ---- clients ----

fn render_clients(
    req: &HttpRequest,
    admin: &StaffAdmin,
    csrf: &str,
    status: StatusCode,
    error: Option<&str>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(req);
    let clients = state
        .services
        .list_clients()?
        .into_iter()
        .map(|c| {
            let users = state
                .services
                .list_users(Realm::Client(c.id))
                .map(|u| u.len())
                .unwrap_or(0);
            (ClientFacts::of(&c), users)
        })
        .collect::<Vec<_>>();
    Ok(html(
        status,
        clients_page(&ClientsView {
            chrome: admin_chrome("Clients", &admin.0, csrf),
            csrf,
            clients: &clients,
            error,
        }),
    ))
}

/// `GET /admin/clients`
pub async fn list(req: HttpRequest, admin: StaffAdmin, csrf: CsrfToken) -> WebResult<HttpResponse> {
    render_clients(&req, &admin, &csrf.0, StatusCode::OK, None)
}

#[derive(Debug, Deserialize)]
pub struct CreateFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
}

/// `POST /admin/clients`
pub async fn create(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    form: CsrfForm<CreateFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    match state
        .services
        .create_client(actor(&admin, &origin), form.0.slug, form.0.name)
        .await
    {
        Ok(client) => Ok(see_other(&format!("/admin/clients/{}", client.slug))),
        Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => {
            render_clients(&req, &admin, &csrf.0, StatusCode::BAD_REQUEST, Some(&m))
        }
        Err(e) => Err(e.into()),
    }
}

struct ClientPage<'a> {
    said: Option<Said>,
    consent_link: Option<String>,
    test: Option<ConnectionTest>,
    csrf: &'a str,
}

fn render_client(
    req: &HttpRequest,
    admin: &StaffAdmin,
    slug: &str,
    page: ClientPage,
) -> WebResult<HttpResponse> {
    let state = AppState::of(req);
    let client = match state.services.client_by_slug(slug) {
        Ok(c) => c,
        Err(ServiceError::NotFound(_)) => return Err(WebError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let users = state.services.list_users(Realm::Client(client.id))?.len();
    let login_url = state.services.portal_login_url(&client.slug);
    let portal_app_ready = state.services.portal_app_summary()?.configured;
    let (status, error, notice) = split(page.said);
    let back = format!("{}/{}", crate::web::paths::ADMIN_CLIENTS, client.slug);
    let options = super::sign_in_options::options_view(req, page.csrf, &back)?;
    Ok(html(
        status,
        client_page(&ClientView {
            chrome: admin_chrome("Client", &admin.0, page.csrf),
            csrf: page.csrf,
            client: &ClientFacts::of(&client),
            login_url: &login_url,
            users,
            consent_link: page.consent_link.as_deref(),
            test: page.test.as_ref(),
            portal_app_ready,
            error: error.as_deref(),
            notice: notice.as_deref(),
            options: &options,
        }),
    ))
}

/// The client page with an error message (for the logo upload).
pub(super) fn render_error(
    req: &HttpRequest,
    admin: &StaffAdmin,
    slug: &str,
    csrf: &str,
    message: String,
) -> WebResult<HttpResponse> {
    let page = ClientPage {
        said: Some(Said::Error(StatusCode::BAD_REQUEST, message)),
        consent_link: None,
        test: None,
        csrf,
    };
    render_client(req, admin, slug, page)
}

#[derive(Debug, Deserialize)]
pub struct SlugPath {
    #[serde(rename = "client")]
    slug: String,
}

/// `GET /admin/clients/{slug}`
pub async fn detail(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    path: web::Path<SlugPath>,
    flash: Flash,
) -> WebResult<HttpResponse> {
    render_client(
        &req,
        &admin,
        &path.slug,
        ClientPage {
            said: flash.notice.map(Said::Notice),
            consent_link: flash.consent_link,
            test: flash.test,
            csrf: &csrf.0,
        },
    )
}

/// After a client action: back to the client's page (POST-redirect-GET) with what it
/// must show once, or the same page with the reason it was refused.
fn answer(
    req: &HttpRequest,
    admin: &StaffAdmin,
    slug: &str,
    page: ClientPage,
) -> WebResult<HttpResponse> {
    match page.said {
        Some(Said::Notice(notice)) => Ok(flash::redirect(
            req,
            &format!("/admin/clients/{slug}"),
            Flash {
                notice: Some(notice),
                consent_link: page.consent_link,
                test: page.test,
                ..Flash::default()
            },
        )),
        _ => render_client(req, admin, slug, page),
    }
}

#[derive(Debug, Deserialize)]
pub struct SettingsFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    accent: String,
    #[serde(default)]
    totp_issuer: String,
    #[serde(default)]
    footer: String,
    #[serde(default)]
    tenant_id: String,
    password_login: Option<String>,
    mfa_required: Option<String>,
    sso_enabled: Option<String>,
    allow_guests: Option<String>,
    jit: Option<String>,
    #[serde(default)]
    allowed_domains: String,
    #[serde(default)]
    idle_timeout: String,
    #[serde(default)]
    absolute_timeout: String,
}

fn duration_field(label: &str, text: &str) -> Result<Option<i64>, ServiceError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    parse_duration(text).map(Some).ok_or_else(|| {
        ServiceError::Invalid(format!("{label}: use a duration like 30m, 12h or 1h30m."))
    })
}

/// `POST /admin/clients/{slug}`: the settings form (unchecked boxes mean off).
pub async fn save(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    path: web::Path<SlugPath>,
    form: CsrfForm<SettingsFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let f = form.0;
    let on = |v: &Option<String>| Some(v.as_deref() == Some("on"));
    let update = (|| {
        Ok::<_, ServiceError>(ClientUpdate {
            name: Some(f.name.clone()),
            accent: Some(f.accent.clone()),
            logo: None,
            totp_issuer: Some(f.totp_issuer.clone()),
            footer: Some(f.footer.clone()),
            tenant_id: Some(f.tenant_id.clone()),
            password_login: on(&f.password_login),
            mfa_required: on(&f.mfa_required),
            sso_enabled: on(&f.sso_enabled),
            jit: on(&f.jit),
            allowed_domains: Some(f.allowed_domains.clone()),
            allow_guests: on(&f.allow_guests),
            idle_timeout_secs: Some(duration_field("Session idle timeout", &f.idle_timeout)?),
            absolute_timeout_secs: Some(duration_field("Session lifetime", &f.absolute_timeout)?),
        })
    })();
    let result = match update {
        Ok(update) => {
            state
                .services
                .update_client(actor(&admin, &origin), path.slug.clone(), update)
                .await
        }
        Err(e) => Err(e),
    };
    if matches!(result, Err(ServiceError::NotFound(_))) {
        return Err(WebError::NotFound);
    }
    let said = said(result, |_| "Settings saved.".to_owned())?;
    answer(
        &req,
        &admin,
        &path.slug,
        ClientPage {
            said: Some(said),
            consent_link: None,
            test: None,
            csrf: &csrf.0,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct ActionPath {
    #[serde(rename = "client")]
    slug: String,
    action: String,
}

#[derive(Debug, Deserialize)]
pub struct ActionFields {
    #[serde(default)]
    confirm: String,
}

/// `POST /admin/clients/{slug}/do/{action}`
pub async fn action(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    origin: ClientOrigin,
    path: web::Path<ActionPath>,
    form: CsrfForm<ActionFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let services = &state.services;
    let slug = path.slug.clone();
    if matches!(
        services.client_by_slug(&slug),
        Err(ServiceError::NotFound(_))
    ) {
        return Err(WebError::NotFound);
    }
    let who = actor(&admin, &origin);
    let mut page = ClientPage {
        said: None,
        consent_link: None,
        test: None,
        csrf: &csrf.0,
    };
    page.said = Some(match path.action.as_str() {
        "enable" => said(
            services.set_client_enabled(who, slug.clone(), true).await,
            |_| "Portal enabled.".to_owned(),
        )?,
        "disable" => said(
            services.set_client_enabled(who, slug.clone(), false).await,
            |_| "Portal disabled; its users were signed out.".to_owned(),
        )?,
        "sso-only-on" => said(
            services.set_client_sso_only(who, slug.clone(), true).await,
            |n| format!("SSO-only is on; {n} password session(s) ended."),
        )?,
        "remove-logo" => {
            let update = ClientUpdate {
                logo: Some(None),
                ..ClientUpdate::default()
            };
            said(
                services.update_client(who, slug.clone(), update).await,
                |_| "Logo removed.".to_owned(),
            )?
        }
        "revoke-sessions" if form.0.confirm != "yes" => Said::Error(
            StatusCode::BAD_REQUEST,
            "Tick the box to confirm ending every session of this portal.".to_owned(),
        ),
        "revoke-sessions" => {
            let realm = services.client_realm(&slug)?;
            said(services.revoke_all_sessions(who, realm, None).await, |n| {
                format!("{n} session(s) ended; the client's users sign in again.")
            })?
        }
        "passkey-sign-in-on" => said(
            services
                .set_client_passkey_sign_in(who, slug.clone(), true)
                .await,
            |_| "Passkey sign-in is on for this portal.".to_owned(),
        )?,
        "passkey-sign-in-off" => said(
            services
                .set_client_passkey_sign_in(who, slug.clone(), false)
                .await,
            |_| "Passkey sign-in is off for this portal.".to_owned(),
        )?,
        "sso-only-off" => said(
            services.set_client_sso_only(who, slug.clone(), false).await,
            |_| "SSO-only is off.".to_owned(),
        )?,
        "consent-link" => match services.consent_link(who, slug.clone()).await {
            Ok(link) => {
                page.consent_link = Some(link);
                Said::Notice("Send this link to the client's Entra administrator.".to_owned())
            }
            Err(e) => said(Err::<(), _>(e), |_| String::new())?,
        },
        "test" => match services.test_client_connection(who, slug.clone()).await {
            Ok(test) => {
                let notice = if test.passed {
                    "Connection test passed."
                } else {
                    "Connection test failed."
                };
                page.test = Some(test);
                Said::Notice(notice.to_owned())
            }
            Err(e) => said(Err::<(), _>(e), |_| String::new())?,
        },
        "remove" => {
            if form.0.confirm.trim() != slug {
                Said::Error(
                    StatusCode::BAD_REQUEST,
                    "Type the client's slug exactly to confirm removal.".to_owned(),
                )
            } else {
                services.remove_client(who, slug.clone()).await?;
                return Ok(see_other("/admin/clients"));
            }
        }
        _ => return Err(WebError::NotFound),
    });
    answer(&req, &admin, &slug, page)
}

impl ClientFacts {
    /// What the pages show of `c`, mapped once here.
    fn of(c: &Client) -> ClientFacts {
        ClientFacts {
            slug: c.slug.clone(),
            name: c.name.clone(),
            enabled: c.enabled,
            accent: c.accent.clone(),
            totp_issuer: c.totp_issuer.clone(),
            footer: c.footer.clone(),
            has_logo: c.logo.is_some(),
            version: c.updated_at.0,
            password_login: c.password_login,
            mfa_required: c.mfa_required,
            sso_enabled: c.sso_enabled,
            tenant_id: c.tenant_id.clone(),
            sso_only: c.sso_only,
            passkey_sign_in: c.passkey_sign_in,
            jit: c.jit,
            allowed_domains: c.allowed_domains.clone(),
            allow_guests: c.allow_guests,
            idle_timeout_secs: c.idle_timeout_secs,
            absolute_timeout_secs: c.absolute_timeout_secs,
            consent: c.consent.clone(),
        }
    }
}

//! The admin console (staff admins only): dashboard, staff users, audit log. Every
//! change needs a recent authentication (the step-up gate around the whole scope).

mod branding;
mod clients;
mod confirmations;
mod email;
mod logo;
mod portal_app;
mod providers;
mod provisioning;
mod sign_in_options;
mod sso;
mod step_up;
mod users;

use actix_web::http::StatusCode;
use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::csrf::{CsrfForm, CsrfToken};
use super::error::{WebError, WebResult};
use super::paths;
use super::request::{AdminSession, ClientOrigin, StaffAdmin};
use super::views::admin::{AuditView, DashboardView, Warning, audit_page, dashboard_page};
use super::views::layout::{Chrome, Nav};
use super::{AppState, html, see_other};
use crate::domain::audit_filter::AuditFilter;
use crate::domain::user::Realm;
use crate::service::admin::AdminActor;
use crate::service::sso::secret_expiry::{ExpiringSecret, SecretOwner};

/// The admin console's routes, in one scope behind the step-up [`step_up::gate`]:
/// every state-changing request under `/admin` passes it, so no admin form can skip
/// it.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // Routes inside the scope are relative to it.
    let at = |path: &'static str| path.strip_prefix(paths::ADMIN).unwrap_or(path);
    cfg.service(
        web::scope(paths::ADMIN)
            .wrap(from_fn(step_up::gate))
            .route(at(paths::ADMIN), web::get().to(dashboard))
            .route(at(paths::ADMIN_CONFIRM), web::get().to(step_up::page))
            .route(at(paths::ADMIN_CONFIRM), web::post().to(step_up::confirm))
            .route(
                at(paths::ADMIN_CONFIRM_MICROSOFT),
                web::post().to(step_up::confirm_with_microsoft),
            )
            .route(at(paths::ADMIN_USERS), web::get().to(users::list))
            .route(at(paths::ADMIN_USERS), web::post().to(users::invite))
            .route(at(paths::ADMIN_USER), web::get().to(users::detail))
            .route(at(paths::ADMIN_USER_ACTION), web::post().to(users::action))
            .route(
                at(paths::ADMIN_USER_ACTION),
                web::get().to(confirmations::user_action),
            )
            .route(
                at(paths::ADMIN_CLIENT_USER_ACTION),
                web::get().to(confirmations::user_action),
            )
            .route(
                at(paths::ADMIN_CLIENT_ACTION),
                web::get().to(confirmations::client_action),
            )
            .route(at(paths::ADMIN_PORTAL), web::get().to(portal_app::portal))
            .route(
                at(paths::ADMIN_PORTAL),
                web::post().to(portal_app::save_portal),
            )
            .route(at(paths::ADMIN_CLIENTS), web::get().to(clients::list))
            .route(at(paths::ADMIN_CLIENTS), web::post().to(clients::create))
            .route(at(paths::ADMIN_CLIENT), web::get().to(clients::detail))
            .route(at(paths::ADMIN_CLIENT), web::post().to(clients::save))
            .route(
                at(paths::ADMIN_CLIENT_ACTION),
                web::post().to(clients::action),
            )
            .route(at(paths::ADMIN_CLIENT_LOGO), web::post().to(logo::upload))
            .route(at(paths::ADMIN_BRANDING), web::get().to(branding::page))
            .route(at(paths::ADMIN_BRANDING), web::post().to(branding::save))
            .route(
                at(paths::ADMIN_BRANDING_LOGO),
                web::post().to(branding::upload_logo),
            )
            .route(at(paths::ADMIN_CLIENT_USERS), web::get().to(users::list))
            .route(at(paths::ADMIN_CLIENT_USERS), web::post().to(users::invite))
            .route(at(paths::ADMIN_CLIENT_USER), web::get().to(users::detail))
            .route(
                at(paths::ADMIN_CLIENT_USER_ACTION),
                web::post().to(users::action),
            )
            .route(at(paths::ADMIN_AUDIT), web::get().to(audit))
            .route(at(paths::ADMIN_EMAIL), web::get().to(email::page))
            .route(
                at(paths::ADMIN_EMAIL_TEST),
                web::post().to(email::send_test),
            )
            .route(
                at(paths::ADMIN_SESSIONS_REVOKE),
                web::post().to(revoke_all_sessions),
            )
            .route(at(paths::ADMIN_SSO), web::get().to(sso::page))
            .route(at(paths::ADMIN_SSO), web::post().to(sso::save))
            .route(at(paths::ADMIN_SSO_ENABLE), web::post().to(sso::enable))
            .route(at(paths::ADMIN_SSO_DISABLE), web::post().to(sso::disable))
            .route(at(paths::ADMIN_SSO_TEST), web::post().to(sso::test))
            .route(
                at(paths::ADMIN_SSO_TEST_SIGN_IN),
                web::post().to(crate::web::handlers::sso::test_sign_in),
            )
            .route(at(paths::ADMIN_SSO_ONLY), web::post().to(sso::sso_only))
            .route(
                at(paths::ADMIN_SSO_SIGN_IN_OPTION),
                web::post().to(sign_in_options::switch),
            )
            .route(
                at(paths::ADMIN_CLIENT_SIGN_IN_OPTION),
                web::post().to(sign_in_options::switch),
            )
            .route(
                at(paths::ADMIN_SSO_PROVIDERS),
                web::get().to(providers::page),
            )
            .route(
                at(paths::ADMIN_SSO_PROVIDERS),
                web::post().to(providers::add),
            )
            .route(
                at(paths::ADMIN_SSO_PROVIDER_ACTION),
                web::post().to(providers::action),
            )
            .route(
                at(paths::ADMIN_CLIENT_PROVIDERS),
                web::get().to(providers::page),
            )
            .route(
                at(paths::ADMIN_CLIENT_PROVIDERS),
                web::post().to(providers::add),
            )
            .route(
                at(paths::ADMIN_CLIENT_PROVIDER_ACTION),
                web::post().to(providers::action),
            )
            .route(
                at(paths::ADMIN_PROVISIONING),
                web::get().to(provisioning::staff_page),
            )
            .route(
                at(paths::ADMIN_PROVISIONING_TOKENS),
                web::post().to(provisioning::staff_create),
            )
            .route(
                at(paths::ADMIN_PROVISIONING_REVOKE),
                web::post().to(provisioning::revoke),
            )
            .route(
                at(paths::ADMIN_PROVISIONING_SWEEP),
                web::post().to(provisioning::sweep),
            )
            .route(
                at(paths::ADMIN_CLIENT_PROVISIONING),
                web::get().to(provisioning::client_page),
            )
            .route(
                at(paths::ADMIN_CLIENT_PROVISIONING_TOKENS),
                web::post().to(provisioning::client_create),
            )
            .route(
                at(paths::ADMIN_CLIENT_PROVISIONING_REVOKE),
                web::post().to(provisioning::revoke),
            )
            .route(
                at(paths::ADMIN_CLIENT_PROVISIONING_SWEEP),
                web::post().to(provisioning::sweep),
            )
            .route(
                at(paths::ADMIN_PASSKEY_SIGN_IN),
                web::post().to(passkey_sign_in),
            ),
    );
}

/// The page frame of admin pages.
fn admin_chrome<'a>(title: &'a str, me: &'a AdminSession, csrf: &'a str) -> Chrome<'a> {
    let staff = super::paths::RealmPaths::staff();
    Chrome {
        title,
        brand: &me.console_name,
        style_url: None,
        logo_url: me.logo_url.as_deref(),
        card_logo: None,
        footer: Some(crate::web::views::layout::STAFF_FOOTER),
        nav: Some(Nav {
            user_name: me.user.name_or_email(),
            account_url: staff.account(),
            logout_url: staff.logout(),
            csrf,
            admin: true,
        }),
    }
}

#[derive(Debug, Deserialize)]
struct DashboardQuery {
    /// Set by the redirect after "End all sessions".
    ended: Option<usize>,
    /// Set by the redirect after the passkey sign-in switch (`on` or `off`).
    passkeys: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SwitchFields {
    #[serde(default)]
    state: String,
}

/// `POST /admin/passkey-sign-in`: the staff switch for signing in with a passkey alone.
async fn passkey_sign_in(
    req: HttpRequest,
    admin: StaffAdmin,
    origin: crate::web::request::ClientOrigin,
    form: crate::web::csrf::CsrfForm<SwitchFields>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let on = match form.0.state.as_str() {
        "on" => true,
        "off" => false,
        _ => {
            return Err(super::error::WebError::BadForm(
                "choose on or off".to_owned(),
            ));
        }
    };
    let actor = AdminActor::user(&admin.0.user, &origin.0.ip);
    state.services.set_staff_passkey_sign_in(actor, on).await?;
    Ok(super::see_other(&format!(
        "{}?passkeys={}",
        paths::ADMIN,
        if on { "on" } else { "off" }
    )))
}

/// `GET /admin`
async fn dashboard(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    query: web::Query<DashboardQuery>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let figures = state.services.dashboard()?;
    let mut warnings = Vec::new();
    if figures.staff_admins == 1 {
        warnings.push(Warning {
            text:
                "There is only one active admin. Invite a second one so you are never locked out."
                    .to_owned(),
        });
    }
    let sso = state.services.staff_sso_summary().await?;
    for secret in state.services.expiring_secrets()? {
        warnings.push(Warning {
            text: expiry_text(&secret),
        });
    }
    let mail = state.services.mail_status();
    if mail.failed > 0 {
        warnings.push(Warning {
            text: format!(
                "{} email(s) could not be sent since the server started. See Email for the reasons.",
                mail.failed
            ),
        });
    }
    if sso.enabled && !sso.tested_ok {
        warnings.push(Warning {
            text: "Microsoft sign-in settings changed since the last successful connection test. Run the test under Microsoft sign-in.".to_owned(),
        });
    }
    let count = |n: usize| n as u64;
    Ok(html(
        StatusCode::OK,
        dashboard_page(&DashboardView {
            chrome: admin_chrome("Dashboard", &admin.0, &csrf.0),
            warnings: &warnings,
            figures: vec![
                (count(figures.staff_users), "staff users"),
                (count(figures.staff_admins), "active admins"),
                (figures.sessions, "sessions"),
                (count(figures.failed_logins_24h), "failed sign-ins (24 h)"),
            ],
            break_glass: &figures.break_glass_logins,
            recent: figures.recent.iter().map(|(_, e)| e).collect(),
            notice: query
                .ended
                .map(|n| format!("{n} session(s) ended; everyone else signs in again."))
                .or_else(|| {
                    query.passkeys.as_deref().map(|s| {
                        format!(
                            "Staff passkey sign-in is {}.",
                            if s == "on" { "on" } else { "off" }
                        )
                    })
                }),
            passkey_sign_in: state.services.staff_passkey_sign_in()?,
            csrf: &csrf.0,
        }),
    ))
}

/// A dashboard warning about a client secret that expires soon or has expired,
/// naming whose it is and where to enter a new one.
fn expiry_text(secret: &ExpiringSecret) -> String {
    let (whose, fix) = match &secret.owner {
        SecretOwner::StaffApp => (
            "The Microsoft sign-in client secret".to_owned(),
            "Create a new one in Entra and enter it under Microsoft sign-in.".to_owned(),
        ),
        SecretOwner::PortalApp => (
            "The portal app client secret (every client's Microsoft sign-in uses it)".to_owned(),
            "Create a new one in Entra and enter it under Portal app.".to_owned(),
        ),
        SecretOwner::Provider { client, id, name } => {
            let (realm, page) = match client {
                None => ("Staff".to_owned(), paths::ADMIN_SSO_PROVIDERS.to_owned()),
                Some((slug, client)) => (
                    format!("Client {client}"),
                    format!("{}/{slug}/providers", paths::ADMIN_CLIENTS),
                ),
            };
            (
                format!("{realm}: the client secret of identity provider {name} ({id})"),
                format!(
                    "Create a new one at the provider and enter it in the provider's settings at {page}."
                ),
            )
        }
    };
    let date = &secret.expires;
    if secret.days < 0 {
        format!("{whose} expired on {date}. {fix}")
    } else {
        format!("{whose} expires on {date} (in {} days). {fix}", secret.days)
    }
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    before: Option<u64>,
    /// `staff`, a client's slug, or empty for every realm.
    #[serde(default)]
    realm: String,
    /// Part of an email.
    #[serde(default)]
    who: String,
    /// Part of an event name.
    #[serde(default)]
    kind: String,
}

const AUDIT_PAGE: usize = 100;

/// `GET /admin/audit`
async fn audit(
    req: HttpRequest,
    admin: StaffAdmin,
    csrf: CsrfToken,
    query: web::Query<AuditQuery>,
) -> WebResult<HttpResponse> {
    let state = AppState::of(&req);
    let clients = state.services.list_clients()?;
    let realm = match query.realm.as_str() {
        "" => None,
        "staff" => Some(Realm::Staff),
        slug => Some(
            clients
                .iter()
                .find(|c| c.slug == slug)
                .map(|c| Realm::Client(c.id))
                .ok_or_else(|| WebError::BadForm("no such client".to_owned()))?,
        ),
    };
    let filter = AuditFilter::new(realm, &query.who, &query.kind);
    let found = state
        .services
        .audit_search(&filter, AUDIT_PAGE, query.before)?;
    let events = found.events;
    let older = found.next_before.map(|seq| {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("before", &seq.to_string())
            .append_pair("realm", &query.realm)
            .append_pair("who", &query.who)
            .append_pair("kind", &query.kind)
            .finish();
        format!("{}?{q}", paths::ADMIN_AUDIT)
    });
    let realms: Vec<(String, String)> = std::iter::once(("staff".to_owned(), "Staff".to_owned()))
        .chain(clients.iter().map(|c| (c.slug.clone(), c.name.clone())))
        .collect();
    Ok(html(
        StatusCode::OK,
        audit_page(&AuditView {
            chrome: admin_chrome("Audit log", &admin.0, &csrf.0),
            events: &events,
            older,
            realms: &realms,
            realm: &query.realm,
            who: &query.who,
            kind: &query.kind,
            filtered: !filter.is_empty(),
        }),
    ))
}

#[derive(Debug, Deserialize)]
struct ConfirmFields {
    #[serde(default)]
    confirm: String,
}

/// `POST /admin/sessions/revoke-all`: every staff session but the admin's own ends,
/// once the box is ticked; then back to the dashboard (POST-redirect-GET).
async fn revoke_all_sessions(
    req: HttpRequest,
    admin: StaffAdmin,
    origin: ClientOrigin,
    form: CsrfForm<ConfirmFields>,
) -> WebResult<HttpResponse> {
    if form.0.confirm != "yes" {
        return Err(WebError::BadForm(
            "tick the box to confirm ending every session".to_owned(),
        ));
    }
    let state = AppState::of(&req);
    let ended = state
        .services
        .revoke_all_sessions(
            AdminActor::user(&admin.0.user, &origin.0.ip),
            Realm::Staff,
            Some(admin.0.key),
        )
        .await?;
    Ok(see_other(&format!("{}?ended={ended}", paths::ADMIN)))
}

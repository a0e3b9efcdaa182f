//! Step-up for admin changes (issue 13, item 3): every admin form is refused without
//! a recent full authentication and changes nothing, and works after a step-up; a
//! fresh sign-in counts; the step-up page returns only to admin pages.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use actix_web::http::StatusCode;

use crate::common::sso::{app_with_entra, configure_staff_sso};
use crate::common::staff::enrolled_admin;
use crate::common::{Browser, TestApp};
use gatehouse::domain::session::STEP_UP_WINDOW_SECS;
use gatehouse::domain::user::{Realm, Role};
use gatehouse::service::admin::AdminActor;

const PASSWORD: &str = "correct horse battery";

/// Every admin route that takes a POST (besides the step-up itself), as registered.
const ADMIN_POST_ROUTES: [&str; 15] = [
    "/admin/users",
    "/admin/users/{id}/{action}",
    "/admin/portal",
    "/admin/clients",
    "/admin/clients/{client}",
    "/admin/clients/{client}/do/{action}",
    "/admin/clients/{client}/logo",
    "/admin/clients/{client}/users",
    "/admin/clients/{client}/users/{id}/{action}",
    "/admin/sso",
    "/admin/sso/disable",
    "/admin/sso/test",
    "/admin/sso/test-sign-in",
    "/admin/sso/sso-only",
    "/admin/sessions/revoke-all",
];

fn fits(pattern: &str, path: &str) -> bool {
    let (p, q): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    p.len() == q.len()
        && p.iter()
            .zip(&q)
            .all(|(want, got)| want.starts_with('{') || want == got)
}

/// An app with staff SSO set up and tested, admin Ann signed in (and enrolled), a staff
/// member Bob with an authenticator, and a client `acme` with a portal user.
async fn populated() -> (
    TestApp,
    crate::common::fake_entra::FakeEntra,
    Browser,
    String,
) {
    let (app, fake) = app_with_entra().await;
    configure_staff_sso(&app, false, "").await;
    app.create_admin("ann@example.com", PASSWORD).await;
    let mut ann = app.browser();
    ann.sign_in(&app, "ann@example.com", PASSWORD, None).await;
    let (secret, _) = ann.enrol(&app).await;

    let invitation = app
        .services
        .invite(
            AdminActor::cli(),
            Realm::Staff,
            "bob@example.com".into(),
            "Bob".into(),
            Role::Member,
        )
        .await
        .unwrap();
    let mut bob = app.browser();
    let path = invitation.link.trim_start_matches("http://localhost:8080");
    bob.get(path).await;
    bob.post(
        path,
        &[
            ("password", "bobs long password"),
            ("password_confirm", "bobs long password"),
        ],
    )
    .await;
    bob.enrol(&app).await;

    app.services
        .create_client(AdminActor::cli(), "acme".into(), "Acme".into())
        .await
        .unwrap();
    let realm = app.services.client_realm("acme").unwrap();
    app.services
        .invite(
            AdminActor::cli(),
            realm,
            "carol@acme.example".into(),
            "Carol".into(),
            Role::Member,
        )
        .await
        .unwrap();
    (app, fake, ann, secret)
}

/// Every admin page reachable by links from `/admin`, and the POST forms on them:
/// action → hidden fields.
async fn crawl(browser: &mut Browser) -> BTreeMap<String, Vec<(String, String)>> {
    let mut queue = VecDeque::from(["/admin".to_owned()]);
    let mut seen = BTreeSet::new();
    let mut forms = BTreeMap::new();
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) || seen.len() > 80 {
            continue;
        }
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        for link in page.links() {
            if link.starts_with("/admin") && !link.starts_with("/admin/confirm") {
                queue.push_back(link);
            }
        }
        for (action, fields) in page.post_forms() {
            if action.starts_with("/admin") {
                forms.entry(action).or_insert(fields);
            }
        }
    }
    forms
}

/// Things the admin forms change, as the services report them.
#[derive(Debug, PartialEq)]
struct Observed {
    audit_events: usize,
    bob_role: Role,
    bob_has_totp: bool,
    bob_status: String,
    staff_users: usize,
    sso: (String, String, bool, bool),
    sso_only: bool,
    clients: Vec<(String, bool)>,
    carol_invited: usize,
}

async fn observe(app: &TestApp) -> Observed {
    let s = &app.services;
    let bob = s.user_by_email(Realm::Staff, "bob@example.com").unwrap();
    let sso = s.staff_sso_summary().await.unwrap();
    let acme = app.services.client_realm("acme").ok();
    Observed {
        audit_events: s.audit_log(100_000, None).unwrap().len(),
        bob_role: bob.role,
        bob_has_totp: bob.totp.is_some(),
        bob_status: format!("{:?}", bob.status),
        staff_users: s.list_users(Realm::Staff).unwrap().len(),
        sso: (sso.tenant, sso.client_id, sso.enabled, sso.tested_ok),
        sso_only: s.login_options(Realm::Staff).unwrap().sso_only,
        clients: ["acme", "newco"]
            .iter()
            .map(|slug| {
                let portal = s.portal(slug).unwrap();
                (slug.to_string(), portal.is_some_and(|p| p.enabled))
            })
            .collect(),
        carol_invited: acme.map_or(0, |r| s.list_users(r).unwrap().len()),
    }
}

/// Plausible visible fields, so that a form that got through would really change
/// something.
fn with_inputs(action: &str, hidden: &[(String, String)]) -> Vec<(String, String)> {
    let mut fields = hidden.to_vec();
    let extra: &[(&str, &str)] = match action {
        "/admin/users" => &[
            ("email", "dan@example.com"),
            ("name", "Dan"),
            ("role", "admin"),
        ],
        "/admin/clients" => &[("slug", "newco"), ("name", "New Co")],
        "/admin/sso" => &[
            ("tenant_id", "99999999-8888-4777-8666-555555555555"),
            ("client_id", "aaaaaaaa-bbbb-4ccc-8ddd-000000000000"),
            ("client_secret", "stolen-session-secret"),
        ],
        a if a.ends_with("/users") => &[("email", "eve@acme.example"), ("name", "Eve")],
        _ => &[],
    };
    fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    fields
}

async fn post_form(
    browser: &mut Browser,
    action: &str,
    fields: &[(String, String)],
) -> crate::common::Page {
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    browser.post(action, &refs).await
}

#[actix_web::test]
async fn every_admin_form_is_refused_without_a_recent_step_up_and_changes_nothing() {
    let (app, _fake, mut ann, secret) = populated().await;
    let mut forms = crawl(&mut ann).await;
    // Shown only while SSO is off.
    forms.insert("/admin/sso/enable".to_owned(), Vec::new());
    for route in ADMIN_POST_ROUTES {
        assert!(
            forms.keys().any(|action| fits(route, action)),
            "the crawl found a form for {route}: {:?}",
            forms.keys()
        );
    }
    // Every form the console offers is under the gate.
    app.clock.advance(STEP_UP_WINDOW_SECS + 1);
    let before = observe(&app).await;
    for (action, hidden) in &forms {
        let page = post_form(&mut ann, action, &with_inputs(action, hidden)).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "{action}: {}",
            page.body
        );
        assert!(
            page.location().starts_with("/admin/confirm?next=%2Fadmin"),
            "{action} → {}",
            page.location()
        );
    }
    assert_eq!(observe(&app).await, before, "nothing changed");

    // The refusal sends the admin to confirm, then back to the page the form was on.
    let bob = app
        .services
        .user_by_email(Realm::Staff, "bob@example.com")
        .unwrap();
    let action = format!("/admin/users/{}/make-admin", bob.id);
    let page = ann.post(&action, &[]).await;
    let back = format!("/admin/users/{}", bob.id);
    assert_eq!(
        page.location(),
        format!("/admin/confirm?next=%2Fadmin%2Fusers%2F{}", bob.id)
    );
    let confirm_url = page.location().to_owned();
    let confirm = ann.get(&confirm_url).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.has("Confirm it is you") && confirm.has("10 minutes"));
    let page = ann.step_up_at(&confirm_url, &app, PASSWORD, &secret).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(
        page.location(),
        back,
        "back to the form's page, not replayed"
    );
    assert_eq!(observe(&app).await.bob_role, Role::Member, "not replayed");

    // After the step-up, each of them goes through the gate.
    let page = ann.submit(&action, &[]).await;
    assert!(page.has("now an admin"), "{}", page.body);
    let page = ann
        .submit(&format!("/admin/users/{}/reset-mfa", bob.id), &[])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let after = observe(&app).await;
    assert_eq!(after.bob_role, Role::Admin);
    assert!(!after.bob_has_totp, "MFA reset");
    let me = app
        .services
        .user_by_email(Realm::Staff, "ann@example.com")
        .unwrap();
    let on_herself = format!("/admin/users/{}/", me.id);
    for (action, hidden) in forms.iter().filter(|(a, _)| !a.starts_with(&on_herself)) {
        let page = post_form(&mut ann, action, &with_inputs(action, hidden)).await;
        assert!(
            !page.location().starts_with("/admin/confirm"),
            "{action} passes after a step-up"
        );
    }
    let after = observe(&app).await;
    assert_eq!(
        after.sso.0, "99999999-8888-4777-8666-555555555555",
        "SSO settings changed"
    );
    assert!(
        after.clients.contains(&("acme".to_owned(), false))
            && after.clients.contains(&("newco".to_owned(), true)),
        "{:?}",
        after.clients
    );

    // And once the window has passed again, the gate closes again.
    app.clock.advance(STEP_UP_WINDOW_SECS);
    let page = ann.post(&action, &[]).await;
    assert!(page.location().starts_with("/admin/confirm"));
}

#[actix_web::test]
async fn sign_in_counts_as_fresh() {
    let (app, mut ann, secret, _) = enrolled_admin().await;
    ann.sign_in(&app, "ann@example.com", PASSWORD, Some(&secret))
        .await;
    app.clock.advance(STEP_UP_WINDOW_SECS - 60);
    ann.get("/admin/users").await;
    let page = ann
        .submit(
            "/admin/users",
            &[
                ("email", "bob@example.com"),
                ("name", "Bob"),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.input_value("invite-link").is_some());
}

#[actix_web::test]
async fn the_step_up_page_only_returns_to_admin_pages() {
    let (app, mut ann, secret, _) = enrolled_admin().await;
    ann.sign_in(&app, "ann@example.com", PASSWORD, Some(&secret))
        .await;
    ann.get("/admin/confirm").await;
    app.next_step();
    let code = app.code(&secret, 0);
    let page = ann
        .post(
            "/admin/confirm",
            &[
                ("password", PASSWORD),
                ("code", &code),
                ("next", "https://evil.example/admin"),
            ],
        )
        .await;
    assert_eq!(page.location(), "/admin");
}

//! A client's Entra admin grants the portal app consent through the link; the
//! callback records it, bound to the client by a single-use state, and never trusts
//! the tenant it claims.

use actix_web::http::StatusCode;

use crate::common::Browser;
use crate::common::fake_entra::ConsentOutcome;
use crate::common::portal::{PORTAL_ID, TA, TB, portals};
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::client::Consent;
use gatehouse::service::admin::AdminActor;
use gatehouse::service::clients::ClientUpdate;

/// Opens the consent link at the fake (as the client's admin would) and returns the
/// path Entra sends them back to.
async fn consent_at_microsoft(link: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(link).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let path = location
        .strip_prefix("http://localhost:8080")
        .unwrap()
        .to_owned();
    assert!(path.starts_with("/sso/consent?"), "{path}");
    path
}

async fn link(app: &crate::common::TestApp) -> String {
    app.services
        .consent_link(AdminActor::cli(), "acme".into())
        .await
        .unwrap()
}

#[actix_web::test]
async fn the_consent_link_is_exactly_as_designed_and_success_is_recorded() {
    let (app, fake) = portals().await;
    let link = link(&app).await;
    let prefix = format!(
        "{}/{TA}/v2.0/adminconsent?client_id={PORTAL_ID}&scope=openid%20profile%20email&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fsso%2Fconsent&state=",
        fake.base
    );
    assert!(link.starts_with(&prefix), "{link}");
    assert_eq!(link.rsplit("state=").next().unwrap().len(), 43);
    assert_eq!(
        self::link(&app).await,
        link,
        "the same link is shown again while valid"
    );

    let back = consent_at_microsoft(&link).await;
    let mut admin_browser = Browser::clone_from(&app);
    let page = admin_browser.get(&back).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.has("Consent granted"));
    let client = app.services.client_by_slug("acme").unwrap();
    assert!(
        matches!(client.consent, Consent::Granted { .. }),
        "{:?}",
        client.consent
    );
    assert!(client.consent_link.is_none(), "the link is used up");

    // Replaying the answer is refused and changes nothing.
    let page = admin_browser.get(&back).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(matches!(
        app.services.client_by_slug("acme").unwrap().consent,
        Consent::Granted { .. }
    ));
    let events: Vec<_> = app
        .services
        .audit_log(20, None)
        .unwrap()
        .into_iter()
        .filter(|(_, e)| e.kind == AuditKind::ConsentRecorded)
        .collect();
    assert!(
        events
            .iter()
            .any(|(_, e)| e.detail.contains("consent granted"))
    );
}

#[actix_web::test]
async fn an_error_is_checked_before_admin_consent_and_recorded_as_failed() {
    let (app, fake) = portals().await;
    fake.consent_next(ConsentOutcome::Error {
        error: "consent_required".into(),
        description: "AADSTS65001: The user or administrator has not consented.".into(),
    });
    let back = consent_at_microsoft(&link(&app).await).await;
    assert!(
        back.contains("admin_consent=True") && back.contains("error=consent_required"),
        "{back}"
    );
    let page = Browser::clone_from(&app).get(&back).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.has("not granted") && page.has("consent_required"));
    match app.services.client_by_slug("acme").unwrap().consent {
        Consent::Failed {
            error, description, ..
        } => {
            assert_eq!(error, "consent_required");
            assert!(description.contains("AADSTS65001"));
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[actix_web::test]
async fn missing_unknown_and_foreign_states_are_refused() {
    let (app, _fake) = portals().await;
    let mut browser = Browser::clone_from(&app);
    let invitation = crate::common::portal::invite(&app, "acme", "x@acme.example").await;
    let invite_token = invitation.rsplit('/').next().unwrap().to_owned();
    for query in [
        format!("admin_consent=True&tenant={TA}"),
        format!("admin_consent=True&tenant={TA}&state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        format!("admin_consent=True&tenant={TA}&state=short"),
        // A real single-use token of another kind is not a consent state.
        format!("admin_consent=True&tenant={TA}&state={invite_token}"),
    ] {
        let page = browser.get(&format!("/sso/consent?{query}")).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{query}");
    }
    assert_eq!(
        app.services.client_by_slug("acme").unwrap().consent,
        Consent::NotRequested
    );
    assert_eq!(
        browser.get(&invitation).await.status,
        StatusCode::OK,
        "a token of another kind is not consumed"
    );
}

#[actix_web::test]
async fn a_different_tenant_changes_nothing_and_is_logged() {
    let (app, fake) = portals().await;
    fake.consent_claims_tenant(Some(TB));
    let back = consent_at_microsoft(&link(&app).await).await;
    let page = Browser::clone_from(&app).get(&back).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.has("another tenant") && page.has(TB) && page.has(TA),
        "{}",
        page.body
    );
    let client = app.services.client_by_slug("acme").unwrap();
    assert_eq!(client.consent, Consent::NotRequested, "status unchanged");
    assert_eq!(client.tenant_id.as_deref(), Some(TA), "never re-bound");
    let event = app.services.audit_log(1, None).unwrap().remove(0).1;
    assert!(
        event.detail.contains("ignored") && event.detail.contains(TB),
        "{}",
        event.detail
    );
}

#[actix_web::test]
async fn the_client_test_says_when_consent_is_missing() {
    let (app, fake) = portals().await;
    let test = app
        .services
        .test_client_connection(AdminActor::cli(), "acme".into())
        .await
        .unwrap();
    assert!(test.passed, "{:?}", test.items);
    let tc = "cccccccc-0000-4000-8000-00000000000c";
    fake.add_tenant(tc);
    app.services
        .create_client(AdminActor::cli(), "gamma".into(), "Gamma".into())
        .await
        .unwrap();
    app.services
        .update_client(
            AdminActor::cli(),
            "gamma".into(),
            ClientUpdate {
                tenant_id: Some(tc.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let test = app
        .services
        .test_client_connection(AdminActor::cli(), "gamma".into())
        .await
        .unwrap();
    assert!(!test.passed);
    assert!(
        test.items[1].detail.contains("Consent not granted yet")
            && test.items[1].detail.contains("AADSTS700016"),
        "{:?}",
        test.items
    );
}

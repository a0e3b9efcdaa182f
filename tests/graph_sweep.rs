//! The leavers sweep against a fake Microsoft Graph: exactly the users Graph reports
//! deleted (404) or `accountEnabled: false` are disabled and signed out, throttling is
//! waited out, and an outage, a refused permission or an unreachable Graph disable
//! nobody.

use actix_web::http::StatusCode;

use crate::common::fake_entra::FakeEntra;
use crate::common::fake_graph::{FakeGraph, GraphUser};
use crate::common::forward_auth::check;
use crate::common::scim::{Scim, entra_user, token};
use crate::common::sso::{
    CLIENT_ID, CLIENT_SECRET, TENANT, configure_staff_sso, sso_sign_in, user,
};
use crate::common::{TestApp, config_with};
use gatehouse::domain::audit::AuditKind;
use gatehouse::domain::provisioning::SweepOutcome;
use gatehouse::domain::user::{Realm, UserStatus};
use gatehouse::service::provisioning::GraphPermission;

const ACTIVE: &str = "a0000000-0000-4000-8000-000000000001";
const DELETED: &str = "a0000000-0000-4000-8000-000000000002";
const TURNED_OFF: &str = "a0000000-0000-4000-8000-000000000003";
const THROTTLED: &str = "a0000000-0000-4000-8000-000000000004";

/// Staff SSO against the fake Entra, Graph at `graph_host`, four provisioned staff
/// users linked to the tenant.
async fn setup(graph_host: &str) -> (TestApp, FakeEntra) {
    let fake = FakeEntra::start().await;
    fake.add_tenant(TENANT);
    fake.register_app(TENANT, CLIENT_ID, CLIENT_SECRET);
    let app = TestApp::with_config(config_with(&format!(
        "[entra]\nauthority_host = '{}'\nallow_insecure_loopback = true\ngraph_host = '{graph_host}'\n",
        fake.base
    )))
    .await;
    configure_staff_sso(&app, false, "").await;
    let mut scim = Scim::new(&app, &token(&app, Realm::Staff).await);
    for (i, oid) in [ACTIVE, DELETED, TURNED_OFF, THROTTLED].iter().enumerate() {
        let email = format!("user{i}@contoso.com");
        let made = scim
            .post("/scim/v2/Users", entra_user(&email, oid, &email))
            .await;
        assert_eq!(made.status, StatusCode::CREATED);
    }
    (app, fake)
}

fn status(app: &TestApp, i: usize) -> UserStatus {
    app.services
        .user_by_email(Realm::Staff, &format!("user{i}@contoso.com"))
        .unwrap()
        .status
}

#[actix_web::test]
async fn exactly_the_leavers_are_disabled_and_signed_out() {
    let graph = FakeGraph::start().await;
    let (app, fake) = setup(&graph.base).await;
    graph.set(ACTIVE, GraphUser::Enabled);
    graph.set(TURNED_OFF, GraphUser::Disabled);
    graph.set(
        THROTTLED,
        GraphUser::Throttled {
            times: 1,
            secs: 1,
            then: Box::new(GraphUser::Enabled),
        },
    );
    // DELETED is unknown to Graph: 404 Request_ResourceNotFound.

    // The deleted user has a live session.
    let mut leaver = app.browser();
    let page = sso_sign_in(&mut leaver, &fake, user(DELETED, "user1@contoso.com")).await;
    assert_eq!(page.location(), "/account", "{}", page.body);
    assert_eq!(
        check(&mut leaver, "/api/authz/auth-request", &[])
            .await
            .status,
        StatusCode::OK
    );

    let started = std::time::Instant::now();
    let report = app.services.sweep_realm(Realm::Staff).await.unwrap();
    assert_eq!(
        report.outcome,
        SweepOutcome::Completed,
        "{}",
        report.summary()
    );
    assert!(
        started.elapsed().as_millis() >= 1000,
        "Retry-After was honoured"
    );
    assert_eq!(report.checked, 4);
    let mut disabled = report.disabled.clone();
    disabled.sort();
    assert_eq!(disabled, ["user1@contoso.com", "user2@contoso.com"]);
    assert_eq!(
        [0, 1, 2, 3].map(|i| status(&app, i)),
        [
            UserStatus::Active,
            UserStatus::Disabled,
            UserStatus::Disabled,
            UserStatus::Active
        ]
    );
    assert_eq!(
        graph.requests().iter().filter(|o| *o == THROTTLED).count(),
        2
    );
    assert_eq!(
        graph.unauthenticated(),
        0,
        "every Graph call carried the app token"
    );
    assert_eq!(
        check(&mut leaver, "/api/authz/auth-request", &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "the session ended with the sweep"
    );
    let audit = app.services.audit_log(50, None).unwrap();
    let disables: Vec<_> = audit
        .iter()
        .filter(|(_, e)| e.kind == AuditKind::UserDisabled)
        .map(|(_, e)| (e.subject_email.clone(), e.actor_email.clone()))
        .collect();
    assert_eq!(disables.len(), 2, "{disables:?}");
    assert!(
        disables
            .iter()
            .any(|(who, by)| who == "user1@contoso.com" && by.contains("deleted in Entra"))
    );
    assert!(
        disables
            .iter()
            .any(|(who, by)| who == "user2@contoso.com" && by.contains("disabled in Entra"))
    );
    // The report is kept for the admin page and doctor.
    let overview = app
        .services
        .provisioning_overview(Realm::Staff)
        .await
        .unwrap();
    assert_eq!(overview.state.last_sweep.unwrap().disabled.len(), 2);
    assert_eq!(overview.connection.unwrap().1, GraphPermission::Granted);
    let facts = app.services.store_status().unwrap();
    assert_eq!(facts.sweeps.len(), 1);
    assert!(facts.sweeps[0].completed);
    assert!(
        facts.sweeps[0].summary.contains("4 checked, 2 disabled"),
        "{:?}",
        facts.sweeps
    );

    // A second sweep checks only those still active.
    let again = app.services.sweep_realm(Realm::Staff).await.unwrap();
    assert_eq!(again.checked, 2);
    assert!(again.disabled.is_empty());
}

#[actix_web::test]
async fn an_outage_disables_nobody() {
    let graph = FakeGraph::start().await;
    let (app, _fake) = setup(&graph.base).await;
    graph.set(TURNED_OFF, GraphUser::Disabled);
    for status in [503, 500, 502] {
        graph.outage(Some(status));
        let report = app.services.sweep_realm(Realm::Staff).await.unwrap();
        assert!(
            matches!(report.outcome, SweepOutcome::Interrupted { .. }),
            "{report:?}"
        );
        assert!(report.disabled.is_empty());
    }
    graph.outage(None);
    graph.forbid(true);
    let report = app.services.sweep_realm(Realm::Staff).await.unwrap();
    assert_eq!(report.outcome, SweepOutcome::NotGranted);
    assert!(
        report.summary().contains("User.Read.All"),
        "{}",
        report.summary()
    );
    let overview = app
        .services
        .provisioning_overview(Realm::Staff)
        .await
        .unwrap();
    assert_eq!(overview.connection.unwrap().1, GraphPermission::NotGranted);
    let facts = app.services.store_status().unwrap();
    assert!(
        !facts.sweeps[0].completed,
        "doctor warns: {:?}",
        facts.sweeps
    );
    graph.forbid(false);
    // Throttled for longer than the sweep waits: it stops, disabling nobody.
    graph.set(
        ACTIVE,
        GraphUser::Throttled {
            times: 10,
            secs: 1,
            then: Box::new(GraphUser::Deleted),
        },
    );
    let report = app.services.sweep_realm(Realm::Staff).await.unwrap();
    assert!(
        matches!(report.outcome, SweepOutcome::Interrupted { .. }),
        "{report:?}"
    );
    assert!(
        [0, 1, 2, 3]
            .iter()
            .all(|i| status(&app, *i) == UserStatus::Active)
    );
}

#[actix_web::test]
async fn an_unreachable_graph_disables_nobody() {
    let port = crate::common::binary::free_port();
    let (app, _fake) = setup(&format!("http://127.0.0.1:{port}")).await;
    let report = app.services.sweep_realm(Realm::Staff).await.unwrap();
    assert!(
        matches!(report.outcome, SweepOutcome::Interrupted { .. }),
        "{report:?}"
    );
    assert!(
        [0, 1, 2, 3]
            .iter()
            .all(|i| status(&app, *i) == UserStatus::Active)
    );
}

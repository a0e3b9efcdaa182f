//! A client secret of an OpenID Connect provider about to expire (within 30 days) or
//! expired is warned about like the Entra apps' secrets: on the dashboard for every
//! provider of every realm, naming realm and provider; in the provider's connection
//! test; and by `gatehouse doctor`.

use actix_web::http::StatusCode;

use crate::common::TestApp;
use crate::common::binary::Install;
use crate::common::idp::{add_provider, app_with_issuers};
use crate::common::staff::admin;
use gatehouse::domain::user::Realm;
use gatehouse::service::admin::AdminActor;
use gatehouse::service::sso::providers::ProviderInput;

/// `YYYY-MM-DD`, `days` from the unix time `now`.
fn date(now: i64, days: i64) -> String {
    let d = time::OffsetDateTime::from_unix_timestamp(now + days * 86_400).unwrap();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn expiring(name: &str, on: &str) -> ProviderInput {
    ProviderInput {
        name: Some(name.into()),
        secret_expires: Some(on.into()),
        ..ProviderInput::default()
    }
}

async fn client(app: &TestApp, slug: &str, name: &str) -> Realm {
    app.services
        .create_client(AdminActor::cli(), slug.into(), name.into())
        .await
        .unwrap();
    app.services.client_realm(slug).unwrap()
}

#[actix_web::test]
async fn the_dashboard_warns_about_every_realms_provider_secret() {
    let (app, fake) = app_with_issuers().await;
    let now = app.now().0;
    let (soon, past, later) = (date(now, 10), date(now, -3), date(now, 90));
    add_provider(
        &app,
        &fake,
        Realm::Staff,
        "okta",
        "okta",
        expiring("Okta", &soon),
    )
    .await;
    add_provider(
        &app,
        &fake,
        Realm::Staff,
        "kc",
        "keycloak",
        expiring("Keycloak", &later),
    )
    .await;
    let acme = client(&app, "acme", "Acme").await;
    add_provider(
        &app,
        &fake,
        acme,
        "acme-okta",
        "okta",
        expiring("Acme Okta", &past),
    )
    .await;
    let beta = client(&app, "beta", "Beta").await;
    add_provider(
        &app,
        &fake,
        beta,
        "beta-kc",
        "keycloak",
        ProviderInput::default(),
    )
    .await;

    let mut ops = admin(&app).await;
    let page = ops.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.has(&format!(
            "⚠ Staff: the client secret of identity provider Okta (okta) expires on {soon} (in 10 days)."
        )),
        "{}",
        page.body
    );
    assert!(
        page.has(&format!(
            "⚠ Client Acme: the client secret of identity provider Acme Okta (acme-okta) expired on {past}."
        )),
        "{}",
        page.body
    );
    assert!(page.has("class=\"banner warn\""), "looks like a warning");
    assert!(!page.has("(kc) expire"), "90 days away: no warning");
    assert!(
        !page.has("(beta-kc) expire"),
        "no recorded date: no warning"
    );
    assert_eq!(
        page.body
            .matches("the client secret of identity provider")
            .count(),
        2,
        "{}",
        page.body
    );

    // A new date from the provider's edit form ends the warning.
    let saved = ops
        .submit(
            "/admin/sso/providers/okta/save",
            &[
                ("name", "Okta"),
                ("issuer", &fake.generic_issuer("okta")),
                ("client_id", crate::common::idp::OIDC_CLIENT),
                ("secret_expires", &later),
                ("require_verified_email", "on"),
            ],
        )
        .await;
    assert!(saved.has("Saved."), "{}", saved.body);
    let page = ops.get("/admin").await;
    assert!(!page.has("identity provider Okta (okta)"), "{}", page.body);
    assert!(page.has("Acme Okta (acme-okta)"));
}

#[actix_web::test]
async fn the_add_form_takes_an_expiry_date_and_the_connection_test_warns() {
    let (app, fake) = app_with_issuers().await;
    let now = app.now().0;
    let soon = date(now, 5);
    let mut ops = admin(&app).await;
    let form = ops.get("/admin/sso/providers").await;
    assert!(form.has("name=\"secret_expires\""));
    let added = ops
        .submit(
            "/admin/sso/providers",
            &[
                ("id", "okta"),
                ("name", "Okta"),
                ("issuer", &fake.generic_issuer("okta")),
                ("client_id", crate::common::idp::OIDC_CLIENT),
                ("client_secret", crate::common::idp::OIDC_SECRET),
                ("secret_expires", &soon),
            ],
        )
        .await;
    assert!(added.has("Provider added"), "{}", added.body);
    let stored = app
        .services
        .provider_for(Realm::Staff, Some("okta"))
        .unwrap()
        .unwrap();
    assert_eq!(stored.secret_expires.as_deref(), Some(soon.as_str()));
    let list = ops.get("/admin/sso/providers").await;
    assert!(
        list.has(&format!(
            "⚠ Secret set, expires on {soon} (in 5 days — renew it soon)"
        )),
        "the provider list shows it too: {}",
        list.body
    );

    let test = ops.submit("/admin/sso/providers/okta/test", &[]).await;
    assert!(
        test.has("<li class=\"warn\"><strong>⚠ Secret expiry"),
        "{}",
        test.body
    );
    assert!(test.has("expires in 5 day(s)"));
    assert!(
        test.has("Connection test passed"),
        "a warning, not a failure"
    );

    // Expired: the test fails on that line.
    let acme = client(&app, "acme", "Acme").await;
    add_provider(
        &app,
        &fake,
        acme,
        "okta",
        "okta",
        expiring("Okta", &date(now, -1)),
    )
    .await;
    let test = ops
        .submit("/admin/clients/acme/providers/okta/test", &[])
        .await;
    assert!(
        test.has("<li class=\"fail\"><strong>✗ Secret expiry"),
        "{}",
        test.body
    );
    assert!(test.has("Connection test failed"));
}

#[test]
fn doctor_reports_provider_secrets_of_every_realm() {
    let install = Install::new();
    install.cli_ok(
        &[
            "admin",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (soon, past) = (date(now, 7), date(now, -2));
    let add = |client: Option<&str>, id: &str, expires: &str| {
        let mut args = vec![
            "idp",
            "add",
            "--id",
            id,
            "--kind",
            "oidc",
            "--name",
            "Okta",
            "--issuer",
            "https://okta.example.com",
            "--client-id",
            "rp",
            "--client-secret-stdin",
            "--secret-expires",
            expires,
        ];
        if let Some(slug) = client {
            args.extend(["--client", slug]);
        }
        install.cli_ok(&args, "a-provider-secret-value\n");
    };
    install.cli_ok(&["client", "add", "--slug", "acme", "--name", "Acme"], "");
    add(None, "okta", &soon);
    add(Some("acme"), "acme-okta", &past);
    let out = install.cli(&["doctor"], "");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "an expired secret is an error:\n{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("warn")
            && l.contains(&format!(
                "identity provider Okta (okta) of staff client secret expires on {soon}"
            ))),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("error")
            && l.contains(&format!(
                "identity provider Okta (acme-okta) of client Acme (acme) client secret EXPIRED on {past}"
            ))),
        "{text}"
    );
}

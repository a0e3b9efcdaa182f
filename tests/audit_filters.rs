//! The audit log can be narrowed by realm, person and kind of event, and paged with
//! the filter kept.

use actix_web::http::StatusCode;
use gatehouse::domain::user::{Realm, Role};
use gatehouse::service::admin::AdminActor;

use crate::common::portal::invite;
use crate::common::staff::admin;
use crate::common::{Page, TestApp};

/// The rows of the audit table: (event, who, about).
fn rows(page: &Page) -> Vec<(String, String, String)> {
    let Some(body) = page.body.split("<tbody>").nth(1) else {
        return Vec::new();
    };
    body.split("<tr")
        .skip(1)
        .map(|row| {
            let cells: Vec<String> = row
                .split("<td>")
                .skip(1)
                .map(|c| c.split("</td>").next().unwrap_or_default().to_owned())
                .collect();
            (cells[1].clone(), cells[2].clone(), cells[3].clone())
        })
        .collect()
}

#[actix_web::test]
async fn the_audit_log_filters_by_realm_person_and_kind_and_pages_with_the_filter() {
    let app = TestApp::new().await;
    let mut ops = admin(&app).await;
    app.services
        .create_client(AdminActor::cli(), "acme".into(), "Acme Ltd".into())
        .await
        .unwrap();
    invite(&app, "acme", "pat@acme.example").await;
    for i in 0..110 {
        app.services
            .invite(
                AdminActor::cli(),
                Realm::Staff,
                format!("person{i:03}@example.com"),
                String::new(),
                Role::Member,
            )
            .await
            .unwrap();
    }

    // Everything: a full page and a link to older events.
    let page = ops.get("/admin/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(rows(&page).len(), 100);

    // Acme's realm only.
    let page = ops.get("/admin/audit?realm=acme").await;
    let acme = rows(&page);
    assert!(!acme.is_empty());
    assert!(
        acme.iter().all(|(_, _, about)| !about.contains("person")),
        "{acme:?}"
    );
    assert!(acme.iter().any(|(_, _, about)| about == "pat@acme.example"));

    // One person, whatever the case typed.
    let page = ops.get("/admin/audit?who=PERSON007").await;
    let one = rows(&page);
    assert_eq!(one.len(), 1, "{one:?}");
    assert_eq!(one[0].2, "person007@example.com");

    // A kind, paged: 110 staff invitations (plus Acme's one) over two pages.
    let page = ops.get("/admin/audit?realm=staff&kind=invite").await;
    let first = rows(&page);
    assert_eq!(first.len(), 100);
    assert!(first.iter().all(|(kind, _, _)| kind.contains("invite")));
    let older = page
        .links()
        .into_iter()
        .find(|l| l.contains("before="))
        .expect("a link to older events");
    assert!(
        older.contains("realm=staff") && older.contains("kind=invite"),
        "{older}"
    );
    let page = ops.get(&older).await;
    let second = rows(&page);
    assert_eq!(second.len(), 10, "{second:?}");
    assert!(
        page.links().iter().all(|l| !l.contains("before=")),
        "no third page"
    );

    // Nothing matches: said so. An unknown client is a clear 400.
    let page = ops.get("/admin/audit?who=nobody-at-all").await;
    assert!(page.has("No events match this filter"));
    assert_eq!(
        ops.get("/admin/audit?realm=no-such-client").await.status,
        StatusCode::BAD_REQUEST
    );
}

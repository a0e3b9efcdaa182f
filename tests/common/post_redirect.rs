//! POST-redirect-GET in tests (DESIGN §11): a form answers `303 See Other` to its page
//! with a one-time flash (`?done=`); the page shows it once, and a reload repeats
//! nothing (the audit log says what happened, and how many times).

use actix_web::http::StatusCode;

use super::{Browser, Page, TestApp};
use gatehouse::domain::audit::AuditKind;

/// How many audit events of `kind` there are.
pub fn audit_count(app: &TestApp, kind: AuditKind) -> usize {
    app.services
        .audit_log(100_000, None)
        .unwrap()
        .iter()
        .filter(|(_, e)| e.kind == kind)
        .count()
}

impl Browser {
    /// Posts `fields` to `path`, checks the answer is a 303 to `page` carrying a flash
    /// (POST-redirect-GET), and opens it; returns (the redirect, the page shown).
    pub async fn post_redirect(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        page: &str,
    ) -> (Page, Page) {
        let answer = self.post(path, fields).await;
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "{path}: {}",
            answer.body
        );
        assert!(
            answer.location().starts_with(&format!("{page}?done=")),
            "{path} → {}",
            answer.location()
        );
        let shown = self.follow(&answer).await;
        assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
        (answer, shown)
    }
}

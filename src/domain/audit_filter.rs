//! Which audit events an admin asked to see: by realm, by person (the actor's or the
//! subject's email) and by kind of event.

use super::audit::AuditEvent;
use super::user::Realm;

/// One page of a filtered audit log, newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditPage {
    pub events: Vec<(u64, AuditEvent)>,
    /// Where the next, older page starts (`before`), when there is one.
    pub next_before: Option<u64>,
}

/// An empty filter matches every event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Events in this realm only.
    pub realm: Option<Realm>,
    /// Part of an email, matched without regard to case against who acted and whom
    /// it was about.
    pub person: Option<String>,
    /// Part of the event's name, e.g. `login` for `login_succeeded` and `login_failed`.
    pub kind: Option<String>,
}

impl AuditFilter {
    /// A filter from what a form or command line gave; blank values mean "any".
    pub fn new(realm: Option<Realm>, person: &str, kind: &str) -> AuditFilter {
        let text = |s: &str| {
            let s = s.trim().to_lowercase();
            (!s.is_empty()).then_some(s)
        };
        AuditFilter {
            realm,
            person: text(person),
            kind: text(kind),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == AuditFilter::default()
    }

    pub fn matches(&self, e: &AuditEvent) -> bool {
        let realm = self.realm.is_none_or(|r| e.realm == Some(r));
        let person = self.person.as_deref().is_none_or(|p| {
            e.actor_email.to_lowercase().contains(p) || e.subject_email.to_lowercase().contains(p)
        });
        let kind = self
            .kind
            .as_deref()
            .is_none_or(|k| e.kind.as_str().contains(k));
        realm && person && kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit::{Actor, AuditKind};
    use crate::domain::time::Timestamp;
    use crate::domain::user::UserId;

    #[test]
    fn each_part_narrows_and_blank_means_any() {
        let ann = UserId(uuid::Uuid::nil());
        let e = AuditEvent::new(AuditKind::LoginFailed, Timestamp(0))
            .by(Actor::User(ann), "Ann@Example.com")
            .in_realm(Realm::Staff);
        assert!(AuditFilter::new(None, " ", "").matches(&e));
        assert!(AuditFilter::new(Some(Realm::Staff), "ann@", "login").matches(&e));
        assert!(AuditFilter::new(None, "ANN", "failed").matches(&e));
        assert!(!AuditFilter::new(None, "bob", "").matches(&e));
        assert!(!AuditFilter::new(None, "", "logout").matches(&e));
        let other = Realm::Client(crate::domain::user::ClientId(uuid::Uuid::nil()));
        assert!(!AuditFilter::new(Some(other), "", "").matches(&e));
    }
}

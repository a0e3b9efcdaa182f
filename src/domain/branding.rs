//! The staff side's own look: the organisation's name and logo on the staff pages
//! (sign-in, account, admin console) and in staff emails. Without them the staff pages
//! say "Gatehouse", as they always did. A client's portal never shows them.

use serde::{Deserialize, Serialize};

use super::client::{Logo, SHORT_TEXT_LIMIT, check_short_text};

/// What the staff pages are called when no organisation name is set.
pub const PRODUCT_NAME: &str = "Gatehouse";

/// The longest organisation name accepted.
pub const ORG_NAME_LIMIT: usize = SHORT_TEXT_LIMIT;

/// The organisation's name and logo for the staff pages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffBranding {
    /// Shown instead of "Gatehouse" in the top bar, page titles and emails.
    #[serde(default)]
    pub org_name: Option<String>,
    /// Shown on the sign-in card and in the top bar.
    #[serde(default)]
    pub logo: Option<Logo>,
    /// Changes with every save (Unix seconds): busts caches of the logo.
    #[serde(default)]
    pub version: i64,
}

/// Why an organisation name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the organisation name must be one line of at most {ORG_NAME_LIMIT} characters")]
pub struct InvalidOrgName;

/// Checks an organisation name: trimmed, one line without control characters, at most
/// [`ORG_NAME_LIMIT`] characters. `Ok(None)` means "none" (an empty name).
pub fn check_org_name(name: &str) -> Result<Option<String>, InvalidOrgName> {
    match check_short_text(name) {
        None => Err(InvalidOrgName),
        Some(name) if name.is_empty() => Ok(None),
        Some(name) => Ok(Some(name)),
    }
}

impl StaffBranding {
    /// The name the staff pages carry: the organisation's, else "Gatehouse".
    pub fn name(&self) -> &str {
        self.org_name.as_deref().unwrap_or(PRODUCT_NAME)
    }

    /// What changed from `before`, for the audit log: "organisation name: none →
    /// Acme Ltd; logo: none → set". The logo's bytes are never shown.
    pub fn changes_since(&self, before: &StaffBranding) -> String {
        fn text(v: &Option<String>) -> String {
            v.clone().unwrap_or_else(|| "none".to_owned())
        }
        fn logo(v: &Option<Logo>) -> &'static str {
            if v.is_some() { "set" } else { "none" }
        }
        let mut changed = Vec::new();
        if before.org_name != self.org_name {
            changed.push(format!(
                "organisation name: {} → {}",
                text(&before.org_name),
                text(&self.org_name)
            ));
        }
        if before.logo != self.logo {
            let what = match (&before.logo, &self.logo) {
                (Some(_), Some(_)) => "logo: replaced".to_owned(),
                (old, new) => format!("logo: {} → {}", logo(old), logo(new)),
            };
            changed.push(what);
        }
        if changed.is_empty() {
            "nothing".to_owned()
        } else {
            changed.join("; ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            check_org_name("  Acme Ltd "),
            Ok(Some("Acme Ltd".to_owned()))
        );
        assert_eq!(check_org_name("   "), Ok(None));
        assert_eq!(check_org_name("Acme\nLtd"), Err(InvalidOrgName));
        assert_eq!(check_org_name("Acme\u{1b}[2J"), Err(InvalidOrgName));
        assert_eq!(
            check_org_name(&"a".repeat(ORG_NAME_LIMIT + 1)),
            Err(InvalidOrgName)
        );
        assert!(check_org_name(&"é".repeat(ORG_NAME_LIMIT)).is_ok());
    }

    #[test]
    fn the_default_is_the_product_name() {
        assert_eq!(StaffBranding::default().name(), "Gatehouse");
    }

    #[test]
    fn changes_name_old_and_new_but_never_logo_bytes() {
        let before = StaffBranding::default();
        let after = StaffBranding {
            org_name: Some("Acme".to_owned()),
            logo: Logo::from_bytes(b"\x89PNG\r\n\x1a\nrest".to_vec()),
            version: 1,
        };
        assert_eq!(
            after.changes_since(&before),
            "organisation name: none → Acme; logo: none → set"
        );
        assert_eq!(after.changes_since(&after), "nothing");
    }
}

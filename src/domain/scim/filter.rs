//! SCIM filters as Entra sends them: one `attribute eq "value"` comparison (RFC 7644
//! §3.4.2.2). Attribute names compare case-insensitively; the value is a JSON string.
//! Anything else is an `invalidFilter` error, never a silent full list.

use super::{ScimError, ScimResult};

/// The attributes a filter may test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterAttr {
    /// `userName` (caseExact false: compared ignoring case).
    UserName,
    /// `externalId` (caseExact true).
    ExternalId,
    /// `id` (caseExact true).
    Id,
    /// `displayName` (groups; caseExact false).
    DisplayName,
    /// `emails.value` or `emails[type eq "work"].value` (caseExact false).
    Email,
}

/// One parsed filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub attr: FilterAttr,
    pub value: String,
}

impl Filter {
    /// Whether `candidate` (the attribute's value on a resource) matches, with the
    /// attribute's case rule.
    pub fn matches(&self, candidate: &str) -> bool {
        match self.attr {
            FilterAttr::ExternalId | FilterAttr::Id => candidate == self.value,
            FilterAttr::UserName | FilterAttr::DisplayName | FilterAttr::Email => {
                candidate.to_lowercase() == self.value.to_lowercase()
            }
        }
    }
}

/// Parses `attr eq "value"`.
pub fn parse(text: &str) -> ScimResult<Filter> {
    let text = text.trim();
    let (attr, rest) = text
        .split_once(char::is_whitespace)
        .ok_or_else(|| ScimError::invalid_filter("expected: attribute eq \"value\""))?;
    let rest = rest.trim_start();
    let (op, value) = rest
        .split_once(char::is_whitespace)
        .ok_or_else(|| ScimError::invalid_filter("expected: attribute eq \"value\""))?;
    if !op.eq_ignore_ascii_case("eq") {
        return Err(ScimError::invalid_filter(
            "only the eq operator is supported",
        ));
    }
    let attr = match attr.to_ascii_lowercase().as_str() {
        "username" | "urn:ietf:params:scim:schemas:core:2.0:user:username" => FilterAttr::UserName,
        "externalid" => FilterAttr::ExternalId,
        "id" => FilterAttr::Id,
        "displayname" => FilterAttr::DisplayName,
        "emails.value" | "emails[type eq \"work\"].value" | "emails" => FilterAttr::Email,
        _ => {
            return Err(ScimError::invalid_filter(
                "filters on userName, externalId, id, displayName or emails.value are supported",
            ));
        }
    };
    let value: serde_json::Value = serde_json::from_str(value.trim())
        .map_err(|_| ScimError::invalid_filter("the value must be a quoted string"))?;
    let serde_json::Value::String(value) = value else {
        return Err(ScimError::invalid_filter(
            "the value must be a quoted string",
        ));
    };
    Ok(Filter { attr, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_filters_parse() {
        let f = parse(r#"userName eq "Test_User_dfeef4c5@contoso.com""#).unwrap();
        assert_eq!(f.attr, FilterAttr::UserName);
        assert_eq!(f.value, "Test_User_dfeef4c5@contoso.com");
        assert!(f.matches("test_user_DFEEF4C5@contoso.com"));
        let f = parse(r#"externalId eq "0a21f0f2-8d2a-4f8e""#).unwrap();
        assert!(f.matches("0a21f0f2-8d2a-4f8e"));
        assert!(!f.matches("0A21F0F2-8D2A-4F8E"), "externalId is caseExact");
        let f = parse(r#"displayName eq "Sales \"EU\"""#).unwrap();
        assert_eq!(f.value, "Sales \"EU\"");
        assert_eq!(
            parse(r#"USERNAME EQ "x""#).unwrap().attr,
            FilterAttr::UserName
        );
    }

    #[test]
    fn anything_else_is_an_invalid_filter() {
        for bad in [
            "",
            "userName",
            r#"userName co "x""#,
            r#"title eq "x""#,
            "userName eq x",
            "userName eq 3",
            r#"userName eq "x" and externalId eq "y""#,
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.scim_type, Some("invalidFilter"), "{bad}");
        }
    }
}

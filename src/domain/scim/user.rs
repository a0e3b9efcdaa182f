//! A SCIM User as Gatehouse keeps it, read from a POST/PUT body, and changed by a
//! PATCH in either of Entra's dialects: the default one (capitalised `op`, `path` on
//! every operation, booleans as the strings `"True"`/`"False"`) and the SCIM-compliant
//! one (lower-case `op`, no `path` with an object `value` whose keys are paths).
//! Attributes Gatehouse does not keep (title, phone numbers, the enterprise extension…)
//! are accepted and ignored.

use serde_json::Value;

use super::{OpKind, PatchOp, ScimError, ScimResult, boolean};

/// The attributes of a User that Gatehouse keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAttrs {
    pub user_name: String,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub formatted_name: Option<String>,
    pub display_name: Option<String>,
    /// The `work` (or primary) email.
    pub work_email: Option<String>,
    pub active: bool,
}

impl UserAttrs {
    /// The name to show: displayName, else the formatted name, else given + family.
    pub fn shown_name(&self) -> String {
        if let Some(d) = self.display_name.as_ref().filter(|d| !d.trim().is_empty()) {
            return d.clone();
        }
        if let Some(f) = self
            .formatted_name
            .as_ref()
            .filter(|f| !f.trim().is_empty())
        {
            return f.clone();
        }
        [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The longest text attribute kept.
const MAX_TEXT: usize = 512;

fn text(value: Option<&Value>, what: &str) -> ScimResult<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() <= MAX_TEXT => {
            let t = s.trim();
            Ok((!t.is_empty()).then(|| t.to_owned()))
        }
        Some(Value::String(_)) => Err(ScimError::invalid_value(format!("{what} is too long"))),
        Some(_) => Err(ScimError::invalid_value(format!("{what} must be a string"))),
    }
}

/// The email to keep from an `emails` array: the `work` one, else the primary one,
/// else the first.
fn pick_email(value: &Value) -> ScimResult<Option<String>> {
    let Value::Array(items) = value else {
        return Err(ScimError::invalid_value("emails must be an array"));
    };
    let is = |item: &Value, key: &str, want: &Value| item.get(key) == Some(want);
    let chosen = items
        .iter()
        .find(|i| {
            i.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("work"))
        })
        .or_else(|| {
            items
                .iter()
                .find(|i| is(i, "primary", &Value::Bool(true)) || is(i, "primary", &"True".into()))
        })
        .or_else(|| items.first());
    match chosen {
        None => Ok(None),
        Some(item) => text(item.get("value"), "emails.value"),
    }
}

/// Reads a User resource (POST, PUT). `userName` is required.
pub fn parse_resource(body: &Value) -> ScimResult<UserAttrs> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    }
    let user_name = text(body.get("userName"), "userName")?
        .ok_or_else(|| ScimError::invalid_value("userName is required"))?;
    let name = body.get("name");
    let part = |key: &str| text(name.and_then(|n| n.get(key)), key);
    Ok(UserAttrs {
        user_name,
        external_id: text(body.get("externalId"), "externalId")?,
        given_name: part("givenName")?,
        family_name: part("familyName")?,
        formatted_name: part("formatted")?,
        display_name: text(body.get("displayName"), "displayName")?,
        work_email: match body.get("emails") {
            None | Some(Value::Null) => None,
            Some(emails) => pick_email(emails)?,
        },
        active: match body.get("active") {
            None | Some(Value::Null) => true,
            Some(v) => boolean(v)?,
        },
    })
}

/// Applies PATCH operations to `attrs`.
pub fn apply_patch(attrs: &mut UserAttrs, ops: &[PatchOp]) -> ScimResult<()> {
    for op in ops {
        match (&op.path, op.kind) {
            (None, OpKind::Remove) => {
                return Err(ScimError::no_target("remove needs a path"));
            }
            (None, kind) => {
                let Some(Value::Object(map)) = &op.value else {
                    return Err(ScimError::invalid_value(
                        "an operation without a path needs an object value",
                    ));
                };
                for (key, value) in map {
                    set(attrs, kind, key, Some(value))?;
                }
            }
            (Some(path), kind) => set(attrs, kind, path, op.value.as_ref())?,
        }
    }
    Ok(())
}

/// Strips the core User schema URN from a path (`urn:…:User:userName` → `userName`).
fn short_path(path: &str) -> &str {
    let urn = super::USER_SCHEMA;
    match path.get(..urn.len()) {
        Some(head) if head.eq_ignore_ascii_case(urn) => path[urn.len()..].trim_start_matches(':'),
        _ => path,
    }
}

/// Whether `path` is a well-formed attribute path (letters, digits, `.`, `:`, `$`,
/// `-`, `_`, and one `[…]` value filter).
fn well_formed(path: &str) -> bool {
    let opens = path.matches('[').count();
    let closes = path.matches(']').count();
    !path.is_empty()
        && opens == closes
        && opens <= 1
        && path.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

fn set(attrs: &mut UserAttrs, kind: OpKind, path: &str, value: Option<&Value>) -> ScimResult<()> {
    let path = short_path(path.trim());
    if !well_formed(path) {
        return Err(ScimError::invalid_path(format!("malformed path {path:?}")));
    }
    let removing = kind == OpKind::Remove;
    let new_text = |what: &str| -> ScimResult<Option<String>> {
        if removing {
            Ok(None)
        } else {
            text(value, what)
        }
    };
    let normalised: String = path.split_whitespace().collect::<Vec<_>>().join(" ");
    match normalised.to_ascii_lowercase().as_str() {
        "active" => {
            if removing {
                return Err(ScimError::mutability("active cannot be removed"));
            }
            let v = value.ok_or_else(|| ScimError::invalid_value("active needs a value"))?;
            attrs.active = boolean(v)?;
        }
        "username" => {
            attrs.user_name = new_text("userName")?
                .ok_or_else(|| ScimError::mutability("userName is required"))?;
        }
        "externalid" => attrs.external_id = new_text("externalId")?,
        "displayname" => attrs.display_name = new_text("displayName")?,
        "name.givenname" => attrs.given_name = new_text("name.givenName")?,
        "name.familyname" => attrs.family_name = new_text("name.familyName")?,
        "name.formatted" => attrs.formatted_name = new_text("name.formatted")?,
        "name" => {
            let name = if removing { None } else { value };
            let part = |key: &str| text(name.and_then(|n| n.get(key)), key);
            attrs.given_name = part("givenName")?;
            attrs.family_name = part("familyName")?;
            attrs.formatted_name = part("formatted")?;
        }
        "emails[type eq \"work\"].value" => attrs.work_email = new_text("emails.value")?,
        "emails" | "emails[type eq \"work\"]" => {
            attrs.work_email = match (removing, value) {
                (true, _) | (false, None | Some(Value::Null)) => None,
                (false, Some(Value::Array(_))) => pick_email(value.unwrap_or(&Value::Null))?,
                (false, Some(item)) => text(item.get("value"), "emails.value")?,
            }
        }
        // Accepted and not kept: other emails, phone numbers, addresses, title, the
        // enterprise extension and the like.
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scim::patch_operations;
    use serde_json::json;

    fn entra_user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee@testuser.com",
            "active": true,
            "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
            "roles": []
        })
    }

    fn patched(attrs: &UserAttrs, body: Value) -> ScimResult<UserAttrs> {
        let mut copy = attrs.clone();
        apply_patch(&mut copy, &patch_operations(&body)?)?;
        Ok(copy)
    }

    #[test]
    fn reads_entras_create_request() {
        let a = parse_resource(&entra_user()).unwrap();
        assert_eq!(a.user_name, "Test_User_ab6490ee@testuser.com");
        assert_eq!(
            a.work_email.as_deref(),
            Some("Test_User_fd0ea19b@testuser.com")
        );
        assert_eq!(a.shown_name(), "givenName familyName");
        assert!(a.active);
        assert_eq!(
            parse_resource(&json!({"active": true}))
                .unwrap_err()
                .scim_type,
            Some("invalidValue")
        );
    }

    #[test]
    fn default_dialect() {
        let a = parse_resource(&entra_user()).unwrap();
        let b = patched(&a, json!({"schemas": [crate::domain::scim::PATCH_SCHEMA], "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updated@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Replace", "path": "active", "value": "False"}
        ]})).unwrap();
        assert_eq!(b.work_email.as_deref(), Some("updated@microsoft.com"));
        assert_eq!(b.family_name.as_deref(), Some("updatedFamilyName"));
        assert!(!b.active);
        let c = patched(
            &b,
            json!({"Operations": [{"op": "Add", "path": "nickName", "value": "Babs"}]}),
        )
        .unwrap();
        assert_eq!(c, b, "unkept attributes are accepted and ignored");
    }

    #[test]
    fn compliant_dialect() {
        let a = parse_resource(&entra_user()).unwrap();
        let b = patched(&a, json!({"Operations": [
            {"op": "replace", "value": {"active": false}},
            {"op": "replace", "value": {"displayName": "Pat Doe", "name.givenName": "Pat",
                                        "emails[type eq \"work\"].value": "pat.doe@contoso.com"}}
        ]})).unwrap();
        assert!(!b.active);
        assert_eq!(b.display_name.as_deref(), Some("Pat Doe"));
        assert_eq!(b.given_name.as_deref(), Some("Pat"));
        assert_eq!(b.work_email.as_deref(), Some("pat.doe@contoso.com"));
    }

    #[test]
    fn bad_patches_have_the_right_scim_type() {
        let a = parse_resource(&entra_user()).unwrap();
        let t = |body: Value| patched(&a, body).unwrap_err().scim_type;
        assert_eq!(
            t(json!({"Operations": [{"op": "remove"}]})),
            Some("noTarget")
        );
        assert_eq!(
            t(json!({"Operations": [{"op": "replace", "path": "active", "value": "maybe"}]})),
            Some("invalidValue")
        );
        assert_eq!(
            t(json!({"Operations": [{"op": "replace", "path": "emails[[x", "value": "a"}]})),
            Some("invalidPath")
        );
        assert_eq!(
            t(json!({"Operations": [{"op": "remove", "path": "userName"}]})),
            Some("mutability")
        );
        assert_eq!(t(json!({"Operations": "x"})), Some("invalidSyntax"));
    }
}

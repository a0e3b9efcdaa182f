//! A SCIM Group as Entra's group assignment uses it: displayName, externalId and
//! members, read from a POST body and changed by PATCH in either dialect — members
//! added or removed by a `value` array, or removed by a `members[value eq "…"]` path.

use serde_json::Value;

use super::{OpKind, PatchOp, ScimError, ScimResult};

/// A group as a POST or PUT body gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupAttrs {
    pub display_name: String,
    pub external_id: Option<String>,
    /// Member ids as sent (resolved against the realm by the caller).
    pub members: Vec<String>,
}

/// One change a PATCH makes to a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChange {
    DisplayName(String),
    ExternalId(Option<String>),
    AddMembers(Vec<String>),
    RemoveMembers(Vec<String>),
    ReplaceMembers(Vec<String>),
    RemoveAllMembers,
}

fn member_ids(value: Option<&Value>) -> ScimResult<Vec<String>> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.as_slice(),
        Some(single @ Value::Object(_)) => std::slice::from_ref(single),
        Some(_) => return Err(ScimError::invalid_value("members must be an array")),
    };
    items
        .iter()
        .map(|item| {
            item.get("value")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ScimError::invalid_value("each member needs a value (a user id)"))
        })
        .collect()
}

fn name(value: Option<&Value>) -> ScimResult<String> {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 256 => Ok(s.trim().to_owned()),
        _ => Err(ScimError::invalid_value(
            "displayName must be a non-empty string of at most 256 characters",
        )),
    }
}

/// Reads a Group resource (POST, PUT).
pub fn parse_resource(body: &Value) -> ScimResult<GroupAttrs> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    }
    Ok(GroupAttrs {
        display_name: name(body.get("displayName"))?,
        external_id: match body.get("externalId") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(ScimError::invalid_value("externalId must be a string")),
        },
        members: member_ids(body.get("members"))?,
    })
}

/// The member id in a `members[value eq "…"]` path; `None` for any other path.
fn member_filter(path: &str) -> Option<ScimResult<String>> {
    let head = path.get(..8)?;
    if !head.eq_ignore_ascii_case("members[") {
        return None;
    }
    let parsed = (|| {
        let inner = path[8..].strip_suffix(']')?.trim();
        let (attr, rest) = inner.split_once(char::is_whitespace)?;
        let (op, value) = rest.trim_start().split_once(char::is_whitespace)?;
        if !attr.eq_ignore_ascii_case("value") || !op.eq_ignore_ascii_case("eq") {
            return None;
        }
        serde_json::from_str::<String>(value.trim()).ok()
    })();
    Some(parsed.ok_or_else(|| ScimError::invalid_path("expected members[value eq \"id\"]")))
}

/// The changes a PATCH request makes.
pub fn patch_changes(ops: &[PatchOp]) -> ScimResult<Vec<GroupChange>> {
    let mut changes = Vec::new();
    for op in ops {
        match &op.path {
            None => {
                if op.kind == OpKind::Remove {
                    return Err(ScimError::no_target("remove needs a path"));
                }
                let Some(Value::Object(map)) = &op.value else {
                    return Err(ScimError::invalid_value(
                        "an operation without a path needs an object value",
                    ));
                };
                for (key, value) in map {
                    changes.push(change(op.kind, key, Some(value))?);
                }
            }
            Some(path) => {
                if let Some(id) = member_filter(path) {
                    if op.kind != OpKind::Remove {
                        return Err(ScimError::invalid_path(
                            "a member filter path is only for remove",
                        ));
                    }
                    changes.push(GroupChange::RemoveMembers(vec![id?]));
                } else {
                    changes.push(change(op.kind, path, op.value.as_ref())?);
                }
            }
        }
    }
    Ok(changes)
}

fn change(kind: OpKind, path: &str, value: Option<&Value>) -> ScimResult<GroupChange> {
    Ok(match (path.to_ascii_lowercase().as_str(), kind) {
        ("displayname", OpKind::Remove) => {
            return Err(ScimError::mutability("displayName is required"));
        }
        ("displayname", _) => GroupChange::DisplayName(name(value)?),
        ("externalid", OpKind::Remove) => GroupChange::ExternalId(None),
        ("externalid", _) => {
            GroupChange::ExternalId(value.and_then(Value::as_str).map(str::to_owned))
        }
        ("members", OpKind::Add) => GroupChange::AddMembers(member_ids(value)?),
        ("members", OpKind::Replace) => GroupChange::ReplaceMembers(member_ids(value)?),
        ("members", OpKind::Remove) => match value {
            None | Some(Value::Null) => GroupChange::RemoveAllMembers,
            Some(_) => GroupChange::RemoveMembers(member_ids(value)?),
        },
        _ => {
            return Err(ScimError::invalid_path(format!(
                "a group has no attribute {path:?} to change"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scim::patch_operations;
    use serde_json::json;

    fn changes(body: Value) -> ScimResult<Vec<GroupChange>> {
        patch_changes(&patch_operations(&body)?)
    }

    #[test]
    fn both_dialects_of_member_changes() {
        assert_eq!(
            changes(json!({"Operations": [{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u1"}]}]})).unwrap(),
            vec![GroupChange::AddMembers(vec!["u1".into()])]
        );
        assert_eq!(
            changes(json!({"Operations": [{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "u1"}]}]})).unwrap(),
            vec![GroupChange::RemoveMembers(vec!["u1".into()])]
        );
        assert_eq!(
            changes(
                json!({"Operations": [{"op": "remove", "path": "members[value eq \"7f4bc1a3\"]"}]})
            )
            .unwrap(),
            vec![GroupChange::RemoveMembers(vec!["7f4bc1a3".into()])]
        );
        assert_eq!(
            changes(
                json!({"Operations": [{"op": "Replace", "path": "displayName", "value": "New"}]})
            )
            .unwrap(),
            vec![GroupChange::DisplayName("New".into())]
        );
        assert_eq!(
            changes(json!({"Operations": [{"op": "replace", "value": {"displayName": "New"}}]}))
                .unwrap(),
            vec![GroupChange::DisplayName("New".into())]
        );
    }

    #[test]
    fn bad_group_patches() {
        let t = |body: Value| changes(body).unwrap_err().scim_type;
        assert_eq!(
            t(json!({"Operations": [{"op": "add", "path": "owner", "value": "x"}]})),
            Some("invalidPath")
        );
        assert_eq!(
            t(
                json!({"Operations": [{"op": "add", "path": "members", "value": [{"display": "x"}]}]})
            ),
            Some("invalidValue")
        );
        assert_eq!(
            t(json!({"Operations": [{"op": "remove"}]})),
            Some("noTarget")
        );
    }
}

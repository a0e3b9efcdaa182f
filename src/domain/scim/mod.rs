//! SCIM 2.0 (RFC 7643/7644) as Microsoft Entra's provisioning service speaks it:
//! filters, PATCH in both of Entra's dialects, resources and errors as JSON values.
//! Pure: no store, no HTTP; the web layer turns a [`ScimError`] into a response.

pub mod filter;
pub mod group;
pub mod render;
pub mod user;

/// `urn:ietf:params:scim:schemas:core:2.0:User`
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// `urn:ietf:params:scim:schemas:core:2.0:Group`
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise user extension Entra sends (accepted, not stored).
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The largest page a list returns (`count` above it is lowered to it).
pub const MAX_PAGE: usize = 200;

/// A SCIM error (RFC 7644 §3.12): an HTTP status and, for 400 and 409, a `scimType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    fn bad(scim_type: &'static str, detail: impl Into<String>) -> ScimError {
        ScimError {
            status: 400,
            scim_type: Some(scim_type),
            detail: detail.into(),
        }
    }

    pub fn invalid_filter(detail: impl Into<String>) -> ScimError {
        ScimError::bad("invalidFilter", detail)
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> ScimError {
        ScimError::bad("invalidSyntax", detail)
    }

    pub fn invalid_value(detail: impl Into<String>) -> ScimError {
        ScimError::bad("invalidValue", detail)
    }

    pub fn invalid_path(detail: impl Into<String>) -> ScimError {
        ScimError::bad("invalidPath", detail)
    }

    pub fn no_target(detail: impl Into<String>) -> ScimError {
        ScimError::bad("noTarget", detail)
    }

    pub fn mutability(detail: impl Into<String>) -> ScimError {
        ScimError::bad("mutability", detail)
    }

    pub fn uniqueness(detail: impl Into<String>) -> ScimError {
        ScimError {
            status: 409,
            scim_type: Some("uniqueness"),
            detail: detail.into(),
        }
    }

    pub fn not_found(what: &str) -> ScimError {
        ScimError {
            status: 404,
            scim_type: None,
            detail: format!("{what} not found"),
        }
    }

    pub fn unauthorized() -> ScimError {
        ScimError {
            status: 401,
            scim_type: None,
            detail: "a valid bearer token is required".to_owned(),
        }
    }

    pub fn too_many() -> ScimError {
        ScimError {
            status: 429,
            scim_type: None,
            detail: "too many failed attempts; try again later".to_owned(),
        }
    }

    pub fn internal() -> ScimError {
        ScimError {
            status: 500,
            scim_type: None,
            detail: "the request could not be completed".to_owned(),
        }
    }

    /// The error body (RFC 7644 §3.12): `status` is a string there.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = serde_json::Value::from(t);
        }
        body
    }
}

pub type ScimResult<T> = Result<T, ScimError>;

/// A boolean as Entra sends it: `true`/`false`, or (default PATCH dialect) the strings
/// `"True"`/`"False"` in any case.
pub fn boolean(value: &serde_json::Value) -> ScimResult<bool> {
    match value {
        serde_json::Value::Bool(b) => Ok(*b),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::invalid_value("expected a boolean")),
    }
}

/// A PATCH request's operations (RFC 7644 §3.5.2), with `op` lower-cased (Entra's
/// default dialect capitalises it).
pub fn patch_operations(body: &serde_json::Value) -> ScimResult<Vec<PatchOp>> {
    let ops = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(|o| o.as_array())
        .ok_or_else(|| ScimError::invalid_syntax("a PatchOp needs an Operations array"))?;
    if ops.is_empty() {
        return Err(ScimError::invalid_syntax("Operations is empty"));
    }
    ops.iter()
        .map(|op| {
            let name = op
                .get("op")
                .and_then(|o| o.as_str())
                .ok_or_else(|| ScimError::invalid_syntax("each operation needs an op"))?;
            let kind = match name.to_ascii_lowercase().as_str() {
                "add" => OpKind::Add,
                "replace" => OpKind::Replace,
                "remove" => OpKind::Remove,
                _ => {
                    return Err(ScimError::invalid_syntax(
                        "op must be add, replace or remove",
                    ));
                }
            };
            let path = match op.get("path") {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(p)) if !p.trim().is_empty() => {
                    Some(p.trim().to_owned())
                }
                Some(_) => return Err(ScimError::invalid_path("path must be a string")),
            };
            Ok(PatchOp {
                kind,
                path,
                value: op.get("value").cloned(),
            })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

/// One PATCH operation.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub kind: OpKind,
    pub path: Option<String>,
    pub value: Option<serde_json::Value>,
}

/// `startIndex` and `count` of a list request, clamped as RFC 7644 §3.4.2.4 says.
pub fn page(start_index: Option<i64>, count: Option<i64>) -> (usize, usize) {
    let start = start_index.unwrap_or(1).max(1) as usize;
    let count = count.unwrap_or(100).clamp(0, MAX_PAGE as i64) as usize;
    (start, count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn booleans_in_both_dialects() {
        assert_eq!(boolean(&json!("False")), Ok(false));
        assert_eq!(boolean(&json!("TRUE")), Ok(true));
        assert_eq!(boolean(&json!(false)), Ok(false));
        assert!(boolean(&json!("no")).is_err());
    }

    #[test]
    fn operations_are_read_case_insensitively() {
        let ops = patch_operations(
            &json!({"Operations":[{"op":"Replace","path":"active","value":"False"}]}),
        )
        .unwrap();
        assert_eq!(ops[0].kind, OpKind::Replace);
        assert_eq!(ops[0].path.as_deref(), Some("active"));
        assert!(patch_operations(&json!({"Operations":[{"op":"move"}]})).is_err());
        assert!(patch_operations(&json!({})).is_err());
    }

    #[test]
    fn pages_are_clamped() {
        assert_eq!(page(None, None), (1, 100));
        assert_eq!(page(Some(0), Some(-3)), (1, 0));
        assert_eq!(page(Some(5), Some(10_000)), (5, MAX_PAGE));
    }
}

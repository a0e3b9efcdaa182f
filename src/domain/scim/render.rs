//! SCIM resources and discovery documents as JSON (RFC 7643): Users, Groups, list
//! responses, `ServiceProviderConfig`, `Schemas`, `ResourceTypes`.

use serde_json::{Value, json};

use super::user::UserAttrs;
use super::{GROUP_SCHEMA, LIST_SCHEMA, MAX_PAGE, USER_SCHEMA};
use crate::domain::time::Timestamp;

/// Where and when a resource was made, for `meta`.
#[derive(Debug, Clone)]
pub struct Meta<'a> {
    /// The SCIM base URL (`{public_url}/scim/v2`), no trailing slash.
    pub base: &'a str,
    pub id: String,
    pub created: Timestamp,
    pub modified: Timestamp,
}

fn meta(kind: &str, collection: &str, m: &Meta<'_>) -> Value {
    json!({
        "resourceType": kind,
        "created": m.created.to_rfc3339(),
        "lastModified": m.modified.to_rfc3339(),
        "location": format!("{}/{collection}/{}", m.base, m.id),
    })
}

/// A User resource.
pub fn user(attrs: &UserAttrs, m: &Meta<'_>) -> Value {
    let mut out = json!({
        "schemas": [USER_SCHEMA],
        "id": m.id,
        "userName": attrs.user_name,
        "active": attrs.active,
        "meta": meta("User", "Users", m),
    });
    if let Some(e) = &attrs.external_id {
        out["externalId"] = json!(e);
    }
    let display = attrs.shown_name();
    if !display.is_empty() {
        out["displayName"] = json!(display);
    }
    let mut name = serde_json::Map::new();
    for (key, value) in [
        ("givenName", &attrs.given_name),
        ("familyName", &attrs.family_name),
        ("formatted", &attrs.formatted_name),
    ] {
        if let Some(v) = value {
            name.insert(key.to_owned(), json!(v));
        }
    }
    if !name.is_empty() {
        out["name"] = Value::Object(name);
    }
    if let Some(email) = &attrs.work_email {
        out["emails"] = json!([{ "value": email, "type": "work", "primary": true }]);
    }
    out
}

/// A Group resource; `members` as (user id, display) pairs, left out when `None`
/// (`excludedAttributes=members`).
pub fn group(
    display_name: &str,
    external_id: Option<&str>,
    members: Option<&[(String, String)]>,
    m: &Meta<'_>,
) -> Value {
    let mut out = json!({
        "schemas": [GROUP_SCHEMA],
        "id": m.id,
        "displayName": display_name,
        "meta": meta("Group", "Groups", m),
    });
    if let Some(e) = external_id {
        out["externalId"] = json!(e);
    }
    if let Some(members) = members {
        out["members"] = members
            .iter()
            .map(|(id, display)| {
                json!({ "value": id, "display": display, "$ref": format!("{}/Users/{id}", m.base) })
            })
            .collect();
    }
    out
}

/// A list response page: `resources` are the page already, `total` counts them all.
pub fn list(resources: Vec<Value>, total: usize, start_index: usize) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// `GET /ServiceProviderConfig`.
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://github.com/gatehouse/gatehouse#provisioning-and-leavers",
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_PAGE },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": false },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A per-realm token made with `gatehouse scim token create` or on the admin page",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

fn attribute(name: &str, kind: &str, required: bool, case_exact: bool, uniqueness: &str) -> Value {
    json!({
        "name": name, "type": kind, "multiValued": false, "required": required,
        "caseExact": case_exact, "mutability": "readWrite", "returned": "default",
        "uniqueness": uniqueness,
    })
}

/// The User schema (the attributes Gatehouse keeps).
pub fn user_schema(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A person who signs in to this realm",
        "attributes": [
            attribute("userName", "string", true, false, "server"),
            attribute("externalId", "string", false, true, "server"),
            attribute("displayName", "string", false, false, "none"),
            attribute("active", "boolean", false, false, "none"),
            {
                "name": "name", "type": "complex", "multiValued": false, "required": false,
                "mutability": "readWrite", "returned": "default",
                "subAttributes": [
                    attribute("givenName", "string", false, false, "none"),
                    attribute("familyName", "string", false, false, "none"),
                    attribute("formatted", "string", false, false, "none"),
                ],
            },
            {
                "name": "emails", "type": "complex", "multiValued": true, "required": false,
                "mutability": "readWrite", "returned": "default",
                "subAttributes": [
                    attribute("value", "string", false, false, "none"),
                    attribute("type", "string", false, false, "none"),
                    attribute("primary", "boolean", false, false, "none"),
                ],
            },
        ],
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{USER_SCHEMA}") },
    })
}

/// The Group schema.
pub fn group_schema(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": GROUP_SCHEMA,
        "name": "Group",
        "description": "A group of users of this realm",
        "attributes": [
            attribute("displayName", "string", true, false, "none"),
            attribute("externalId", "string", false, true, "none"),
            {
                "name": "members", "type": "complex", "multiValued": true, "required": false,
                "mutability": "readWrite", "returned": "default",
                "subAttributes": [
                    attribute("value", "string", false, true, "none"),
                    attribute("display", "string", false, false, "none"),
                ],
            },
        ],
        "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{GROUP_SCHEMA}") },
    })
}

/// The User and Group resource types.
pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users", "schema": USER_SCHEMA,
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User") },
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups", "schema": GROUP_SCHEMA,
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group") },
        }),
    ]
}

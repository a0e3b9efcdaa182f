//! A SCIM client for tests, sending what Entra's provisioning service sends (bearer
//! token, `application/scim+json`) through the real route table.

use actix_web::http::{StatusCode, header};
use actix_web::test::TestRequest;
use serde_json::Value;

use super::{Browser, TestApp};
use gatehouse::domain::user::Realm;
use gatehouse::service::admin::AdminActor;

/// Makes a SCIM token for `realm`; returns the bearer value.
pub async fn token(app: &TestApp, realm: Realm) -> String {
    app.services
        .create_scim_token(AdminActor::cli(), realm, "test".into())
        .await
        .expect("SCIM token")
        .bearer()
}

/// A SCIM caller with one bearer token.
pub struct Scim {
    browser: Browser,
    pub token: String,
}

/// An answer: status, headers and the JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub www_authenticate: Option<String>,
    pub body: Value,
}

impl Answer {
    /// Asserts an error answer in SCIM's shape (RFC 7644 §3.12).
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        assert_eq!(self.content_type, "application/scim+json");
        assert_eq!(
            self.body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
        assert_eq!(
            self.body["status"],
            status.to_string(),
            "status is a string"
        );
        assert!(self.body["detail"].is_string());
        match scim_type {
            Some(t) => assert_eq!(self.body["scimType"], t, "{:#}", self.body),
            None => assert!(self.body.get("scimType").is_none(), "{:#}", self.body),
        }
    }

    /// The resources of a list response, after checking its shape.
    pub fn resources(&self) -> Vec<Value> {
        assert_eq!(self.status, StatusCode::OK, "{:#}", self.body);
        assert_eq!(
            self.body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:ListResponse"
        );
        let list = self.body["Resources"]
            .as_array()
            .expect("Resources")
            .clone();
        assert_eq!(self.body["itemsPerPage"], list.len());
        assert!(self.body["totalResults"].is_u64());
        assert!(self.body["startIndex"].is_u64());
        list
    }
}

impl Scim {
    pub fn new(app: &TestApp, token: &str) -> Scim {
        Scim {
            browser: app.browser(),
            token: token.to_owned(),
        }
    }

    pub async fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let mut req = TestRequest::default()
            .method(method.parse().unwrap())
            .uri(path)
            .peer_addr("198.51.100.7:443".parse().unwrap())
            .insert_header((header::AUTHORIZATION, format!("Bearer {}", self.token)));
        if let Some(body) = body {
            req = req
                .insert_header((header::CONTENT_TYPE, "application/scim+json"))
                .set_payload(body.to_string());
        }
        let page = self.browser.send(req).await;
        Answer {
            status: page.status,
            content_type: page.header("content-type").unwrap_or_default().to_owned(),
            www_authenticate: page.header("www-authenticate").map(str::to_owned),
            body: if page.body.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&page.body).unwrap_or(Value::String(page.body.clone()))
            },
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, None).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Answer {
        self.send("POST", path, Some(body)).await
    }

    pub async fn put(&mut self, path: &str, body: Value) -> Answer {
        self.send("PUT", path, Some(body)).await
    }

    pub async fn patch(&mut self, path: &str, body: Value) -> Answer {
        self.send("PATCH", path, Some(body)).await
    }

    pub async fn delete(&mut self, path: &str) -> Answer {
        self.send("DELETE", path, None).await
    }

    /// `GET /scim/v2/Users?filter=…` with the filter URL-encoded.
    pub async fn filter_users(&mut self, filter: &str) -> Answer {
        let q = serde_urlencoded::to_string([("filter", filter)]).unwrap();
        self.get(&format!("/scim/v2/Users?{q}")).await
    }
}

/// Entra's create request for a user (the tutorial's shape).
pub fn entra_user(user_name: &str, external_id: &str, email: &str) -> Value {
    serde_json::json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "emails": [{ "primary": true, "type": "work", "value": email }],
        "meta": { "resourceType": "User" },
        "name": { "formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName" },
        "roles": []
    })
}

/// A PatchOp body with `operations`.
pub fn patch(operations: Value) -> Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": operations
    })
}

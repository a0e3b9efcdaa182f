//! A fake Microsoft Graph for the leavers sweep: a real HTTP server on 127.0.0.1 that
//! answers `GET /v1.0/users/{id}?$select=id,accountEnabled` with Graph's shapes — a
//! user, `accountEnabled: false`, a deleted user (404 `Request_ResourceNotFound`),
//! throttling (429 with `Retry-After`), a refused permission (403
//! `Authorization_RequestDenied`) and an outage (503). It wants the bearer token the
//! fake Entra issued (`fake-entra.…`). Test support only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;

/// How the fake answers for one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphUser {
    Enabled,
    Disabled,
    Deleted,
    /// 429 with `Retry-After: secs` for the first `times` requests, then `then`.
    Throttled {
        times: u32,
        secs: u64,
        then: Box<GraphUser>,
    },
}

#[derive(Default)]
struct State {
    users: HashMap<String, GraphUser>,
    /// Every request answered 403 (User.Read.All not granted).
    forbidden: bool,
    /// Every request answered with this status (an outage).
    outage: Option<u16>,
    /// Object ids asked for, in order.
    requests: Vec<String>,
    /// Requests without the fake Entra's bearer token.
    unauthenticated: usize,
}

/// A running fake Graph; stops when dropped.
pub struct FakeGraph {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    state: Arc<Mutex<State>>,
    handle: ServerHandle,
}

fn graph_error(status: u16, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .content_type("application/json")
        .json(json!({ "error": { "code": code, "message": message,
            "innerError": { "request-id": "00000000-0000-0000-0000-000000000000" } } }))
}

async fn user(
    state: web::Data<Arc<Mutex<State>>>,
    id: web::Path<String>,
    req: HttpRequest,
) -> HttpResponse {
    let mut st = state.lock().unwrap();
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !bearer.starts_with("Bearer fake-entra.") {
        st.unauthenticated += 1;
        return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.");
    }
    assert_eq!(
        req.query_string(),
        "$select=id,accountEnabled",
        "the sweep asks only for what it needs"
    );
    st.requests.push(id.clone());
    if let Some(status) = st.outage {
        return graph_error(status, "serviceNotAvailable", "Service unavailable");
    }
    if st.forbidden {
        return graph_error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    let behaviour = match st.users.get(id.as_str()).cloned() {
        Some(GraphUser::Throttled { times: 0, then, .. }) => {
            st.users.insert(id.clone(), (*then).clone());
            Some(*then)
        }
        Some(GraphUser::Throttled { times, secs, then }) => {
            st.users.insert(
                id.clone(),
                GraphUser::Throttled {
                    times: times - 1,
                    secs,
                    then,
                },
            );
            return HttpResponse::TooManyRequests()
                .insert_header(("Retry-After", secs.to_string()))
                .json(json!({ "error": { "code": "TooManyRequests", "message": "Too many requests" } }));
        }
        other => other,
    };
    match behaviour {
        Some(GraphUser::Enabled) | Some(GraphUser::Disabled) => {
            let enabled = behaviour == Some(GraphUser::Enabled);
            HttpResponse::Ok().json(json!({
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,accountEnabled)/$entity",
                "id": id.as_str(),
                "accountEnabled": enabled,
            }))
        }
        _ => graph_error(
            404,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        ),
    }
}

impl FakeGraph {
    /// Starts the fake (needs an actix runtime).
    pub async fn start() -> FakeGraph {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .route("/v1.0/users/{id}", web::get().to(user))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        FakeGraph {
            base,
            state,
            handle,
        }
    }

    pub fn set(&self, oid: &str, behaviour: GraphUser) {
        self.state
            .lock()
            .unwrap()
            .users
            .insert(oid.to_owned(), behaviour);
    }

    pub fn forbid(&self, on: bool) {
        self.state.lock().unwrap().forbidden = on;
    }

    pub fn outage(&self, status: Option<u16>) {
        self.state.lock().unwrap().outage = status;
    }

    /// The object ids asked for, in order.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn unauthenticated(&self) -> usize {
        self.state.lock().unwrap().unauthenticated
    }
}

impl Drop for FakeGraph {
    fn drop(&mut self) {
        // `stop` sends its command at once; the returned future only awaits completion.
        drop(self.handle.stop(false));
    }
}

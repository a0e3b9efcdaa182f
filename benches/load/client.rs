//! The load generator: hyper's HTTP/1.1 client on a fixed set of keep-alive
//! connections, one closed loop per connection (send, read the whole answer, send
//! again). Each loop counts the answers completed inside the measuring window and
//! records their latencies; its rate is its count over the time from the window's
//! start to its last counted answer, and a round's rate is the sum over loops.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::Barrier;

use crate::common;

/// Rates and latencies of one side of a comparison, over all its rounds.
#[derive(Debug, Default, Clone)]
pub struct Sample {
    /// Per-round rates (operations per second).
    pub rates: Vec<f64>,
    /// Latency of every counted operation, in microseconds.
    pub latencies_us: Vec<u64>,
    /// Operations that failed or answered something unexpected.
    pub errors: u64,
    /// The first such answer, to explain the failure.
    pub first_error: Option<String>,
}

impl Sample {
    /// The mean of the rounds' rates.
    pub fn rate(&self) -> f64 {
        if self.rates.is_empty() {
            return 0.0;
        }
        self.rates.iter().sum::<f64>() / self.rates.len() as f64
    }

    /// The `q` quantile of latency, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[index] as f64 / 1000.0
    }

    pub fn count(&self) -> usize {
        self.latencies_us.len()
    }

    /// Adds one round made of the loops in `loops`.
    pub fn add_round(&mut self, loops: Vec<LoopResult>) {
        let mut rate = 0.0;
        for result in loops {
            rate += result.rate();
            self.latencies_us.extend(result.latencies_us);
            self.errors += result.errors;
            if self.first_error.is_none() {
                self.first_error = result.first_error;
            }
        }
        self.rates.push(rate);
    }
}

/// The measuring window of a round.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub start: Instant,
    pub end: Instant,
}

impl Window {
    /// A window opening after `warm_up` and lasting `measure`.
    pub fn after(warm_up: Duration, measure: Duration) -> Window {
        let start = Instant::now() + warm_up;
        Window {
            start,
            end: start + measure,
        }
    }
}

/// What one closed loop measured.
#[derive(Debug)]
pub struct LoopResult {
    window: Window,
    done: u64,
    last: Option<Instant>,
    latencies_us: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

impl LoopResult {
    pub fn new(window: Window) -> LoopResult {
        LoopResult {
            window,
            done: 0,
            last: None,
            latencies_us: Vec::new(),
            errors: 0,
            first_error: None,
        }
    }

    /// Records an operation begun at `began` that just ended; returns whether the
    /// loop should go on.
    pub fn record(&mut self, began: Instant, outcome: Result<(), String>) -> bool {
        let now = Instant::now();
        if now >= self.window.start && now <= self.window.end {
            match outcome {
                Ok(()) => {
                    self.done += 1;
                    self.last = Some(now);
                    self.latencies_us
                        .push(now.duration_since(began).as_micros() as u64);
                }
                Err(e) => self.fail(e),
            }
        } else if let Err(e) = outcome {
            self.fail(e);
        }
        now < self.window.end
    }

    fn fail(&mut self, e: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(e);
        }
    }

    /// Operations counted.
    pub fn count(&self) -> usize {
        self.latencies_us.len()
    }

    fn rate(&self) -> f64 {
        match self.last {
            Some(last) if self.done > 0 => {
                let span = last.duration_since(self.window.start).as_secs_f64();
                if span > 0.0 {
                    self.done as f64 / span
                } else {
                    0.0
                }
            }
            _ => 0.0,
        }
    }
}

/// One keep-alive HTTP/1.1 connection.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

/// An answer, read to the end.
pub struct Answer {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: Bytes,
}

impl Connection {
    pub async fn open(addr: SocketAddr) -> Result<Connection, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let host = HeaderValue::from_str(&addr.to_string()).map_err(|e| e.to_string())?;
        Ok(Connection { sender, host })
    }

    /// Sends one request and reads the whole answer.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(header::HeaderName, &str)],
        body: Bytes,
    ) -> Result<Answer, String> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.host.clone());
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| format!("request: {e}"))?;
        self.sender
            .ready()
            .await
            .map_err(|e| format!("connection: {e}"))?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| format!("send: {e}"))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// One round of forward-auth checks: `connections` loops, loop `c` cycling through
/// every `connections`-th token from `c`, each request with that session cookie.
pub async fn forward_auth_round(
    addr: SocketAddr,
    tokens: Arc<Vec<String>>,
    connections: usize,
    window: Window,
) -> Vec<LoopResult> {
    let mut tasks = Vec::with_capacity(connections);
    for c in 0..connections {
        let tokens = Arc::clone(&tokens);
        tasks.push(tokio::spawn(async move {
            let mut result = LoopResult::new(window);
            let mut connection = match Connection::open(addr).await {
                Ok(connection) => connection,
                Err(e) => {
                    result.fail(e);
                    return result;
                }
            };
            let cookies: Vec<String> = tokens
                .iter()
                .skip(c % tokens.len())
                .step_by(connections)
                .map(|t| format!("gh_session={t}"))
                .collect();
            let mut i = 0;
            loop {
                let cookie = &cookies[i % cookies.len()];
                i += 1;
                let began = Instant::now();
                let outcome = connection
                    .send(
                        Method::GET,
                        gatehouse::web::paths::AUTH_REQUEST,
                        &[(header::COOKIE, cookie)],
                        Bytes::new(),
                    )
                    .await
                    .and_then(|a| expect_status(&a, StatusCode::OK));
                let broken = outcome.as_ref().is_err_and(|e| !e.starts_with("status"));
                if !result.record(began, outcome) || broken {
                    break;
                }
            }
            result
        }));
    }
    join(tasks).await
}

/// The headers of an allowed forward-auth answer for session `token` (without those
/// every actix answer carries anyway), for the bare handler to send back.
pub async fn allowed_headers(addr: SocketAddr, token: &str) -> Vec<(String, Vec<u8>)> {
    let mut connection = Connection::open(addr).await.expect("connect");
    let cookie = format!("gh_session={token}");
    let answer = connection
        .send(
            Method::GET,
            gatehouse::web::paths::AUTH_REQUEST,
            &[(header::COOKIE, &cookie)],
            Bytes::new(),
        )
        .await
        .expect("a forward-auth answer");
    expect_status(&answer, StatusCode::OK).expect("an allowed forward-auth answer");
    answer
        .headers
        .iter()
        .filter(|(name, _)| *name != header::DATE && *name != header::CONTENT_LENGTH)
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect()
}

/// One round of password sign-ins: `clients` loops, each a fresh browser per sign-in
/// (GET the login page for its CSRF cookie and token, POST email and password, expect
/// the 303 to the TOTP step), client `c` signing in as users `c`, `c + clients`, …
pub async fn login_round(
    addr: SocketAddr,
    users: usize,
    clients: usize,
    window: Window,
) -> Vec<LoopResult> {
    let mut tasks = Vec::with_capacity(clients);
    for c in 0..clients {
        tasks.push(tokio::spawn(async move {
            let mut result = LoopResult::new(window);
            let mut connection = match Connection::open(addr).await {
                Ok(connection) => connection,
                Err(e) => {
                    result.fail(e);
                    return result;
                }
            };
            let mut user = c % users;
            loop {
                let began = Instant::now();
                let outcome = sign_in(&mut connection, &common::email(user)).await;
                user = (user + clients) % users;
                let broken = outcome.as_ref().is_err_and(|e| !e.starts_with("status"));
                if !result.record(began, outcome) || broken {
                    break;
                }
            }
            result
        }));
    }
    join(tasks).await
}

/// A login storm: `clients` connections each fetch the login page, wait for all the
/// others, then all post their password at once. Returns the loops' results.
pub async fn login_storm(addr: SocketAddr, users: usize, clients: usize) -> Vec<LoopResult> {
    let barrier = Arc::new(Barrier::new(clients));
    let window = Window {
        start: Instant::now(),
        end: Instant::now() + Duration::from_secs(3600),
    };
    let mut tasks = Vec::with_capacity(clients);
    for c in 0..clients {
        let barrier = Arc::clone(&barrier);
        // Each client from its own address behind the (trusted) proxy, as a crowd of
        // staff would come: from one address, sign-in throttling per address would
        // refuse all but the first few concurrent attempts, by design.
        let from = format!("10.0.{}.{}", c / 250, c % 250 + 1);
        tasks.push(tokio::spawn(async move {
            let mut result = LoopResult::new(window);
            let prepared = async {
                let mut connection = Connection::open(addr).await?;
                let form = login_form(&mut connection, Some(&from)).await?;
                Ok::<_, String>((connection, form))
            }
            .await;
            barrier.wait().await;
            let began = Instant::now();
            let outcome = match prepared {
                Ok((mut connection, form)) => {
                    post_password(
                        &mut connection,
                        &form,
                        &common::email(c % users),
                        Some(&from),
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            result.record(began, outcome);
            result
        }));
    }
    join(tasks).await
}

/// The CSRF cookie and form token of a fresh login page.
struct LoginForm {
    cookie: String,
    token: String,
}

async fn sign_in(connection: &mut Connection, email: &str) -> Result<(), String> {
    let form = login_form(connection, None).await?;
    post_password(connection, &form, email, None).await
}

/// The `X-Forwarded-For` header of a visitor `from` an address behind the proxy.
fn forwarded(from: Option<&str>) -> Vec<(header::HeaderName, &str)> {
    from.map(|ip| (header::HeaderName::from_static("x-forwarded-for"), ip))
        .into_iter()
        .collect()
}

async fn login_form(connection: &mut Connection, from: Option<&str>) -> Result<LoginForm, String> {
    let page = connection
        .send(Method::GET, "/login", &forwarded(from), Bytes::new())
        .await?;
    expect_status(&page, StatusCode::OK)?;
    let cookie = page
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gh_csrf="))
        .and_then(|v| v.split(';').next())
        .ok_or("no CSRF cookie on the login page")?
        .to_owned();
    let body = std::str::from_utf8(&page.body).map_err(|e| e.to_string())?;
    let token = input_value(body, "csrf_token").ok_or("no csrf_token on the login page")?;
    Ok(LoginForm { cookie, token })
}

async fn post_password(
    connection: &mut Connection,
    form: &LoginForm,
    email: &str,
    from: Option<&str>,
) -> Result<(), String> {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("email", email)
        .append_pair("password", common::PASSWORD)
        .append_pair("csrf_token", &form.token)
        .finish();
    let answer = connection
        .send(
            Method::POST,
            "/login",
            &[
                vec![
                    (header::COOKIE, form.cookie.as_str()),
                    (header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
                ],
                forwarded(from),
            ]
            .concat(),
            Bytes::from(body),
        )
        .await?;
    expect_status(&answer, StatusCode::SEE_OTHER)?;
    let location = answer
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if location.ends_with("/login/mfa") {
        Ok(())
    } else {
        Err(format!("redirected to {location:?}, not to the TOTP step"))
    }
}

/// The `value` of the form input named `name`.
fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_end = at + html[at..].find('>')?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..tag_end];
    let value = tag.split("value=\"").nth(1)?.split('"').next()?;
    Some(value.to_owned())
}

fn expect_status(answer: &Answer, wanted: StatusCode) -> Result<(), String> {
    if answer.status == wanted {
        Ok(())
    } else {
        Err(format!(
            "status {} (wanted {wanted}): {}",
            answer.status,
            String::from_utf8_lossy(&answer.body[..answer.body.len().min(200)])
        ))
    }
}

async fn join(tasks: Vec<tokio::task::JoinHandle<LoopResult>>) -> Vec<LoopResult> {
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.expect("a load loop panicked"));
    }
    results
}

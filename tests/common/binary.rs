//! Running the real `gatehouse` binary: a server on a free port with its own data
//! directory, its captured output, CLI invocations against it, and an HTTP client
//! that keeps cookies.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

/// A free TCP port on loopback (released before use; the race is harmless in tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Two different free TCP ports on loopback: both are held while the second is
/// chosen, so the OS cannot hand out the same one twice (it did: a server then
/// refused `metrics.listen` equal to `listen`).
pub fn two_free_ports() -> (u16, u16) {
    let first = TcpListener::bind("127.0.0.1:0").unwrap();
    let second = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        first.local_addr().unwrap().port(),
        second.local_addr().unwrap().port(),
    )
}

/// A data directory and config for one installation.
pub struct Install {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// The installation's own `metrics.listen` port, so parallel servers never
    /// compete for the default one.
    pub metrics_port: u16,
}

impl Install {
    pub fn new() -> Install {
        Install::with_config("")
    }

    /// `extra` is appended to the generated gatehouse.toml (which ends with a
    /// `[metrics]` section of its own, after `extra`).
    pub fn with_config(extra: &str) -> Install {
        let dir = tempfile::tempdir().unwrap();
        let (port, metrics_port) = two_free_ports();
        let config = format!(
            "listen = '127.0.0.1:{port}'\npublic_url = 'http://127.0.0.1:{port}'\ndata_dir = '{}'\n{extra}\n[metrics]\nlisten = '127.0.0.1:{metrics_port}'\n",
            dir.path().join("data").display()
        );
        std::fs::write(dir.path().join("gatehouse.toml"), config).unwrap();
        Install {
            dir,
            port,
            metrics_port,
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("gatehouse.toml")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs a CLI command with `stdin` as input.
    pub fn cli(&self, args: &[&str], stdin: &str) -> Output {
        self.cli_env(args, stdin, &[])
    }

    /// [`Install::cli`] with extra environment variables.
    pub fn cli_env(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(self.config_path())
            .args(args)
            .env_remove("GATEHOUSE_CONFIG")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run gatehouse");
        // A command that fails early (bad arguments) may exit before reading stdin.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().unwrap()
    }

    /// Runs a CLI command and returns its stdout, failing the test if it failed.
    pub fn cli_ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.cli(args, stdin);
        assert!(
            out.status.success(),
            "gatehouse {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts `gatehouse serve` and waits until `/healthz` answers.
    pub fn start(&self) -> Server {
        self.start_with_env(&[])
    }

    /// [`Install::start`] with extra environment variables.
    pub fn start_with_env(&self, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(self.config_path())
            .arg("serve")
            .env_remove("GATEHOUSE_CONFIG")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start gatehouse serve");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        pump(child.stdout.take().unwrap(), stdout.clone());
        pump(child.stderr.take().unwrap(), stderr.clone());
        let server = Server {
            child,
            stdout,
            stderr,
            base: self.base(),
        };
        server.wait_healthy();
        server
    }
}

fn pump(stream: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let reader = BufReader::new(stream);
        for line in reader.lines().map_while(Result::ok) {
            let mut all = into.lock().unwrap();
            all.push_str(&line);
            all.push('\n');
        }
    });
}

/// A running server process.
pub struct Server {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    pub base: String,
}

impl Server {
    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = self.base.trim_start_matches("http://").to_owned();
        while Instant::now() < deadline {
            if let Ok(mut stream) = std::net::TcpStream::connect(&addr) {
                let _ = stream.write_all(b"GET /healthz HTTP/1.0\r\n\r\n");
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                if answer.contains("\"status\":\"ok\"") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not become healthy; stderr:\n{}", self.stderr());
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The setup link printed at first start.
    pub fn setup_link(&self) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(line) = self
                .stdout()
                .lines()
                .find(|l| l.starts_with("Setup link: "))
            {
                return Some(line.trim_start_matches("Setup link: ").to_owned());
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's process id (for its memory figures in `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops with SIGTERM and waits for a clean exit.
    pub fn stop(mut self) -> (String, String) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            status.success(),
            "server exit status {status}; stderr:\n{}",
            self.stderr()
        );
        (self.stdout(), self.stderr())
    }
}

impl Server {
    /// Kills the server with SIGKILL (no flush, no clean-up) and reaps it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response from the real server.
pub struct Answer {
    pub status: u16,
    pub location: String,
    pub body: String,
}

impl Answer {
    pub fn input_value(&self, name: &str) -> Option<String> {
        let pattern = format!("name=\"{name}\"");
        let alt = format!("id=\"{name}\"");
        let start = self.body.find(&pattern).or_else(|| self.body.find(&alt))?;
        let tag_start = self.body[..start].rfind('<')?;
        let tag_end = start + self.body[start..].find('>')?;
        let value = self.body[tag_start..tag_end]
            .split("value=\"")
            .nth(1)?
            .split('"')
            .next()?;
        Some(value.replace("&amp;", "&"))
    }

    pub fn codes(&self) -> Vec<String> {
        self.body
            .split("<code>")
            .skip(1)
            .filter_map(|p| p.split("</code>").next())
            .map(str::to_owned)
            .collect()
    }
}

/// An HTTP client with a cookie jar that does not follow redirects.
pub struct HttpBrowser {
    client: reqwest::Client,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
    pub csrf: Option<String>,
}

impl HttpBrowser {
    pub fn new(base: &str) -> HttpBrowser {
        HttpBrowser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
            base: base.to_owned(),
            cookies: BTreeMap::new(),
            csrf: None,
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, response: reqwest::Response) -> Answer {
        for value in response.headers().get_all("set-cookie") {
            let cookie =
                actix_web::cookie::Cookie::parse(value.to_str().unwrap().to_owned()).unwrap();
            if cookie.max_age().is_some_and(|a| a.is_zero()) {
                self.cookies.remove(cookie.name());
            } else {
                self.cookies
                    .insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response.text().await.unwrap_or_default();
        let answer = Answer {
            status,
            location,
            body,
        };
        if let Some(token) = answer.input_value("csrf_token") {
            self.csrf = Some(token);
        }
        answer
    }

    /// Like [`HttpBrowser::get`], but `None` when the request fails (server gone).
    pub async fn try_get(&mut self, path: &str) -> Option<Answer> {
        let response = self
            .client
            .get(self.url(path))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .ok()?;
        Some(self.finish(response).await)
    }

    /// Like [`HttpBrowser::post`], but `None` when the request fails (server gone).
    pub async fn try_post(&mut self, path: &str, fields: &[(&str, &str)]) -> Option<Answer> {
        let mut all = fields.to_vec();
        let token = self.csrf.clone().unwrap_or_default();
        all.push(("csrf_token", &token));
        let response = self
            .client
            .post(self.url(path))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&all).unwrap())
            .send()
            .await
            .ok()?;
        Some(self.finish(response).await)
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.get_with(path, &[]).await
    }

    /// A GET with extra request headers.
    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self
            .client
            .get(self.url(path))
            .header("cookie", self.cookie_header());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        self.finish(response).await
    }

    /// Posts a form and follows the `303 See Other` it answers with (POST-redirect-GET).
    pub async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let answer = self.post(path, fields).await;
        assert_eq!(
            answer.status, 303,
            "a form answers with a redirect: {}",
            answer.body
        );
        let location = answer.location.clone();
        self.get(&location).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let mut all = fields.to_vec();
        let token = self.csrf.clone().unwrap_or_default();
        all.push(("csrf_token", &token));
        let response = self
            .client
            .post(self.url(path))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            // What a browser sends for a form on our pages (`Referrer-Policy: no-referrer`).
            .header("origin", "null")
            .header("sec-fetch-site", "same-origin")
            .body(serde_urlencoded::to_string(&all).unwrap())
            .send()
            .await
            .unwrap();
        self.finish(response).await
    }
}

/// The current 6-digit code for a base32 secret, `steps` steps from the real now.
pub fn code_now(secret: &str, steps: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    gatehouse::domain::totp::TotpSecret::from_base32(secret)
        .unwrap()
        .code_at((now + steps * 30) as u64, 6)
}

/// Whether `needle` occurs in the file at `path`.
pub fn file_contains(path: &Path, needle: &[u8]) -> bool {
    let bytes = std::fs::read(path).unwrap();
    !needle.is_empty() && bytes.windows(needle.len()).any(|w| w == needle)
}

impl Install {
    /// `cli`, run on a blocking thread so the test's runtime (which may be serving a
    /// fake Entra the server calls back into) stays free while the command runs.
    pub async fn cli_async(&self, args: &[&str], stdin: &str) -> Output {
        let config = self.config_path();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let stdin = stdin.to_owned();
        actix_web::rt::task::spawn_blocking(move || {
            let mut child = Command::new(BIN)
                .arg("--config")
                .arg(config)
                .args(&args)
                .env_remove("GATEHOUSE_CONFIG")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run gatehouse");
            let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap()
    }
}

//! A real SMTP server process for the email tests: Python's `aiosmtpd` (from PyPI;
//! `.ci/run` installs it) running `tests/fixtures/smtp/smtp_server.py`, which writes
//! every message it accepts, decoded, as JSON into a temporary directory. Optionally
//! with STARTTLS on a self-signed certificate made here with rcgen.
//!
//! When python3 or aiosmtpd is missing the tests skip — except under `CI=true`, where
//! that fails them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// One message as the server received it.
#[derive(Debug, Clone, Deserialize)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub subject: String,
    pub from: String,
    pub to: String,
    pub text: String,
    pub html: String,
    /// The session had switched to TLS (STARTTLS) before the message.
    pub tls: bool,
}

impl Received {
    /// The first link in the text body that contains `marker` (like `/reset/`).
    pub fn link(&self, marker: &str) -> String {
        self.links()
            .into_iter()
            .find(|l| l.contains(marker))
            .unwrap_or_else(|| panic!("no link with {marker} in: {}", self.text))
    }

    /// Every http(s) link in the text and HTML bodies.
    pub fn links(&self) -> Vec<String> {
        let mut out = Vec::new();
        for body in [&self.text, &self.html] {
            for (i, _) in body.match_indices("http") {
                let rest = &body[i..];
                if !(rest.starts_with("http://") || rest.starts_with("https://")) {
                    continue;
                }
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '\'')
                    .unwrap_or(rest.len());
                out.push(rest[..end].to_owned());
            }
        }
        out
    }

    /// The path (and query) of `link`, for a test browser.
    pub fn path_of(link: &str) -> String {
        let url = url::Url::parse(link).expect("a URL");
        url.path().to_owned()
    }
}

/// A running SMTP server; killed when dropped.
pub struct SmtpServer {
    child: Child,
    _stdin: ChildStdin,
    pub port: u16,
    dir: tempfile::TempDir,
    /// The certificate (PEM file) when STARTTLS is on.
    pub cert: Option<PathBuf>,
}

fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp/smtp_server.py")
}

/// Whether python3 with aiosmtpd is here; panics under CI when not.
fn available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok && required() {
        panic!("python3 with aiosmtpd is required under CI=true (python3 -m pip install aiosmtpd)");
    }
    if !ok {
        eprintln!("skipping: python3 with aiosmtpd is not installed");
    }
    ok
}

impl SmtpServer {
    /// A plain SMTP server on 127.0.0.1, or `None` (skip) when not installed.
    pub fn start() -> Option<SmtpServer> {
        SmtpServer::spawn(None)
    }

    /// An SMTP server requiring STARTTLS with a fresh self-signed certificate for
    /// `localhost` and 127.0.0.1.
    pub fn start_tls() -> Option<SmtpServer> {
        let certified = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .expect("self-signed certificate");
        let keys = tempfile::tempdir().expect("temp dir").keep();
        let cert = keys.join("cert.pem");
        let key = keys.join("key.pem");
        std::fs::write(&cert, certified.cert.pem()).unwrap();
        std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
        SmtpServer::spawn(Some((cert, key)))
    }

    fn spawn(tls: Option<(PathBuf, PathBuf)>) -> Option<SmtpServer> {
        if !available() {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new("python3");
        command.arg(script()).arg("--dir").arg(dir.path());
        if let Some((cert, key)) = &tls {
            command.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        // The server's own log (a refused TLS handshake prints a traceback) stays in
        // its directory, out of the test output.
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start the SMTP server");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the SMTP server's port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server did not start: {line:?}"));
        Some(SmtpServer {
            child,
            _stdin: stdin,
            port,
            dir,
            cert: tls.map(|(cert, _)| cert),
        })
    }

    /// The `[smtp]` section for a plain server on loopback.
    pub fn config(&self) -> String {
        format!(
            "[smtp]\nhost = '127.0.0.1'\nport = {}\nsecurity = 'none'\nfrom = 'Gatehouse <login@gatehouse.test>'\n",
            self.port
        )
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json")
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// The messages to `to`, oldest first.
    pub fn messages_to(&self, to: &str) -> Vec<Received> {
        self.messages()
            .into_iter()
            .filter(|m| m.rcpt_tos.iter().any(|r| r.eq_ignore_ascii_case(to)))
            .collect()
    }

    /// The messages to `to` whose subject contains `part`.
    pub fn count_subject(&self, to: &str, part: &str) -> usize {
        self.messages_to(to)
            .iter()
            .filter(|m| m.subject.contains(part))
            .count()
    }

    /// Waits (up to 15 s) until `to` has `count` messages whose subject contains
    /// `part`; returns the last of them.
    pub async fn wait_subject(&self, to: &str, part: &str, count: usize) -> Received {
        let started = Instant::now();
        loop {
            let got: Vec<Received> = self
                .messages_to(to)
                .into_iter()
                .filter(|m| m.subject.contains(part))
                .collect();
            if got.len() >= count {
                return got[count - 1].clone();
            }
            if started.elapsed() > Duration::from_secs(15) {
                panic!(
                    "{to} got {} message(s) about {part:?}, expected {count}; all: {:?}",
                    got.len(),
                    self.messages()
                        .iter()
                        .map(|m| (&m.rcpt_tos, &m.subject))
                        .collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Gives the app's outbox time to send anything queued (for "nothing was sent").
    pub async fn settle(&self) {
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port on 127.0.0.1 with nothing listening (a dead mail server).
pub fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

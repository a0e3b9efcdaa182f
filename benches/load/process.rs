//! The real `gatehouse serve` (the release binary cargo built next to this benchmark)
//! as a separate process over a prepared data directory: start-up time, and memory as
//! the kernel counts it (`VmRSS`, `VmHWM` in `/proc/<pid>/status`).

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::Install;
use crate::servers::{config_toml, free_port};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

/// A running `gatehouse serve`.
pub struct Spawned {
    child: Option<Child>,
    pub addr: SocketAddr,
    spawned_at: Instant,
    log: PathBuf,
}

impl Spawned {
    /// Writes a config for `install` on a free port and starts the server on it.
    pub fn start(install: &Install) -> Spawned {
        let port = free_port();
        let parent = install.dir.parent().expect("bench data directory");
        let name = install.dir.file_name().expect("name").to_string_lossy();
        let config = parent.join(format!("{name}.toml"));
        std::fs::write(&config, config_toml(install, port)).expect("write the bench config");
        let log = parent.join(format!("{name}.log"));
        let stderr = File::create(&log).expect("create the server log");
        let mut command = Command::new(BIN);
        // Only the config file written here configures the server.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("GATEHOUSE_") {
                command.env_remove(name);
            }
        }
        let spawned_at = Instant::now();
        let child = command
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start gatehouse serve");
        Spawned {
            child: Some(child),
            addr: ([127, 0, 0, 1], port).into(),
            spawned_at,
            log,
        }
    }

    /// Polls `/healthz` until it answers 200; returns the time since the process was
    /// spawned.
    pub fn wait_healthy(&mut self) -> Duration {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if healthz(self.addr) {
                return self.spawned_at.elapsed();
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "gatehouse serve exited ({status}); see {}",
                    self.log.display()
                );
            }
            assert!(
                Instant::now() < deadline,
                "gatehouse serve did not answer /healthz within a minute; see {}",
                self.log.display()
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// A memory figure from `/proc/<pid>/status` (`VmRSS`, `VmHWM`…), in KiB.
    pub fn status_kib(&self, field: &str) -> u64 {
        let pid = self.child.as_ref().expect("running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
        status
            .lines()
            .find_map(|line| {
                let rest = line.strip_prefix(field)?.strip_prefix(':')?;
                rest.split_whitespace().next()?.parse().ok()
            })
            .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
    }

    /// Stops the server with SIGTERM (a clean shutdown, so the store needs no repair
    /// at the next start) and waits for it.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = rustix::process::Pid::from_child(&child);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Whether `/healthz` on `addr` answers 200 now.
fn healthz(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer.starts_with(b"HTTP/1.1 200")
}

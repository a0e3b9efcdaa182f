//! The individual checks: each a function from the context to findings.

use super::*;

pub(super) fn check_config(ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(tls) = &ctx.config.tls {
        for (key, path) in [("tls.cert", &tls.cert), ("tls.key", &tls.key)] {
            if let Err(e) = std::fs::File::open(path) {
                findings.push(Finding::error(
                    "config",
                    format!("`{key}`: cannot read {}: {e}", path.display()),
                ));
            }
        }
    }
    if findings.is_empty() {
        findings.push(Finding::ok(
            "config",
            format!(
                "valid (listen {}, public_url {}, data_dir {})",
                ctx.config.listen,
                ctx.config.base_url(),
                ctx.config.data_dir.display()
            ),
        ));
    }
    findings
}

/// Who should own a file, and how bad a mismatch is.
pub(super) struct Expect {
    /// Mode bits allowed (e.g. 0o600).
    mode: u32,
    /// Level when other mode bits are set.
    loose: Level,
    /// Level when someone other than the service user owns it.
    foreign: Level,
}

/// The owner and mode of `path` against `expect`.
pub(super) fn ownership(
    ctx: &Context,
    check: &'static str,
    path: &Path,
    expect: Expect,
) -> Finding {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return Finding::error(check, format!("cannot read {}: {e}", path.display())),
    };
    let mode = meta.mode() & 0o777;
    let service_uid = ctx.service_uid();
    if meta.uid() != service_uid {
        return Finding {
            level: expect.foreign,
            check,
            message: format!(
                "{} is owned by uid {}, but the server runs as uid {service_uid}: chown it to the service user",
                path.display(),
                meta.uid()
            ),
        };
    }
    if mode & !expect.mode != 0 {
        return Finding {
            level: expect.loose,
            check,
            message: format!(
                "{} has mode {mode:o}; it should be {:o} (chmod {:o} {})",
                path.display(),
                expect.mode,
                expect.mode,
                path.display()
            ),
        };
    }
    Finding::ok(
        check,
        format!("{} (mode {mode:o}, uid {})", path.display(), meta.uid()),
    )
}

pub(super) fn check_data_dir(ctx: &Context) -> Vec<Finding> {
    let dir = &ctx.config.data_dir;
    match std::fs::metadata(dir) {
        Err(_) => vec![Finding::warn(
            "data-dir",
            format!(
                "{} does not exist yet; the first start creates it (mode 700)",
                dir.display()
            ),
        )],
        Ok(meta) if !meta.is_dir() => vec![Finding::error(
            "data-dir",
            format!("{} is not a directory", dir.display()),
        )],
        Ok(_) => vec![ownership(
            ctx,
            "data-dir",
            dir,
            Expect {
                mode: 0o700,
                loose: Level::Warn,
                foreign: Level::Warn,
            },
        )],
    }
}

pub(super) fn check_master_key(ctx: &Context) -> Vec<Finding> {
    let path = &ctx.key_source.path;
    if path.file_name().is_some_and(|n| n == CREDENTIAL_NAME) {
        return vec![Finding::ok(
            "master-key",
            format!("from the systemd credential {}", path.display()),
        )];
    }
    if std::fs::metadata(path).is_err() {
        let store_exists = ctx.config.data_dir.join(STORE_FILE_NAME).exists();
        return vec![if store_exists {
            Finding::error(
                "master-key",
                format!(
                    "{} is missing but the store exists: restore the key file; without it no secret in the store can be read",
                    path.display()
                ),
            )
        } else {
            Finding::ok(
                "master-key",
                format!("{} will be created at first start", path.display()),
            )
        }];
    }
    // The server refuses to start with a key others can read, or cannot read its own.
    vec![ownership(
        ctx,
        "master-key",
        path,
        Expect {
            mode: 0o600,
            loose: Level::Error,
            foreign: Level::Error,
        },
    )]
}

pub(super) fn check_store_file(ctx: &Context) -> Vec<Finding> {
    let path = ctx.config.data_dir.join(STORE_FILE_NAME);
    if !path.exists() {
        return vec![];
    }
    vec![ownership(
        ctx,
        "store-file",
        &path,
        Expect {
            mode: 0o600,
            loose: Level::Warn,
            foreign: Level::Error,
        },
    )]
}

pub(super) fn check_store(ctx: &Context) -> Vec<Finding> {
    match &ctx.store {
        StoreState::Running { status, .. } => vec![Finding::ok(
            "store",
            format!(
                "a server is running and answered on the admin socket ({} user(s), {} session(s)); page checksums are checked only while it is stopped",
                status.users, status.sessions
            ),
        )],
        StoreState::Absent => vec![Finding::warn(
            "store",
            format!(
                "no store yet at {}; the first `gatehouse serve` creates it and prints a setup link",
                ctx.config
                    .data_dir
                    .join(crate::store::STORE_FILE_NAME)
                    .display()
            ),
        )],
        StoreState::Unreadable(why) => {
            vec![Finding::error("store", format!("cannot be opened: {why}"))]
        }
        StoreState::Checked {
            integrity, status, ..
        } => {
            let mut findings = vec![match integrity {
                Ok(()) => Finding::ok("store", "every page checksum verified"),
                Err(e) => Finding::error(
                    "store",
                    format!(
                        "integrity check failed: {e}; restore a backup (`gatehouse restore FILE`)"
                    ),
                ),
            }];
            if let Err(why) = status
                && integrity.is_ok()
                && !why.starts_with("not read: schema")
            {
                findings.push(Finding::error("store", format!("cannot be read: {why}")));
            }
            findings
        }
    }
}

pub(super) fn check_schema(ctx: &Context) -> Vec<Finding> {
    let version = match &ctx.store {
        StoreState::Running { status, .. } => Some(status.schema_version),
        StoreState::Checked { schema_version, .. } => *schema_version,
        StoreState::Absent | StoreState::Unreadable(_) => return vec![],
    };
    vec![match version {
        Some(v) if v == CURRENT_VERSION => Finding::ok("schema", format!("version {v} (current)")),
        Some(v) if v < CURRENT_VERSION => Finding::warn(
            "schema",
            format!(
                "version {v}; the next start migrates it to {CURRENT_VERSION} (take a backup first)"
            ),
        ),
        Some(v) => Finding::error(
            "schema",
            format!(
                "version {v} was written by a newer Gatehouse (this one knows {CURRENT_VERSION}): upgrade gatehouse"
            ),
        ),
        None => Finding::error(
            "schema",
            "no schema version recorded: not a Gatehouse store?",
        ),
    }]
}

pub(super) fn check_admins(ctx: &Context) -> Vec<Finding> {
    let Some(status) = ctx.status() else {
        return vec![];
    };
    vec![match status.active_staff_admins.len() {
        0 => Finding::warn(
            "admins",
            "no active staff admin: open the setup link printed at start, or run `gatehouse admin create`",
        ),
        n => Finding::ok(
            "admins",
            format!(
                "{n} active staff admin(s): {}",
                status.active_staff_admins.join(", ")
            ),
        ),
    }]
}

pub(super) fn check_break_glass(ctx: &Context) -> Vec<Finding> {
    let Some(status) = ctx.status() else {
        return vec![];
    };
    vec![match (status.break_glass.len(), status.staff_sso_only) {
        (0, true) => Finding::warn(
            "break-glass",
            "staff SSO-only is on and no account is flagged break-glass: if Microsoft sign-in fails, only `gatehouse sso-only off` on this server gets admins back in",
        ),
        (0, false) => Finding::ok("break-glass", "no break-glass accounts"),
        (n, _) => Finding::ok(
            "break-glass",
            format!(
                "{n} break-glass account(s): {}",
                status.break_glass.join(", ")
            ),
        ),
    }]
}

/// Clock sanity. Without a network time source doctor can only catch clocks that are
/// provably wrong: (1) earlier than the moment this binary was built — an error, as
/// sessions and TOTP would misbehave; (2) more than 5 minutes earlier than the newest
/// audit event — the clock stepped back, and TOTP codes may be refused until it
/// catches up (each code must be newer than the last one used); (3) more than 20 years
/// after the build, which suggests a clock set far in the future.
pub(super) fn check_clock(ctx: &Context) -> Vec<Finding> {
    const SLACK_SECS: i64 = 5 * 60;
    const FAR_FUTURE_SECS: i64 = 20 * 365 * 86_400;
    let now = ctx.now;
    if now.0 + SLACK_SECS < ctx.built_at.0 {
        return vec![Finding::error(
            "clock",
            format!(
                "the system clock says {}, before this binary was built ({}): set the time (NTP)",
                now.to_rfc3339(),
                ctx.built_at.to_rfc3339()
            ),
        )];
    }
    if let Some(newest) = ctx.status().and_then(|s| s.newest_audit_at)
        && now.0 + SLACK_SECS < newest
    {
        return vec![Finding::warn(
            "clock",
            format!(
                "the system clock ({}) is behind the newest audit event ({}): it stepped back; TOTP codes may be refused until it catches up",
                now.to_rfc3339(),
                Timestamp(newest).to_rfc3339()
            ),
        )];
    }
    if now.0 > ctx.built_at.0 + FAR_FUTURE_SECS {
        return vec![Finding::warn(
            "clock",
            format!(
                "the system clock says {}, decades after this binary was built: check the time",
                now.to_rfc3339()
            ),
        )];
    }
    vec![Finding::ok(
        "clock",
        format!(
            "{} (after the build date and the newest audit event)",
            now.to_rfc3339()
        ),
    )]
}

/// Forwarded requests from a peer that is not a trusted proxy, as the running server
/// saw them: its `X-Forwarded-For` is ignored, so behind such a proxy every visitor
/// shares its address.
pub(super) fn check_forwarding(ctx: &Context) -> Vec<Finding> {
    let StoreState::Running { status, .. } = &ctx.store else {
        return vec![];
    };
    vec![match &status.untrusted_forwarding {
        Some(seen) => Finding::warn(
            "forwarding",
            format!(
                "{} request(s) since start carried X-Forwarded-For from {}, which is not in trusted_proxies, so the header was ignored: if that is your proxy, every visitor looks like its one address (one sign-in throttle and one audit address for all); add it to trusted_proxies",
                seen.requests, seen.last_peer
            ),
        ),
        None => Finding::ok(
            "forwarding",
            "no X-Forwarded-For from peers outside trusted_proxies since start",
        ),
    }]
}

/// Files an interrupted backup or restore may leave in the data directory.
pub(super) fn check_leftovers(ctx: &Context) -> Vec<Finding> {
    let Ok(entries) = std::fs::read_dir(&ctx.config.data_dir) else {
        return vec![];
    };
    let leftovers: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            (name.starts_with(".backup-") && name.ends_with(".partial"))
                || name.ends_with(".restoring")
                || name.ends_with(".bak.new")
        })
        .collect();
    if leftovers.is_empty() {
        return vec![];
    }
    vec![Finding::warn(
        "leftovers",
        format!(
            "an interrupted backup or restore left {}; remove them once no backup or restore runs",
            leftovers
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )]
}

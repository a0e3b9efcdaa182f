//! The command line (DESIGN §6). Management commands go to a running server over its
//! admin socket, or — when none runs — open the store directly; both paths execute
//! the same `admin_api` requests. Secrets are read from standard input, never argv.

mod args;
mod provider_args;
mod requests;
mod staff_args;
mod values;

pub use args::*;
pub use provider_args::*;
use requests::{
    client_request, read_secret, scim_request, sessions_request, sso_request, user_request,
};
pub use values::*;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

use crate::admin_api::{AdminRequest, AdminResponse, SOCKET_FILE_NAME, execute, socket};
use crate::app::{self, OpenError};
use crate::config::{Config, Overrides, SettingValue};
use crate::ops;

/// Runs the CLI; the exit code is 0 on success, 1 when a command failed, 2 for
/// configuration errors.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides {
        data_dir: cli.data_dir.clone(),
    };
    let config = match Config::load(cli.config.as_deref(), std::env::vars(), &overrides) {
        Ok(c) => c,
        Err(e) if matches!(cli.command, Command::Doctor) => {
            return crate::ops::doctor::config_failed(&e, cli.json);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // `serve` logs it through the configured log format instead.
    if !config.ignored_env.is_empty() && !matches!(cli.command, Command::Serve) {
        eprintln!(
            "warning: ignoring environment variables that name no configuration key: {}",
            config.ignored_env.join(", ")
        );
    }
    match dispatch(cli, config) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli, config: Config) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let request = match cli.command {
        Command::Serve => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(app::serve(config))?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::CheckConfig => return Ok(check_config(&config, json)),
        Command::Backup { file, with_key } => {
            return ops::backup::run(&config, &file, with_key.as_deref(), json);
        }
        Command::Restore { file, key } => {
            return ops::restore::run(&config, &file, key.as_deref(), json);
        }
        Command::Doctor => return ops::doctor::run(&config, json),
        Command::Healthcheck => return ops::healthcheck::run(&config),
        Command::Audit { follow, limit } => {
            return follow_audit(&config, json, follow, limit);
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    name,
                    password_stdin: _,
                },
        } => AdminRequest::AdminCreate {
            email,
            name,
            password: read_secret("password")?,
        },
        Command::User { command } => user_request(command),
        Command::Sessions { command } => sessions_request(command),
        Command::Sso { command } => sso_request(command)?,
        Command::Idp { command, client } => requests::idp_request(command, client)?,
        Command::SsoOnly { state, client } => AdminRequest::SsoOnly {
            on: matches!(state, OnOff::On),
            client,
        },
        Command::PasskeySignIn { state, client } => AdminRequest::PasskeySignIn {
            on: matches!(state, OnOff::On),
            client,
        },
        Command::PortalApp { command } => match command {
            PortalAppCommand::Show => AdminRequest::PortalAppShow,
            PortalAppCommand::Set {
                client_id,
                client_secret_stdin,
                secret_expires,
            } => AdminRequest::PortalAppSet {
                client_id,
                client_secret: if client_secret_stdin {
                    Some(read_secret("client secret")?)
                } else {
                    None
                },
                secret_expires,
            },
        },
        Command::Client { command } => client_request(command)?,
        Command::Staff { command } => requests::staff_request(command)?,
        Command::Mail {
            command: MailCommand::Test { to },
        } => AdminRequest::MailTest { to },
        Command::Scim { command } => scim_request(command),
    };
    let response = perform(&config, &request)?;
    Ok(print(&response, json))
}

/// Sends `request` to the running server, or executes it on the store directly. Only
/// `admin create` may create the store; every other request needs an existing one.
pub fn perform(config: &Config, request: &AdminRequest) -> anyhow::Result<AdminResponse> {
    let socket_path = config.data_dir.join(SOCKET_FILE_NAME);
    if let Some(response) = socket::send(&socket_path, request)
        .with_context(|| format!("while talking to the server on {}", socket_path.display()))?
    {
        return Ok(response);
    }
    if !matches!(request, AdminRequest::AdminCreate { .. }) {
        ops::store_location::require_existing(config)?;
    }
    let services = match app::open_services(config) {
        Ok(s) => s,
        Err(OpenError::InUse) => anyhow::bail!(
            "the store is in use by a running server, but its admin socket {} does not answer",
            socket_path.display()
        ),
        Err(OpenError::Other(e)) => return Err(e),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(execute::execute(&services, request.clone())))
}

fn print(response: &AdminResponse, json: bool) -> ExitCode {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&response.data).unwrap_or_default()
        );
    } else if response.ok {
        if !response.text.is_empty() {
            println!("{}", response.text);
        }
    } else {
        eprintln!("error: {}", response.text);
    }
    if response.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn follow_audit(
    config: &Config,
    json: bool,
    follow: bool,
    limit: usize,
) -> anyhow::Result<ExitCode> {
    let first = perform(config, &AdminRequest::Audit { limit, after: None })?;
    let code = print(&first, json);
    if !follow || !first.ok {
        return Ok(code);
    }
    let mut last = first
        .data
        .as_array()
        .and_then(|events| events.iter().filter_map(|e| e["seq"].as_u64()).max())
        .unwrap_or(0);
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let next = perform(
            config,
            &AdminRequest::Audit {
                limit: 1000,
                after: Some(last),
            },
        )?;
        if !next.ok {
            return Ok(print(&next, json));
        }
        if let Some(events) = next.data.as_array()
            && !events.is_empty()
        {
            last = events
                .iter()
                .filter_map(|e| e["seq"].as_u64())
                .max()
                .unwrap_or(last);
            print(&next, json);
        }
    }
}

fn check_config(config: &Config, json: bool) -> ExitCode {
    let mut problems = Vec::new();
    if let Some(tls) = &config.tls {
        for (key, path) in [("tls.cert", &tls.cert), ("tls.key", &tls.key)] {
            if std::fs::metadata(path).is_err() {
                problems.push(format!(
                    "configuration key `{key}`: cannot read {}",
                    path.display()
                ));
            }
        }
    }
    let settings = config.settings();
    let file = config.file.as_ref().map(|f| f.display().to_string());
    if json {
        let mut value = serde_json::json!({
            "ok": problems.is_empty(),
            "problems": problems,
            "config_file": file,
            "ignored_environment": config.ignored_env,
        });
        for setting in &settings {
            set_json(&mut value, setting.key, json_value(&setting.value));
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else if problems.is_empty() {
        println!("configuration OK");
        println!(
            "  (file: {})",
            file.as_deref()
                .unwrap_or("none; defaults and environment only")
        );
        let width = settings.iter().map(|s| s.key.len()).max().unwrap_or(0);
        for setting in &settings {
            println!("  {:width$} = {}", setting.key, setting.value);
        }
    } else {
        for p in &problems {
            eprintln!("error: {p}");
        }
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

fn json_value(value: &SettingValue) -> serde_json::Value {
    match value {
        SettingValue::Text(text) => text.clone().into(),
        SettingValue::Flag(on) => (*on).into(),
        SettingValue::List(items) => items.clone().into(),
        SettingValue::Unset(_) => serde_json::Value::Null,
    }
}

/// Sets `a.b` in a JSON object, creating the inner object.
fn set_json(root: &mut serde_json::Value, key: &str, value: serde_json::Value) {
    let mut current = root;
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        let Some(object) = current.as_object_mut() else {
            return;
        };
        if parts.peek().is_none() {
            object.insert(part.to_owned(), value);
            return;
        }
        current = object
            .entry(part.to_owned())
            .or_insert_with(|| serde_json::json!({}));
    }
}

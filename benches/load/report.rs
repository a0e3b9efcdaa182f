//! The one table: every row with both sides, their ratio and the goal, rendered as
//! Markdown for the terminal, `target/bench-report.md` and the README.

use std::fmt::Write as _;
use std::path::Path;

/// What a row's ratio must be.
#[derive(Clone, Copy, Debug)]
pub enum Goal {
    AtLeast(f64),
    AtMost(f64),
    /// Reported only; the issue sets no goal.
    None,
}

/// One row of the table.
#[derive(Clone, Debug)]
pub struct Row {
    pub id: &'static str,
    pub what: String,
    pub gatehouse: String,
    pub limit: String,
    pub ratio: Option<f64>,
    pub goal: Goal,
    /// Set when the measurement itself went wrong (errors during a load run…).
    pub problem: Option<String>,
}

impl Row {
    pub fn new(id: &'static str, what: impl Into<String>) -> Row {
        Row {
            id,
            what: what.into(),
            gatehouse: String::new(),
            limit: String::new(),
            ratio: None,
            goal: Goal::None,
            problem: None,
        }
    }

    pub fn sides(mut self, gatehouse: impl Into<String>, limit: impl Into<String>) -> Row {
        self.gatehouse = gatehouse.into();
        self.limit = limit.into();
        self
    }

    pub fn ratio(mut self, ratio: f64, goal: Goal) -> Row {
        self.ratio = ratio.is_finite().then_some(ratio);
        self.goal = goal;
        self
    }

    pub fn problem(mut self, problem: Option<String>) -> Row {
        self.problem = problem;
        self
    }

    /// `met`, `missed`, `—` (no goal) or why the row is not valid.
    pub fn verdict(&self) -> String {
        if let Some(problem) = &self.problem {
            return format!("invalid: {problem}");
        }
        match (self.goal, self.ratio) {
            (Goal::None, _) => "—".to_owned(),
            (_, None) => "not measured".to_owned(),
            (Goal::AtLeast(goal), Some(r)) if r >= goal => "met".to_owned(),
            (Goal::AtMost(goal), Some(r)) if r <= goal => "met".to_owned(),
            _ => "**missed**".to_owned(),
        }
    }

    pub fn met(&self) -> Option<bool> {
        match self.verdict().as_str() {
            "met" => Some(true),
            "—" => None,
            _ => Some(false),
        }
    }
}

fn goal_text(goal: Goal) -> String {
    match goal {
        Goal::AtLeast(g) => format!("≥ {g:.2}"),
        Goal::AtMost(g) => format!("≤ {g:.2}"),
        Goal::None => "—".to_owned(),
    }
}

/// The machine the numbers come from.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_owned();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores (nproc), {model}, {:.1} GiB RAM, Linux {}",
        ram_kib as f64 / 1024.0 / 1024.0,
        kernel.trim()
    )
}

/// The report: title, machine, the table, then notes.
pub fn render(rows: &[Row], notes: &[String]) -> String {
    let now = time::OffsetDateTime::now_utc();
    let date = now
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute] UTC"
        ))
        .unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(out, "## Gatehouse benchmark ({date})\n");
    let _ = writeln!(out, "Machine: {}\n", machine());
    let _ = writeln!(
        out,
        "| # | Benchmark | Gatehouse | Limit (same run) | Ratio | Goal | Result |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for row in rows {
        let ratio = row.ratio.map_or("—".to_owned(), |r| format!("{r:.2}"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.id,
            row.what,
            row.gatehouse,
            row.limit,
            ratio,
            goal_text(row.goal),
            row.verdict()
        );
    }
    if !notes.is_empty() {
        out.push('\n');
        for note in notes {
            let _ = writeln!(out, "- {note}");
        }
    }
    out
}

/// Writes the report next to cargo's other output.
pub fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(path, text) {
        Ok(()) => eprintln!("[bench] report written to {}", path.display()),
        Err(e) => eprintln!("[bench] could not write {}: {e}", path.display()),
    }
}

/// `12,345`
pub fn thousands(n: f64) -> String {
    let whole = n.round() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration in nanoseconds, in the unit that reads best.
pub fn nanos(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// KiB as MiB.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

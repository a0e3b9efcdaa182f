//! `gatehouse staff …`: the staff pages' own look (organisation name and logo), the
//! staff equivalent of a client's branding in `gatehouse client set`.

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Show the organisation name and whether a logo is set.
    Show,
    /// Set the organisation name and logo of the staff pages (sign-in, account, admin
    /// console, staff emails); only the options given change.
    Set {
        /// Shown instead of "Gatehouse" ("" = Gatehouse); one line, at most 80 characters.
        #[arg(long)]
        org_name: Option<String>,
        /// A PNG or JPEG logo of at most 64 KiB ("" removes it).
        // A string, not a path: clap refuses an empty path, and "" means "remove".
        #[arg(long, value_name = "FILE")]
        logo: Option<String>,
    },
}

//! Values several commands take.

use clap::ValueEnum;

/// A switch: `on` or `off`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

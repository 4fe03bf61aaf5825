//! `--color auto|always|never` for the commands that colour their output,
//! through anstream: text is written with anstyle styles and the stream
//! strips them unless colour is wanted. `auto` colours a terminal unless
//! `NO_COLOR` is set (or `CLICOLOR_FORCE` asks for colour anywhere).

use anstream::{AutoStream, ColorChoice};

/// When to colour what a command prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set.
    #[default]
    Auto,
    /// Always, even into a pipe or with NO_COLOR set.
    Always,
    /// Never.
    Never,
}

/// The `--color` option, flattened into a command's arguments.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct ColorArgs {
    /// Colour the output: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

impl ColorArgs {
    fn choice(self) -> ColorChoice {
        match self.color {
            ColorWhen::Auto => ColorChoice::Auto,
            ColorWhen::Always => ColorChoice::Always,
            ColorWhen::Never => ColorChoice::Never,
        }
    }

    /// Standard output, styled as asked.
    pub fn stdout(self) -> AutoStream<std::io::Stdout> {
        AutoStream::new(std::io::stdout(), self.choice())
    }

    /// Standard error, styled as asked.
    pub fn stderr(self) -> AutoStream<std::io::Stderr> {
        AutoStream::new(std::io::stderr(), self.choice())
    }
}

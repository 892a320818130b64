//! `infobound completions <SHELL>`: the shell completion script, generated from the same
//! grammar the parser uses, so it offers every command, option and named value.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;
use crate::failure::Failure;

/// `completions`' options.
#[derive(Args)]
#[command(after_help = "\
Examples:
  infobound completions bash > ~/.local/share/bash-completion/completions/infobound
  infobound completions zsh > ~/.zfunc/_infobound       # with fpath+=~/.zfunc before compinit
  infobound completions fish > ~/.config/fish/completions/infobound.fish")]
pub struct CompletionsArgs {
    /// The shell to write the script for
    #[arg(value_enum)]
    shell: Shell,
}

/// Writes the script for `args.shell` on stdout.
pub fn completions(args: &CompletionsArgs) -> Result<(), Failure> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "infobound", &mut std::io::stdout());
    Ok(())
}

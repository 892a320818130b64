//! clap's errors in the command line's contract: one line on stderr, exit status 2.
//!
//! clap renders an error as several lines: the message, sometimes an indented list (the
//! missing options) and a `tip:` (a similar option), then the usage and "For more
//! information, try '--help'". Scripts and the tests read one line, so the message and its
//! list are joined, the tips follow in brackets, and the usage is left to `--help`.

use clap::error::ErrorKind;

use crate::failure::{usage, Failure};

/// What a failed parse means: help or a version to print (exit 0), or bad usage (exit 2).
pub fn handle(e: clap::Error) -> Result<(), Failure> {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // clap prints these on stdout; a reader that has gone away ends us by SIGPIPE.
            let _ = e.print();
            Ok(())
        }
        _ => Err(usage(one_line(&e.render().to_string()))),
    }
}

/// clap's rendered error as one line, without the leading `error: ` (see the module docs).
pub fn one_line(rendered: &str) -> String {
    let mut message: Vec<&str> = Vec::new();
    let mut tips: Vec<&str> = Vec::new();
    let mut in_usage = false;
    for line in rendered.lines() {
        let t = line.trim();
        if t.starts_with("Usage:") {
            in_usage = true;
        } else if t.is_empty() {
            in_usage = false;
        } else if in_usage || t.starts_with("For more information") {
            continue;
        } else if t.starts_with("tip:") {
            tips.push(t);
        } else {
            message.push(t);
        }
    }
    let mut out = message.join(" ");
    if let Some(rest) = out.strip_prefix("error:") {
        out = rest.trim_start().to_string();
    }
    if !tips.is_empty() {
        out = format!("{out} ({})", tips.join("; "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn a_tip_joins_the_message_and_the_usage_goes() {
        let rendered = "error: unexpected argument '--hlep' found\n\n  tip: a similar argument \
                        exists: '--help'\n\nUsage: infobound estimate --x <FILE> --y <FILE>\n\n\
                        For more information, try '--help'.\n";
        assert_eq!(
            one_line(rendered),
            "unexpected argument '--hlep' found (tip: a similar argument exists: '--help')"
        );
    }

    #[test]
    fn an_indented_list_joins_its_message() {
        let rendered =
            "error: the following required arguments were not provided:\n  --x <FILE>\n\n\
                        Usage: infobound estimate --x <FILE> --y <FILE>\n\n\
                        For more information, try '--help'.\n";
        assert_eq!(
            one_line(rendered),
            "the following required arguments were not provided: --x <FILE>"
        );
    }
}

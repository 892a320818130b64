//! The command line's help, its usage errors and its shell completions: `help` and `--help`
//! on every command exit 0 and say the units and the defaults; a mistyped option is one line
//! with clap's suggestion and exit status 2; `completions` writes a script for each shell.

mod common;

use common::cli::run;

/// stdout of a run that must succeed.
fn ok_stdout(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: status {:?}, stderr {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_lists_every_command_and_the_exit_status() {
    for args in [&[][..], &["help"], &["--help"]] {
        let text = ok_stdout(args);
        for command in [
            "estimate",
            "staircase",
            "mine-demo",
            "sandwich",
            "consistency",
            "bench",
            "devices",
            "completions",
        ] {
            assert!(text.contains(command), "{args:?} lacks {command}: {text}");
        }
        assert!(text.contains("Exit status"), "{text}");
        assert!(text.contains("nats"), "{text}");
        assert!(text.contains("Belghazi et al. 2018"), "{text}");
    }
}

#[test]
fn each_command_s_help_states_its_defaults() {
    let defaults = infobound::Estimator::default();
    let estimate = ok_stdout(&["estimate", "--help"]);
    for text in [
        "[default: smile]".to_string(),
        "[default: separable]".to_string(),
        format!("[default: {}]", defaults.batch),
        format!("[default: {}]", defaults.steps),
        format!("[default: {}]", defaults.adam.lr),
        format!("[default: {}]", defaults.test_fraction),
        "SMILE (Song & Ermon 2020)".to_string(),
        "Poole et al. 2019".to_string(),
        "nats".to_string(),
    ] {
        assert!(estimate.contains(&text), "estimate --help lacks {text}");
    }
    assert_eq!(ok_stdout(&["help", "estimate"]), estimate);
    for (command, needle) in [
        ("staircase", "[default: 4000]"),
        ("mine-demo", "[default: 0.85,0.9,0.95,0.99]"),
        ("sandwich", "Poole et al. 2019"),
        ("bench", "[default: standard,bmi]"),
        (
            "consistency",
            "[default: baseline,independence,data-processing,additivity]",
        ),
        ("completions", "bash"),
    ] {
        let text = ok_stdout(&[command, "--help"]);
        assert!(
            text.contains(needle),
            "{command} --help lacks {needle}: {text}"
        );
    }
}

#[test]
fn a_mistyped_option_is_one_line_with_a_suggestion_and_exit_2() {
    for args in [
        &["estimate", "--hlep"][..],
        &["estimate", "--x", "x.npy", "--y", "y.npy", "--hlep"],
    ] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains("'--help'"), "{args:?}: no suggestion in {err}");
        assert!(out.stdout.is_empty());
    }
    let out = run(&["estimat"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("'estimate'"), "{err}");
}

#[test]
fn completions_are_written_for_each_shell() {
    for (shell, needle) in [
        ("bash", "_infobound()"),
        ("zsh", "#compdef infobound"),
        ("fish", "complete -c infobound"),
        ("elvish", "infobound"),
        ("powershell", "infobound"),
    ] {
        let script = ok_stdout(&["completions", shell]);
        assert!(script.contains(needle), "{shell}: {needle} missing");
        // The named values are offered too.
        assert!(script.contains("alpha-infonce"), "{shell}: no bound names");
    }
    let out = run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

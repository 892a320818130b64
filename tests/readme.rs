//! The README's stated defaults are `Estimator::default()`'s: the paragraph that starts with
//! "**Defaults**" must name the same bound, τ, critic, widths, batch, learning rate, steps,
//! test fraction and evaluation schedule, so a change on either side fails here until the
//! other follows. The README also stays short enough to read in five minutes.

use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::Estimator;

/// The README's "**Defaults**" paragraph, its lines joined by spaces.
fn defaults_paragraph() -> String {
    let readme = include_str!("../README.md");
    let start = readme
        .find("**Defaults**")
        .expect("the README has a **Defaults** paragraph");
    let rest = &readme[start..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    rest[..end].split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the paragraph must say, from the code.
fn stated_defaults() -> Vec<String> {
    let d = Estimator::default();
    let Bound::Smile { tau } = d.bound else {
        panic!(
            "the default bound is now {}: rewrite the README's defaults paragraph and this test",
            d.bound.name()
        );
    };
    let CriticForm::Separable { hidden, embed } = &d.critic else {
        panic!(
            "the default critic is now {}: rewrite the README's defaults paragraph and this test",
            d.critic.name()
        );
    };
    let widths: Vec<String> = hidden.iter().map(usize::to_string).collect();
    vec![
        format!("bound `{}` (τ = {tau})", d.bound.name()),
        format!("critic `{}`", d.critic.name()),
        format!("hidden widths {}", widths.join("-")),
        format!("embedding {embed}"),
        format!("batch {}", d.batch),
        format!("learning rate {:e} (Adam)", d.adam.lr),
        format!("{} steps", d.steps),
        format!("test fraction {}", d.test_fraction),
        format!("({:.0} % of the rows held out)", d.test_fraction * 100.0),
        format!("every {} steps", d.eval_every),
        format!("on {} held-out batches", d.eval_batches),
        format!("transform `{}`", d.transform.name()),
    ]
}

#[test]
fn the_readme_states_the_estimators_defaults() {
    let paragraph = defaults_paragraph();
    for text in stated_defaults() {
        assert!(
            paragraph.contains(&text),
            "the README's defaults paragraph lacks {text:?} (Estimator::default()): {paragraph}"
        );
    }
}

#[test]
fn the_readme_stays_short() {
    let words = include_str!("../README.md").split_whitespace().count();
    assert!(
        words <= 1_500,
        "README.md has {words} words; keep it to about 1 500"
    );
}

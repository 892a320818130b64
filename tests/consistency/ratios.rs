//! Ratios (the delta method), which estimate each is divided by, and the verdicts.

use infobound::experiments::consistency::report::{fill_ratios, ratio, verdicts};
use infobound::experiments::consistency::{Row, Setting};

fn row(setting: Setting, t: usize, mi: f64, se: f64) -> Row {
    Row::scored(setting, t, (1, 1), mi, se)
}

#[test]
fn the_ratio_and_its_standard_error_follow_the_delta_method() {
    let (r, se) = ratio(2.0, 0.1, 4.0, 0.2).unwrap();
    assert_eq!(r, 0.5);
    // sqrt(0.1² + 0.5²·0.2²) / 4
    assert!((se - (0.01f64 + 0.01).sqrt() / 4.0).abs() < 1e-12, "{se}");
    assert!(ratio(1.0, 0.1, 0.0, 0.1).is_none());
    assert!(ratio(1.0, 0.1, -2.0, 0.1).is_none());
    assert!(ratio(f64::NAN, 0.1, 2.0, 0.1).is_none());
}

#[test]
fn the_baseline_divides_by_its_largest_t_and_the_others_by_the_baseline_at_their_t() {
    let mut rows = vec![
        row(Setting::Baseline, 1, 1.0, 0.0),
        row(Setting::Baseline, 2, 3.0, 0.0),
        row(Setting::Baseline, 4, 4.0, 0.0),
        row(Setting::Independence, 2, 0.1875, 0.0),
        row(Setting::DataProcessing, 1, 1.05, 0.0),
        row(Setting::Additivity, 4, 6.0, 0.0),
        Row::failed(Setting::Additivity, 2, (1, 1), "diverged".into()),
    ];
    fill_ratios(&mut rows);
    let ratios: Vec<Option<f64>> = rows.iter().map(|r| r.ratio).collect();
    assert_eq!(
        ratios,
        [
            Some(0.25),
            Some(0.75),
            Some(1.0),
            Some(0.0625),
            Some(1.05),
            Some(1.5),
            None
        ]
    );
    assert_eq!(rows[2].ratio_std_err, 0.0);
    let v = verdicts(&rows);
    let by = |s: Setting| v.iter().find(|v| v.setting == s).unwrap();
    assert!(by(Setting::Baseline).holds);
    // Within 0.1 × max(ideal, 1) of the ideal: it holds.
    assert!(by(Setting::Independence).holds);
    assert!(by(Setting::DataProcessing).holds);
    let add = by(Setting::Additivity);
    assert!(!add.holds);
    assert_eq!(
        (add.failing.clone(), add.missing.clone()),
        (vec![4], vec![2])
    );
}

#[test]
fn a_falling_baseline_fails_where_it_falls_beyond_its_noise() {
    let mut rows = vec![
        row(Setting::Baseline, 1, 2.0, 0.01),
        row(Setting::Baseline, 2, 1.5, 0.01),
        row(Setting::Baseline, 3, 1.45, 0.01),
        row(Setting::Baseline, 4, 2.0, 0.01),
    ];
    fill_ratios(&mut rows);
    let v = verdicts(&rows);
    assert_eq!(v.len(), 1);
    // 1 → 0.75 falls by 0.25; 0.75 → 0.725 stays within 0.1.
    assert_eq!(v[0].failing, vec![2]);
    assert!(!v[0].holds);
    // The same fall inside a wide standard error is noise.
    let mut noisy = vec![
        row(Setting::Baseline, 1, 2.0, 0.4),
        row(Setting::Baseline, 2, 1.5, 0.4),
        row(Setting::Baseline, 4, 2.0, 0.4),
    ];
    fill_ratios(&mut noisy);
    assert!(verdicts(&noisy)[0].holds);
}

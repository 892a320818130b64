//! A tiny run end to end on the CPU backend: every setting's rows, ratios, verdicts and
//! tables, several bounds side by side, and bad input stopping the run.

use std::sync::Mutex;

use infobound::experiments::consistency::table::CSV_HEADER;
use infobound::experiments::consistency::{Consistency, Images, Setting};
use infobound::math::bounds::Bound;
use infobound::math::critic::CriticForm;
use infobound::{DeviceChoice, Estimator};

/// A few seconds of training in the debug profile; its numbers mean little.
fn tiny() -> Estimator {
    Estimator::default()
        .with_device(DeviceChoice::Cpu)
        .with_critic(CriticForm::Separable {
            hidden: vec![8],
            embed: 4,
        })
        .with_batch(16)
        .with_steps(40)
        .with_eval_every(20)
        .with_eval_batches(4)
}

#[test]
fn every_setting_runs_with_its_ratio_for_each_bound() {
    let images = Images::digits().unwrap();
    let experiment = Consistency::default()
        .with_rows(vec![8, 2, 2])
        .with_threads(2);
    let estimators = [tiny(), tiny().with_bound(Bound::InfoNce)];
    let seen = Mutex::new(Vec::new());
    let reports = experiment
        .run_each(&images, &estimators, |i, r| {
            seen.lock().unwrap().push((i, r.setting, r.t));
        })
        .unwrap();
    assert_eq!(seen.into_inner().unwrap().len(), 2 * 4 * 2);
    assert_eq!(reports.len(), 2);
    assert_eq!((reports[0].bound, reports[1].bound), ("smile", "infonce"));
    for rep in &reports {
        let table = rep.to_markdown();
        // Settings in order, t ascending and deduplicated.
        let order: Vec<(Setting, usize)> = rep.rows.iter().map(|r| (r.setting, r.t)).collect();
        let want: Vec<(Setting, usize)> = Setting::ALL
            .into_iter()
            .flat_map(|s| [(s, 2), (s, 8)])
            .collect();
        assert_eq!(order, want);
        for r in &rep.rows {
            assert!(r.error.is_none() && r.estimate.is_finite(), "{table}");
            assert!(r.device.contains("CPU"), "{}", r.device);
            let k = if r.setting.images_a_row() == 2 { 2 } else { 1 };
            assert_eq!(r.dims, (61 * k, if r.t == 2 { 15 } else { 61 } * k));
        }
        let base = rep.row(Setting::Baseline, 8).unwrap();
        let add = rep.row(Setting::Additivity, 2).unwrap();
        let base2 = rep.row(Setting::Baseline, 2).unwrap();
        if base.estimate > 0.0 {
            assert_eq!(base.ratio, Some(1.0));
        }
        if base2.estimate > 0.0 {
            let want = add.estimate / base2.estimate;
            assert!((add.ratio.unwrap() - want).abs() < 1e-12);
        }
        assert_eq!(rep.verdicts.len(), 4);
        assert_eq!(rep.dropped, [(0, 0), (4, 0), (4, 7)]);
        assert_eq!((rep.images, rep.shape, rep.levels), (1797, (8, 8), 17));
        assert!(table.contains("| additivity | 8 | 122×122 |"), "{table}");
        assert!(table.contains("3 of 64 pixels dropped"), "{table}");
        assert!(table.contains("Only the ratios mean anything"), "{table}");
        let csv = rep.csv_rows();
        assert_eq!(csv.lines().count(), 8);
        let fields = CSV_HEADER.split(',').count();
        assert!(csv.lines().all(|l| l.split(',').count() == fields), "{csv}");
        assert!(
            csv.starts_with(&format!("{},baseline,2,61,15,", rep.bound)),
            "{csv}"
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_report_and_bad_input_stops_the_run() {
    let images = Images::digits().unwrap();
    let one = Consistency::default()
        .with_rows(vec![1])
        .with_settings(vec![Setting::Independence]);
    let a = one.run(&images, &tiny()).unwrap();
    let b = one.clone().with_threads(1).run(&images, &tiny()).unwrap();
    let values = |r: &infobound::experiments::consistency::ConsistencyReport| {
        r.rows
            .iter()
            .map(|r| (r.setting, r.estimate.to_bits()))
            .collect::<Vec<_>>()
    };
    // The baseline always runs; threads do not change a bit.
    assert_eq!(values(&a).len(), 2);
    assert_eq!(values(&a), values(&b));
    let e = one.run(&images, &tiny().with_batch(1)).unwrap_err();
    assert!(e.is_input(), "{e}");
    assert!(e.to_string().contains("batch"), "{e}");
    let e = one
        .clone()
        .with_rows(vec![9])
        .run(&images, &tiny())
        .unwrap_err();
    assert!(
        e.to_string().contains("not 9 (the images have 8 rows)"),
        "{e}"
    );
    let e = one.run_each(&images, &[], |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("the estimators"), "{e}");
}

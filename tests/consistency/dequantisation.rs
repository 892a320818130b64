//! The dequantisation: inside its grey level, the same bits for the same seed, ties broken,
//! and its own draw for every copy of a pixel.

use infobound::experiments::consistency::{Constructions, Dequantise, GreyLevels, Images, Setting};

/// The largest uniform the generator draws: 1 − 2^-24.
const TOP_U: f32 = 1.0 - 1.0 / 16_777_216.0;

#[test]
fn a_level_spans_up_to_the_next_one_and_the_top_level_the_gap_below() {
    let levels = GreyLevels::of(&[3.0, -1.0, 0.5, 0.0, 0.5, -0.0, 3.0]);
    assert_eq!(levels.values(), &[-1.0, 0.0, 0.5, 3.0]);
    assert_eq!(levels.interval(-1.0), (-1.0, 0.0));
    assert_eq!(levels.interval(0.5), (0.5, 3.0));
    assert_eq!(levels.interval(3.0), (3.0, 5.5));
    assert_eq!(GreyLevels::of(&[2.0]).interval(2.0), (2.0, 3.0));
    for v in levels.values() {
        let (lo, hi) = levels.interval(*v);
        assert_eq!(levels.dequantise(*v, 0.0), lo);
        let mid = levels.dequantise(*v, 0.5);
        assert!((mid - (lo + hi) / 2.0).abs() < 1e-6, "{v}: {mid}");
        let top = levels.dequantise(*v, TOP_U);
        assert!(top >= lo && top < hi, "{v}: {top} outside [{lo}, {hi})");
    }
    // Where f32 rounding would reach the next level (16 + (1 − 2^-24) rounds to 17), the
    // value stays below it.
    let digits = GreyLevels::of(&[15.0, 16.0, 17.0]);
    assert_eq!(
        f32::from(16u8) + TOP_U,
        17.0,
        "the rounding this guards against"
    );
    let v = digits.dequantise(16.0, TOP_U);
    assert!((16.0..17.0).contains(&v), "{v}");
}

#[test]
fn every_digit_pixel_stays_in_its_level_and_ties_are_broken() {
    let d = Images::digits().unwrap();
    let c = Constructions::new(d.clone(), Dequantise::Levels, 0).unwrap();
    let p = c.build(Setting::Baseline, 8).unwrap();
    let raw = Constructions::new(d.clone(), Dequantise::None, 0).unwrap();
    let q = raw.build(Setting::Baseline, 8).unwrap();
    // Levels 0..16 are one apart: the dequantised pixel is in [v, v + 1).
    for (noisy, v) in p.x.iter().zip(&q.x) {
        assert!(*noisy >= *v && *noisy < v + 1.0, "{noisy} from level {v}");
        assert_eq!(noisy.floor(), *v);
    }
    let distinct = |m: &[f32], d: usize, j: usize| {
        let mut col: Vec<u32> = (0..m.len() / d).map(|i| m[i * d + j].to_bits()).collect();
        col.sort_unstable();
        col.dedup();
        col.len()
    };
    let n = d.len();
    // As given, some columns are mostly one value (the rank-Gauss transform warns on them);
    // dequantised, almost every value of every column is distinct.
    let most_tied = (0..q.dx).map(|j| distinct(&q.x, q.dx, j)).min().unwrap();
    assert!(most_tied < n / 100, "as given: {most_tied} distinct values");
    for j in 0..p.dx {
        let k = distinct(&p.x, p.dx, j);
        assert!(k >= n * 99 / 100, "column {j}: {k} distinct values of {n}");
    }
}

#[test]
fn the_same_seed_gives_the_same_bits_and_each_copy_its_own_noise() {
    let d = Images::digits().unwrap();
    let a = Constructions::new(d.clone(), Dequantise::Levels, 5).unwrap();
    let b = Constructions::new(d.clone(), Dequantise::Levels, 5).unwrap();
    let other = Constructions::new(d, Dequantise::Levels, 6).unwrap();
    for setting in Setting::ALL {
        let (pa, pb) = (a.build(setting, 3).unwrap(), b.build(setting, 3).unwrap());
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&pa.x), bits(&pb.x), "{setting:?}");
        assert_eq!(bits(&pa.y), bits(&pb.y), "{setting:?}");
        let po = other.build(setting, 3).unwrap();
        assert_ne!(
            bits(&pa.x),
            bits(&po.x),
            "{setting:?}: another seed, other noise"
        );
    }
    let base = a.build(Setting::Baseline, 3).unwrap();
    let more = a.build(Setting::Baseline, 4).unwrap();
    let dp = a.build(Setting::DataProcessing, 3).unwrap();
    for i in 0..base.n {
        let (x, y) = (
            &base.x[i * base.dx..][..base.dx],
            &base.y[i * base.dy..][..base.dy],
        );
        // Y at t is the first columns of Y at t + 1: the noise does not depend on t.
        assert_eq!(y, &more.y[i * more.dy..][..base.dy]);
        // Data processing's first halves are the baseline's; the second copies differ.
        assert_eq!(x, &dp.x[i * dp.dx..][..base.dx]);
        assert_eq!(y, &dp.y[i * dp.dy..][..base.dy]);
        assert_ne!(x, &dp.x[i * dp.dx + base.dx..][..base.dx]);
        // Y's pixels are X's top pixels at the same level with their own noise.
        for (xv, yv) in x.iter().zip(y) {
            assert_eq!(xv.floor(), yv.floor());
        }
        assert_ne!(&x[..base.dy], y, "image {i}: Y shares X's noise");
    }
}

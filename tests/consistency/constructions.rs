//! Each setting's X and Y: shapes, which rows and pixels go where, the partner images, and
//! what is refused.

use infobound::experiments::consistency::{
    ConsistencyError, Constructions, Dequantise, Images, Setting,
};
use infobound::{Error, InputError};

/// `n` images of 3 rows × 2 columns; pixel (r, c) of image i is 100·i + 10·r + c + 1, except
/// pixel (1, 0), which is 7 in every image (constant, so dropped).
fn labelled(n: usize) -> Images {
    let data = (0..n)
        .flat_map(|i| {
            (0..3).flat_map(move |r| {
                (0..2).map(move |c| match (r, c) {
                    (1, 0) => 7.0,
                    _ => (100 * i + 10 * r + c + 1) as f32,
                })
            })
        })
        .collect();
    Images::new(data, n, 3, 2).unwrap()
}

/// The kept pixels of image i (row-major, (1, 0) left out), and those of its top t rows.
fn kept(i: usize, t: usize) -> Vec<f32> {
    [(0, 0), (0, 1), (1, 1), (2, 0), (2, 1)]
        .iter()
        .filter(|(r, _)| *r < t)
        .map(|(r, c)| (100 * i + 10 * r + c + 1) as f32)
        .collect()
}

fn row(v: &[f32], d: usize, i: usize) -> &[f32] {
    &v[i * d..(i + 1) * d]
}

#[test]
fn each_setting_puts_the_right_pixels_in_x_and_y() {
    let n = 9;
    let c = Constructions::new(labelled(n), Dequantise::None, 3).unwrap();
    assert_eq!(c.dropped(), [(1, 0)]);
    for t in 1..=3 {
        let top = kept(0, t).len();
        for setting in Setting::ALL {
            let p = c.build(setting, t).unwrap();
            let k = setting.images_a_row();
            assert_eq!(
                (p.n, p.dx, p.dy),
                (n, 5 * k, top * k),
                "{setting:?} t = {t}"
            );
            assert_eq!((p.x.len(), p.y.len()), (n * 5 * k, n * top * k));
            for i in 0..n {
                let j = c.partner(i);
                let (x, y) = (row(&p.x, p.dx, i), row(&p.y, p.dy, i));
                let (want_x, want_y) = match setting {
                    Setting::Baseline => (kept(i, 3), kept(i, t)),
                    Setting::Independence => (kept(i, 3), kept(j, t)),
                    Setting::DataProcessing => (
                        [kept(i, 3), kept(i, 3)].concat(),
                        [kept(i, t), kept(i, t)].concat(),
                    ),
                    Setting::Additivity => (
                        [kept(i, 3), kept(j, 3)].concat(),
                        [kept(i, t), kept(j, t)].concat(),
                    ),
                    _ => unreachable!("a setting this test does not know"),
                };
                assert_eq!(x, &want_x[..], "{setting:?} t = {t}, x of image {i}");
                assert_eq!(y, &want_y[..], "{setting:?} t = {t}, y of image {i}");
            }
        }
    }
}

#[test]
fn partners_are_a_permutation_without_fixed_points_keyed_by_the_seed() {
    for n in [2, 3, 10, 257, 1797] {
        let c = Constructions::new(labelled(n), Dequantise::None, 0).unwrap();
        let mut partners: Vec<usize> = (0..n).map(|i| c.partner(i)).collect();
        assert!((0..n).all(|i| partners[i] != i), "n = {n}: a fixed point");
        // One cycle through every image: following partners from 0 visits all n.
        let (mut at, mut steps) = (0, 0);
        loop {
            at = partners[at];
            steps += 1;
            if at == 0 {
                break;
            }
        }
        assert_eq!(steps, n, "n = {n}: not one cycle");
        partners.sort_unstable();
        assert_eq!(
            partners,
            (0..n).collect::<Vec<_>>(),
            "n = {n}: not a permutation"
        );
    }
    let a = Constructions::new(labelled(50), Dequantise::None, 0).unwrap();
    let b = Constructions::new(labelled(50), Dequantise::None, 1).unwrap();
    let again = Constructions::new(labelled(50), Dequantise::None, 0).unwrap();
    let pairs = |c: &Constructions| (0..50).map(|i| c.partner(i)).collect::<Vec<_>>();
    assert_eq!(pairs(&a), pairs(&again));
    assert_ne!(pairs(&a), pairs(&b), "another seed, other partners");
}

#[test]
fn rows_out_of_range_are_setting_errors_naming_the_value() {
    let c = Constructions::new(labelled(4), Dequantise::None, 0).unwrap();
    for t in [0, 4] {
        match c.build(Setting::Baseline, t) {
            Err(ConsistencyError::Estimate(Error::Input(InputError::Setting {
                setting,
                value,
                ..
            }))) => {
                assert_eq!(setting, "the rows t");
                assert_eq!(value, format!("{t} (the images have 3 rows)"));
            }
            other => panic!("t = {t}: {other:?}"),
        }
    }
    let e = c.check_rows(9).unwrap_err();
    assert!(e.is_input());
    assert_eq!(
        e.to_string(),
        "invalid input: the rows t must be between 1 and the images' height, not 9 (the \
         images have 3 rows)"
    );
}

#[test]
fn bad_images_are_refused_with_the_offending_value() {
    let e = Images::new(vec![0.0; 11], 3, 2, 2).unwrap_err();
    assert!(
        matches!(
            e,
            ConsistencyError::Shape {
                len: 11,
                n: 3,
                height: 2,
                width: 2
            }
        ),
        "{e}"
    );
    assert!(matches!(
        Images::new(vec![], 3, 0, 2).unwrap_err(),
        ConsistencyError::Shape { height: 0, .. }
    ));
    let mut data = vec![1.0; 3 * 2 * 2];
    data[2 * 4 + 3] = f32::NAN;
    let e = Images::new(data, 3, 2, 2).unwrap_err();
    assert!(
        matches!(
            e,
            ConsistencyError::NotFinite {
                image: 2,
                row: 1,
                col: 1,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "image 2 has a non-finite pixel (NaN) at row 1, column 1"
    );
    assert!(matches!(
        Images::new(vec![1.0; 4], 1, 2, 2).unwrap_err(),
        ConsistencyError::TooFewImages { images: 1 }
    ));
    // Every pixel the same: nothing to estimate.
    let flat = Images::new(vec![3.0; 5 * 4], 5, 2, 2).unwrap();
    assert!(matches!(
        Constructions::new(flat, Dequantise::Levels, 0).unwrap_err(),
        ConsistencyError::Constant { images: 5 }
    ));
    // The top row constant in every image: Y at t = 1 would have no column.
    let data = (0..5)
        .flat_map(|i| [0.0, 0.0, i as f32, 1.0])
        .collect::<Vec<f32>>();
    let c = Constructions::new(Images::new(data, 5, 2, 2).unwrap(), Dequantise::None, 0).unwrap();
    let e = c.build(Setting::Additivity, 1).unwrap_err();
    assert!(
        matches!(e, ConsistencyError::NoVaryingPixel { t: 1 }),
        "{e}"
    );
    assert!(e.is_input());
    assert_eq!(c.build(Setting::Additivity, 2).unwrap().dy, 2);
}

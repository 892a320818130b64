//! The bundled 8 × 8 digits load as scikit-learn ships them.

use infobound::experiments::consistency::{Constructions, Dequantise, GreyLevels, Images};

#[test]
fn the_bundled_digits_are_1797_images_of_8_by_8_in_17_levels() {
    let d = Images::digits().unwrap();
    assert_eq!((d.len(), d.height(), d.width()), (1797, 8, 8));
    assert_eq!(d.pixels().len(), 1797 * 64);
    let levels = GreyLevels::of(d.pixels());
    let want: Vec<f32> = (0..=16).map(|v| v as f32).collect();
    assert_eq!(levels.values(), &want[..]);
    // scikit-learn's first image (its CSV's first line).
    let first: Vec<f32> = [
        0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0,
        0, 8, 8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0,
        0, 6, 13, 10, 0, 0, 0,
    ]
    .iter()
    .map(|&v| v as f32)
    .collect();
    assert_eq!(d.image(0), &first[..]);
}

#[test]
fn the_constant_pixels_are_found_and_dropped() {
    let d = Images::digits().unwrap();
    // Counted directly: a pixel is constant when every image has image 0's value there.
    let constant: Vec<(usize, usize)> = (0..64)
        .filter(|&p| (1..d.len()).all(|i| d.image(i)[p] == d.image(0)[p]))
        .map(|p| (p / 8, p % 8))
        .collect();
    let c = Constructions::new(d, Dequantise::Levels, 0).unwrap();
    assert_eq!(c.dropped(), constant);
    // The three the docs name: the top-left corner and both ends of row 4.
    assert_eq!(constant, [(0, 0), (4, 0), (4, 7)]);
    assert_eq!(c.kept().len(), 61);
    assert_eq!(c.kept_in_top(1), 7);
    assert_eq!(c.kept_in_top(8), 61);
}

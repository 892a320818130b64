//! Property tests of the `.npy` and CSV readers: any bytes give a table or an error, never a
//! panic; a header that lies about the array's size cannot make the reader allocate more than
//! the input's own size (a counting allocator measures the largest allocation); and what a
//! writer produces reads back bit for bit.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use infobound::estimate::io::{parse_csv, parse_npy};
use proptest::prelude::*;

/// The system allocator, noting the largest single allocation of each thread.
struct Counting;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LARGEST.try_with(|l| l.set(l.get().max(layout.size())));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = LARGEST.try_with(|l| l.set(l.get().max(new_size)));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The largest allocation `f` makes on this thread.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|l| l.set(0));
    let out = f();
    (out, LARGEST.with(Cell::get))
}

/// A `.npy` file: version 1.0 or 2.0, the header padded to 64 bytes as NumPy writes it.
fn npy(descr: &str, fortran: bool, shape: &str, body: &[u8], version: u8) -> Vec<u8> {
    let fo = if fortran { "True" } else { "False" };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': {fo}, 'shape': {shape}, }}");
    let pre = if version == 1 { 10 } else { 12 };
    while (pre + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version, 0]);
    if version == 1 {
        out.extend((header.len() as u16).to_le_bytes());
    } else {
        out.extend((header.len() as u32).to_le_bytes());
    }
    out.extend(header.as_bytes());
    out.extend(body);
    out
}

/// Shapes that claim far more data than any file here holds.
const LIES: [&str; 8] = [
    "(1000000000, 1000000000)",
    "(18446744073709551615, 2)",
    "(4611686018427387904, 4)",
    "(1099511627776,)",
    "(3, 1000000000000)",
    "(99999999999999999999999, 1)",
    "(1, 18446744073709551615)",
    "(2, 3, 4)",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_are_a_table_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_npy(&bytes);
        let _ = parse_csv(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn bytes_after_a_valid_prefix_are_a_table_or_an_error(
        version in 1u8..4,
        rest in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = b"\x93NUMPY".to_vec();
        bytes.extend([version, 0]);
        bytes.extend(&rest);
        let _ = parse_npy(&bytes);
    }

    #[test]
    fn a_mutated_header_is_a_table_or_an_error(
        at in 0usize..128,
        byte in any::<u8>(),
        cut in 0usize..200,
    ) {
        let good = npy("<f4", false, "(3, 2)", &[0u8; 24], 1);
        let mut bytes = good.clone();
        let at = at % bytes.len();
        bytes[at] = byte;
        bytes.truncate(bytes.len() - cut.min(bytes.len()));
        let (_, largest) = largest_allocation(|| parse_npy(&bytes));
        prop_assert!(largest <= 64 * 1024 + 8 * bytes.len(), "{largest} bytes allocated");
    }

    #[test]
    fn a_lying_shape_allocates_no_more_than_the_input(
        lie in 0usize..LIES.len(),
        descr in prop_oneof![Just("<f4"), Just(">f8")],
        fortran in any::<bool>(),
        body in proptest::collection::vec(any::<u8>(), 0..256),
        version in 1u8..3,
    ) {
        let bytes = npy(descr, fortran, LIES[lie], &body, version);
        let (result, largest) = largest_allocation(|| parse_npy(&bytes));
        prop_assert!(result.is_err(), "{} accepted", LIES[lie]);
        prop_assert!(largest <= 64 * 1024, "{largest} bytes allocated for {}", LIES[lie]);
    }

    #[test]
    fn written_npy_reads_back_bit_for_bit(
        rows in 1usize..20,
        cols in 1usize..6,
        fortran in any::<bool>(),
        f64s in any::<bool>(),
        big_endian in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut s = seed;
        let values: Vec<f32> = (0..rows * cols)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                f32::from_bits((s >> 32) as u32 & 0xBF7F_FFFF) // finite, |v| < 2
            })
            .collect();
        let order: Vec<f32> = if fortran {
            (0..cols).flat_map(|j| (0..rows).map(move |i| (i, j))).map(|(i, j)| values[i * cols + j]).collect()
        } else {
            values.clone()
        };
        let body: Vec<u8> = order
            .iter()
            .flat_map(|&v| match (f64s, big_endian) {
                (false, false) => v.to_le_bytes().to_vec(),
                (false, true) => v.to_be_bytes().to_vec(),
                (true, false) => f64::from(v).to_le_bytes().to_vec(),
                (true, true) => f64::from(v).to_be_bytes().to_vec(),
            })
            .collect();
        let descr = format!("{}f{}", if big_endian { '>' } else { '<' }, if f64s { 8 } else { 4 });
        let t = parse_npy(&npy(&descr, fortran, &format!("({rows}, {cols})"), &body, 1)).unwrap();
        prop_assert_eq!((t.rows, t.cols), (rows, cols));
        prop_assert_eq!(
            t.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn written_csv_reads_back_bit_for_bit(
        values in proptest::collection::vec(-1e30f32..1e30, 1..60),
        cols in 1usize..5,
        header in any::<bool>(),
    ) {
        let rows = values.len() / cols;
        prop_assume!(rows > 0);
        let values = &values[..rows * cols];
        let mut text = String::new();
        if header {
            text.push_str(&(0..cols).map(|j| format!("c{j}")).collect::<Vec<_>>().join(","));
            text.push('\n');
        }
        for r in values.chunks(cols) {
            text.push_str(&r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "));
            text.push('\n');
        }
        let t = parse_csv(&text).unwrap();
        prop_assert_eq!((t.rows, t.cols), (rows, cols));
        prop_assert_eq!(
            t.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn csv_allocates_in_proportion_to_its_text(
        lines in proptest::collection::vec("[0-9a-z.,e+ -]{0,40}", 0..40),
    ) {
        let text = lines.join("\n");
        let (_, largest) = largest_allocation(|| parse_csv(&text));
        prop_assert!(largest <= 64 * 1024 + 16 * text.len(), "{largest} bytes for {} of text", text.len());
    }
}

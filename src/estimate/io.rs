//! Reading data sets from files: NumPy `.npy` arrays and numeric CSV, into row-major f32
//! tables for [`Matrix`](crate::Matrix), and stacks of images (3-D `.npy`) into a [`Stack`].
//!
//! The `.npy` reader is small and strict: format versions 1.0, 2.0 and 3.0, dtype f4 or f8
//! in either byte order, C or Fortran order, one or two dimensions (a 1-D array of n is an
//! n × 1 column), and exactly as many data bytes as the shape asks. Anything else is an
//! [`FormatError`] that says what was found; [`read_table`] adds the file's path
//! ([`FileError`]).
//!
//! CSV: comma-separated numbers, one row a line, the same number of columns in every row; the
//! first line is a header when any of its fields is not a number. Blank lines are skipped.

use std::path::Path;

pub use crate::estimate::error::{FileError, FormatError};
use crate::{Error, Matrix};

/// An owned row-major f32 table read from a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The values, row-major.
    pub data: Vec<f32>,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
}

impl Table {
    /// A borrowed view for [`Estimator::estimate`](crate::Estimator::estimate).
    pub fn matrix(&self) -> Result<Matrix<'_>, Error> {
        Matrix::new(&self.data, self.rows, self.cols)
    }
}

fn bad(found: String) -> FormatError {
    FormatError { found }
}

/// Reads `path`: `.npy` by its extension (case-insensitive), or by its magic bytes; CSV
/// otherwise. Errors name the file ([`Error::File`]).
pub fn read_table(path: &Path) -> Result<Table, Error> {
    Ok(read_file(path)?)
}

fn read_file(path: &Path) -> Result<Table, FileError> {
    let bytes = std::fs::read(path).map_err(|source| FileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let is_npy = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
        || bytes.starts_with(NPY_MAGIC);
    let parsed = if is_npy {
        parse_npy(&bytes)
    } else {
        std::str::from_utf8(&bytes)
            .map_err(|_| bad("not UTF-8 text (and not a .npy file)".into()))
            .and_then(parse_csv)
    };
    parsed.map_err(|source| FileError::Format {
        path: path.to_path_buf(),
        source,
    })
}

const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// Parses the bytes of a `.npy` file (see the module documentation for what it accepts).
pub fn parse_npy(bytes: &[u8]) -> Result<Table, FormatError> {
    let (h, body) = npy_header(bytes)?;
    let (rows, cols) = match h.shape.as_slice() {
        [n] => (*n, 1),
        [n, m] => (*n, *m),
        s => {
            return Err(bad(format!(
                "the array has {} dimensions; only 1-D and 2-D arrays are read",
                s.len()
            )))
        }
    };
    if cols == 0 {
        return Err(bad("the array has no columns".into()));
    }
    let values = npy_values(&h, body, &[], "float32 or float64")?;
    let data = if h.fortran_order && cols > 1 {
        // Column-major on disk: element (i, j) at j * rows + i.
        let mut out = vec![0.0; values.len()];
        for j in 0..cols {
            for i in 0..rows {
                out[i * cols + j] = values[j * rows + i];
            }
        }
        out
    } else {
        values
    };
    Ok(Table { data, rows, cols })
}

/// An owned stack of n images of height × width pixels read from a 3-D `.npy` file, row-major:
/// pixel (row r, column c) of image i at `data[(i * height + r) * width + c]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stack {
    /// The pixels, image after image, each row-major.
    pub data: Vec<f32>,
    /// Images.
    pub n: usize,
    /// Rows of pixels an image.
    pub height: usize,
    /// Pixels a row.
    pub width: usize,
}

/// Reads a stack of images (an N × H × W `.npy` array, see [`parse_npy_stack`]); errors name
/// the file ([`Error::File`]).
pub fn read_stack(path: &Path) -> Result<Stack, Error> {
    let bytes = std::fs::read(path).map_err(|source| FileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_npy_stack(&bytes).map_err(|source| {
        FileError::Format {
            path: path.to_path_buf(),
            source,
        }
        .into()
    })
}

/// Parses the bytes of a 3-D `.npy` array, N × H × W: as [`parse_npy`] reads a table, and
/// also dtype uint8 (`|u1`, how images are usually saved), each byte read as its value
/// 0..255. Any other number of dimensions, or a dimension of 0, is refused.
pub fn parse_npy_stack(bytes: &[u8]) -> Result<Stack, FormatError> {
    let (h, body) = npy_header(bytes)?;
    let [n, height, width] = match h.shape.as_slice() {
        [n, hh, w] => [*n, *hh, *w],
        s => {
            return Err(bad(format!(
                "the array has {} dimensions; images are read from a 3-D array (images × \
                 rows × columns)",
                s.len()
            )))
        }
    };
    if n == 0 || height == 0 || width == 0 {
        return Err(bad(format!(
            "the array's shape ({n}, {height}, {width}) has no pixels"
        )));
    }
    let values = npy_values(
        &h,
        body,
        &["|u1", "<u1", ">u1"],
        "uint8, float32 or float64",
    )?;
    let data = if h.fortran_order {
        // Fortran order: pixel (i, r, c) at i + n·(r + height·c).
        let mut out = vec![0.0; values.len()];
        for c in 0..width {
            for r in 0..height {
                for i in 0..n {
                    out[(i * height + r) * width + c] = values[i + n * (r + height * c)];
                }
            }
        }
        out
    } else {
        values
    };
    Ok(Stack {
        data,
        n,
        height,
        width,
    })
}

/// The header of a `.npy` file and the data bytes after it.
fn npy_header(bytes: &[u8]) -> Result<(Header, &[u8]), FormatError> {
    if !bytes.starts_with(NPY_MAGIC) {
        return Err(bad("not a .npy file (no \\x93NUMPY magic)".into()));
    }
    let (major, minor) = match bytes.get(6..8) {
        Some(v) => (v[0], v[1]),
        None => return Err(bad("truncated .npy header".into())),
    };
    let (len_size, utf8) = match (major, minor) {
        (1, 0) => (2, false),
        (2, 0) => (4, false),
        (3, 0) => (4, true),
        _ => {
            return Err(bad(format!(
                "unsupported .npy format version {major}.{minor}"
            )))
        }
    };
    let len_bytes = bytes
        .get(8..8 + len_size)
        .ok_or_else(|| bad("truncated .npy header".into()))?;
    let header_len = len_bytes
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    let start = 8 + len_size;
    let header = bytes
        .get(start..start + header_len)
        .ok_or_else(|| bad("truncated .npy header".into()))?;
    let header = if utf8 {
        std::str::from_utf8(header).ok()
    } else {
        header
            .is_ascii()
            .then(|| std::str::from_utf8(header).ok())
            .flatten()
    }
    .ok_or_else(|| bad("the .npy header is not text".into()))?;
    Ok((parse_header(header)?, &bytes[start + header_len..]))
}

/// The values of `body` as f32 in the order stored: dtype f4 or f8 in either byte order, or
/// one of the one-byte unsigned `bytes` dtypes; `accepted` says in an error what is read.
/// The length is checked against the shape before anything is allocated.
fn npy_values(
    h: &Header,
    body: &[u8],
    bytes: &[&str],
    accepted: &str,
) -> Result<Vec<f32>, FormatError> {
    let (size, little) = match h.descr.as_str() {
        "<f4" => (4, true),
        ">f4" => (4, false),
        "<f8" => (8, true),
        ">f8" => (8, false),
        d if bytes.contains(&d) => (1, true),
        d => {
            return Err(bad(format!(
                "dtype {d:?} is not read; save the array as {accepted}"
            )))
        }
    };
    let count = h
        .shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad("the shape is too large".into()))?;
    if Some(body.len()) != count.checked_mul(size) {
        let shape: Vec<String> = h.shape.iter().map(usize::to_string).collect();
        let shape = match shape.len() {
            1 => format!("({},)", shape[0]),
            _ => format!("({})", shape.join(", ")),
        };
        return Err(bad(format!(
            "the shape {shape} needs {} data bytes but the file has {}",
            count.saturating_mul(size),
            body.len()
        )));
    }
    Ok(body
        .chunks_exact(size)
        .map(|c| match (size, little) {
            (1, _) => f32::from(c[0]),
            (4, true) => f32::from_le_bytes([c[0], c[1], c[2], c[3]]),
            (4, false) => f32::from_be_bytes([c[0], c[1], c[2], c[3]]),
            (_, le) => {
                let a: [u8; 8] = c.try_into().expect("chunks of 8");
                (if le {
                    f64::from_le_bytes(a)
                } else {
                    f64::from_be_bytes(a)
                }) as f32
            }
        })
        .collect())
}

struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// Parses the header's Python dict literal: exactly the keys `descr`, `fortran_order` and
/// `shape`, in any order, with optional trailing commas and whitespace.
fn parse_header(text: &str) -> Result<Header, FormatError> {
    let mut p = Parser {
        s: text.trim_end_matches(['\n', ' ', '\0']).as_bytes(),
        i: 0,
    };
    let err = |what: &str| bad(format!("malformed .npy header ({what}): {}", text.trim()));
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    p.ws();
    p.eat(b'{').map_err(|_| err("expected '{'"))?;
    loop {
        p.ws();
        if p.eat(b'}').is_ok() {
            break;
        }
        let key = p.string().map_err(|_| err("expected a quoted key"))?;
        p.ws();
        p.eat(b':').map_err(|_| err("expected ':'"))?;
        p.ws();
        match key.as_str() {
            "descr" if descr.is_none() => {
                descr = Some(p.string().map_err(|_| err("descr is not a string"))?)
            }
            "fortran_order" if fortran.is_none() => {
                fortran = Some(if p.word("True") {
                    true
                } else if p.word("False") {
                    false
                } else {
                    return Err(err("fortran_order is not True or False"));
                })
            }
            "shape" if shape.is_none() => {
                shape = Some(
                    p.tuple()
                        .map_err(|_| err("shape is not a tuple of integers"))?,
                )
            }
            k => return Err(err(&format!("unexpected or repeated key {k:?}"))),
        }
        p.ws();
        if p.eat(b',').is_err() {
            p.ws();
            p.eat(b'}').map_err(|_| err("expected ',' or '}'"))?;
            break;
        }
    }
    p.ws();
    if p.i != p.s.len() {
        return Err(err("text after the dict"));
    }
    match (descr, fortran, shape) {
        (Some(descr), Some(fortran_order), Some(shape)) => Ok(Header {
            descr,
            fortran_order,
            shape,
        }),
        _ => Err(err("descr, fortran_order and shape are all required")),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), ()> {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(())
        }
    }

    fn word(&mut self, w: &str) -> bool {
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            true
        } else {
            false
        }
    }

    fn string(&mut self) -> Result<String, ()> {
        let q = *self.s.get(self.i).ok_or(())?;
        if q != b'\'' && q != b'"' {
            return Err(());
        }
        let from = self.i + 1;
        let len = self.s[from..].iter().position(|&c| c == q).ok_or(())?;
        self.i = from + len + 1;
        String::from_utf8(self.s[from..from + len].to_vec()).map_err(|_| ())
    }

    fn int(&mut self) -> Result<usize, ()> {
        let from = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[from..self.i])
            .map_err(|_| ())?
            .parse()
            .map_err(|_| ())
    }

    fn tuple(&mut self) -> Result<Vec<usize>, ()> {
        self.eat(b'(')?;
        let mut out = Vec::new();
        loop {
            self.ws();
            if self.eat(b')').is_ok() {
                return Ok(out);
            }
            out.push(self.int()?);
            self.ws();
            if self.eat(b',').is_err() {
                self.ws();
                self.eat(b')')?;
                return Ok(out);
            }
        }
    }
}

/// Parses numeric CSV text (see the module documentation).
pub fn parse_csv(text: &str) -> Result<Table, FormatError> {
    let mut data = Vec::new();
    let mut cols = None;
    let mut rows = 0;
    let mut first = true;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (lineno, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let parsed: Vec<Option<f32>> = fields.iter().map(|f| f.parse::<f32>().ok()).collect();
        if first {
            first = false;
            cols = Some(fields.len());
            if parsed.iter().any(Option::is_none) {
                continue; // the header
            }
        }
        let want = cols.unwrap_or(fields.len());
        if fields.len() != want {
            return Err(bad(format!(
                "line {} has {} columns but the first line has {want}",
                lineno + 1,
                fields.len()
            )));
        }
        for (j, (v, f)) in parsed.iter().zip(&fields).enumerate() {
            match v {
                Some(v) => data.push(*v),
                None => {
                    return Err(bad(format!(
                        "line {}, column {}: {f:?} is not a number",
                        lineno + 1,
                        j + 1
                    )))
                }
            }
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(bad("no data rows".into()));
    }
    Ok(Table {
        data,
        rows,
        cols: cols.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, fortran: bool, shape: &str, body: &[u8], version: u8) -> Vec<u8> {
        let mut header = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
            {
                if fortran {
                    "True"
                } else {
                    "False"
                }
            }
        );
        let pre = if version == 1 { 10 } else { 12 };
        while (pre + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = NPY_MAGIC.to_vec();
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

    fn le32(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn reads_c_and_fortran_f4_f8_1d_2d() {
        let c = npy("<f4", false, "(2, 3)", &le32(&[1., 2., 3., 4., 5., 6.]), 1);
        let t = parse_npy(&c).unwrap();
        assert_eq!((t.rows, t.cols), (2, 3));
        assert_eq!(t.data, [1., 2., 3., 4., 5., 6.]);
        // The same matrix stored column-major.
        let f = npy("<f4", true, "(2, 3)", &le32(&[1., 4., 2., 5., 3., 6.]), 1);
        assert_eq!(parse_npy(&f).unwrap(), t);
        let f8: Vec<u8> = [1f64, 4., 2., 5., 3., 6.]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(parse_npy(&npy("<f8", true, "(2,3)", &f8, 2)).unwrap(), t);
        let be: Vec<u8> = [1f64, 2.].iter().flat_map(|x| x.to_be_bytes()).collect();
        let col = parse_npy(&npy(">f8", false, "(2,)", &be, 3)).unwrap();
        assert_eq!((col.rows, col.cols, col.data), (2, 1, vec![1., 2.]));
    }

    #[test]
    fn rejects_what_it_does_not_read() {
        let body = le32(&[1., 2.]);
        for (descr, shape, body, what) in [
            ("<i8", "(2,)", &body[..], "dtype"),
            ("<f4", "(1, 1, 2)", &body[..], "3 dimensions"),
            ("<f4", "()", &body[..], "0 dimensions"),
            ("<f4", "(3,)", &body[..], "needs 12 data bytes"),
            ("<f4", "(1,)", &body[..], "needs 4 data bytes"),
            ("<f4", "(2, 0)", &[][..], "no columns"),
        ] {
            let e = parse_npy(&npy(descr, false, shape, body, 1))
                .unwrap_err()
                .to_string();
            assert!(e.contains(what), "{e}");
        }
        assert!(parse_npy(b"hello")
            .unwrap_err()
            .to_string()
            .contains("magic"));
        let mut v9 = npy("<f4", false, "(2,)", &body, 1);
        v9[6] = 9;
        assert!(parse_npy(&v9).unwrap_err().to_string().contains("version"));
        let trunc = npy("<f4", false, "(2,)", &body, 1);
        assert!(parse_npy(&trunc[..20])
            .unwrap_err()
            .to_string()
            .contains("truncated"));
        for header in [
            "{'descr': '<f4', 'shape': (2,), }",
            "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }",
            "['descr']",
        ] {
            let e = parse_header(header).err().expect(header).to_string();
            assert!(e.contains("malformed .npy header"), "{e}");
        }
    }

    #[test]
    fn reads_csv_with_and_without_header() {
        let t = parse_csv("a, b\n1,2\r\n3 ,4.5\n\n").unwrap();
        assert_eq!((t.rows, t.cols, t.data), (2, 2, vec![1., 2., 3., 4.5]));
        let t = parse_csv("\u{feff}1\n2\n3\n").unwrap();
        assert_eq!((t.rows, t.cols), (3, 1));
        let e = parse_csv("1,2\n3\n").unwrap_err().to_string();
        assert!(e.contains("line 2 has 1 columns"), "{e}");
        let e = parse_csv("x,y\n1,2\n3,abc\n").unwrap_err().to_string();
        assert!(e.contains("line 3, column 2"), "{e}");
        assert!(parse_csv("x,y\n")
            .unwrap_err()
            .to_string()
            .contains("no data"));
        // NaN parses; the estimator rejects it naming the row and column.
        assert!(parse_csv("1,NaN\n").unwrap().data[1].is_nan());
    }

    #[test]
    fn reads_stacks_of_images_in_c_and_fortran_order_and_uint8() {
        // Two images of 2 × 3: image i, row r, column c holds 100·i + 10·r + c.
        let want: Vec<f32> = (0..2)
            .flat_map(|i| {
                (0..2).flat_map(move |r| (0..3).map(move |c| (100 * i + 10 * r + c) as f32))
            })
            .collect();
        let c = parse_npy_stack(&npy("<f4", false, "(2, 2, 3)", &le32(&want), 1)).unwrap();
        assert_eq!((c.n, c.height, c.width), (2, 2, 3));
        assert_eq!(c.data, want);
        // Fortran order: the image index varies fastest, then the row, then the column.
        let mut f = Vec::new();
        for col in 0..3 {
            for r in 0..2 {
                for i in 0..2 {
                    f.push((100 * i + 10 * r + col) as u8);
                }
            }
        }
        let u8s: Vec<u8> = want.iter().map(|&v| v as u8).collect();
        assert_eq!(
            parse_npy_stack(&npy("|u1", true, "(2, 2, 3)", &f, 1)).unwrap(),
            c
        );
        assert_eq!(
            parse_npy_stack(&npy("|u1", false, "(2,2,3)", &u8s, 2)).unwrap(),
            c
        );
        // The 2-D reader still refuses uint8.
        let e = parse_npy(&npy("|u1", false, "(2, 6)", &u8s, 1)).unwrap_err();
        assert!(e.to_string().contains("float32 or float64"), "{e}");
    }

    #[test]
    fn refuses_stacks_it_does_not_read() {
        let body = le32(&[1., 2., 3., 4.]);
        for (descr, shape, what) in [
            (
                "<f4",
                "(2, 2)",
                "2 dimensions; images are read from a 3-D array",
            ),
            ("<f4", "(1, 1, 2, 2)", "4 dimensions"),
            ("<f4", "(0, 2, 2)", "has no pixels"),
            (
                "<f4",
                "(1, 2, 3)",
                "the shape (1, 2, 3) needs 24 data bytes but the file has 16",
            ),
            ("<i2", "(1, 2, 2)", "uint8, float32 or float64"),
        ] {
            let e = parse_npy_stack(&npy(descr, false, shape, &body, 1))
                .unwrap_err()
                .to_string();
            assert!(e.contains(what), "{shape}: {e}");
        }
        let missing = std::path::Path::new("/nonexistent/images.npy");
        let e = read_stack(missing).unwrap_err().to_string();
        assert!(e.contains("cannot read /nonexistent/images.npy"), "{e}");
    }
}

//! A data matrix on the device, split by rows over several buffers when it is larger than one
//! storage binding (128 MiB on lavapipe and in WebGPU's defaults: 2 000 000 × 50 f32 is 400 MB).
//! The gathers of `sample.wgsl` bind every part and pick a row's part from its index, so a
//! minibatch is still drawn from all rows on the device.

use super::buffer::GpuBuffer;
use super::context::GpuContext;
use super::error::GpuError;

/// The most parts a matrix may be split into: the gathers bind this many buffers each for x and
/// y (`xs0..xs3`, `ys0..ys3` in `sample.wgsl`).
pub const MAX_PARTS: usize = 4;

/// A rows × cols row-major matrix on the device: part p holds rows
/// `p · rows_per_part .. min((p + 1) · rows_per_part, rows)`. Cloning shares the buffers.
#[derive(Clone, Debug)]
pub struct DeviceRows {
    pub(crate) parts: Vec<GpuBuffer>,
    rows_per_part: usize,
    rows: usize,
    cols: usize,
}

impl DeviceRows {
    /// Views a whole buffer as one part of `rows` × `cols` (fails when it is too short).
    pub fn whole(buffer: &GpuBuffer, rows: usize, cols: usize) -> Result<Self, GpuError> {
        let needed = rows.checked_mul(cols);
        if needed.is_none_or(|n| n > buffer.len()) {
            return Err(GpuError::Shape {
                what: "the buffer",
                len: buffer.len(),
                rows,
                cols,
            });
        }
        Ok(Self {
            parts: vec![buffer.clone()],
            rows_per_part: rows.max(1),
            rows,
            cols,
        })
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Rows in every part but the last.
    pub fn rows_per_part(&self) -> usize {
        self.rows_per_part
    }

    /// The buffers, in row order.
    pub fn parts(&self) -> &[GpuBuffer] {
        &self.parts
    }

    /// The buffer bound as part `p` of [`MAX_PARTS`]: parts past the last repeat it (they are
    /// never read: no row index reaches them).
    pub(crate) fn binding(&self, p: usize) -> &wgpu::Buffer {
        &self.parts[p.min(self.parts.len() - 1)].buffer
    }
}

// Row splitting is the trainers' business: out of the documented surface.
#[doc(hidden)]
impl GpuContext {
    /// Uploads paired data, x (rows × dx) and y (rows × dy), row-major, each split at the same
    /// rows into as few parts as the adapter's storage-binding limit allows (balanced by rows;
    /// the wider matrix decides). Fails with [`GpuError::TooLarge`] when one row does not fit a
    /// binding or the data need more than [`MAX_PARTS`] parts.
    pub fn upload_rows(
        &self,
        (x, dx): (&[f32], usize),
        (y, dy): (&[f32], usize),
    ) -> Result<(DeviceRows, DeviceRows), GpuError> {
        let rows = x.len().checked_div(dx).unwrap_or(0);
        for (what, data, cols) in [("x", x, dx), ("y", y, dy)] {
            if cols == 0 || rows.checked_mul(cols) != Some(data.len()) {
                return Err(GpuError::Shape {
                    what,
                    len: data.len(),
                    rows,
                    cols,
                });
            }
        }
        let binding = self.limits().max_storage_buffer_binding_size;
        let widest = dx.max(dy);
        let fit = (binding / (widest as u64 * 4)) as usize;
        let too_large = |limit_name, limit| GpuError::TooLarge {
            what: format!("a data set of {rows} rows × {widest} columns"),
            bytes: (rows * widest) as u64 * 4,
            limit_name,
            limit,
        };
        if fit == 0 {
            return Err(too_large("max_storage_buffer_binding_size", binding));
        }
        let parts = rows.div_ceil(fit).max(1);
        if parts > MAX_PARTS {
            return Err(too_large(
                "max_storage_buffer_binding_size × 4 parts",
                binding * MAX_PARTS as u64,
            ));
        }
        let rows_per_part = rows.div_ceil(parts).max(1);
        let split = |label: &str, data: &[f32], cols: usize| -> Result<DeviceRows, GpuError> {
            let mut buffers = data
                .chunks(rows_per_part * cols)
                .map(|chunk| self.upload(label, chunk))
                .collect::<Result<Vec<_>, _>>()?;
            if buffers.is_empty() {
                buffers.push(self.upload(label, data)?);
            }
            Ok(DeviceRows {
                parts: buffers,
                rows_per_part,
                rows,
                cols,
            })
        };
        Ok((split("x", x, dx)?, split("y", y, dy)?))
    }
}

//! Device buffers of f32 (or u32) elements, and their upload and read-back.

use wgpu::util::DeviceExt;

use super::context::GpuContext;
use super::error::GpuError;

/// A storage buffer of `len` 4-byte elements on one device. Cloning shares the buffer.
#[derive(Clone, Debug)]
pub struct GpuBuffer {
    pub(crate) buffer: wgpu::Buffer,
    len: usize,
}

impl GpuBuffer {
    /// Elements (4 bytes each).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the buffer holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The underlying wgpu buffer, for callers that share the device.
    pub fn raw(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// Wraps a caller's storage buffer (usage must include STORAGE, COPY_SRC and COPY_DST) of
    /// `len` f32 elements.
    pub fn from_raw(buffer: wgpu::Buffer, len: usize) -> Result<Self, GpuError> {
        let needed = (len as u64) * 4;
        if buffer.size() < needed {
            return Err(GpuError::BufferTooShort {
                what: "a shared buffer's declared length",
                needed: len,
                len: (buffer.size() / 4) as usize,
            });
        }
        let usage = buffer.usage();
        let wanted = wgpu::BufferUsages::STORAGE;
        if !usage.contains(wanted) {
            return Err(GpuError::Operand {
                what: "a shared buffer",
                rule: "needs STORAGE usage",
            });
        }
        Ok(Self { buffer, len })
    }
}

const STORAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

impl GpuContext {
    fn checked_bytes(&self, label: &str, len: usize) -> Result<u64, GpuError> {
        // Zero-length bindings are invalid in wgpu: keep at least one element.
        let bytes = (len.max(1) as u64) * 4;
        self.check_storage_size(label, bytes)?;
        Ok(bytes)
    }

    /// Uploads `data` (any 4-byte plain type) into a new storage buffer.
    pub fn upload<T: bytemuck::Pod>(&self, label: &str, data: &[T]) -> Result<GpuBuffer, GpuError> {
        assert_eq!(
            std::mem::size_of::<T>(),
            4,
            "GpuBuffer holds 4-byte elements"
        );
        self.checked_bytes(label, data.len())?;
        let contents: &[u8] = if data.is_empty() {
            &[0u8; 4]
        } else {
            bytemuck::cast_slice(data)
        };
        let buffer = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents,
                usage: STORAGE,
            });
        Ok(GpuBuffer {
            buffer,
            len: data.len(),
        })
    }

    /// A new storage buffer of `len` elements, every one set to `value`.
    pub fn filled(&self, label: &str, len: usize, value: f32) -> Result<GpuBuffer, GpuError> {
        self.checked_bytes(label, len)?;
        self.upload(label, &vec![value; len.max(1)])
            .map(|b| GpuBuffer { len, ..b })
    }

    /// A new zeroed storage buffer of `len` elements.
    pub fn zeros(&self, label: &str, len: usize) -> Result<GpuBuffer, GpuError> {
        let bytes = self.checked_bytes(label, len)?;
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: STORAGE,
            mapped_at_creation: false,
        });
        Ok(GpuBuffer { buffer, len })
    }

    /// Overwrites the start of `buffer` with `data`.
    pub fn write<T: bytemuck::Pod>(&self, buffer: &GpuBuffer, data: &[T]) -> Result<(), GpuError> {
        if data.len() > buffer.len {
            return Err(GpuError::BufferTooShort {
                what: "a write",
                needed: data.len(),
                len: buffer.len,
            });
        }
        self.queue
            .write_buffer(&buffer.buffer, 0, bytemuck::cast_slice(data));
        Ok(())
    }

    /// A small uniform buffer holding `params`.
    pub(crate) fn uniform<T: bytemuck::Pod>(&self, label: &str, params: &T) -> wgpu::Buffer {
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::bytes_of(params),
                usage: wgpu::BufferUsages::UNIFORM,
            })
    }

    /// A uniform block of `header` followed by a per-replica `table`, zero-padded to
    /// `table_bytes` (the fixed length the shader declares). `header`'s size must be a
    /// multiple of 16 bytes, so the table starts where WGSL's layout puts it.
    pub(crate) fn uniform_with_table<T: bytemuck::Pod, E: bytemuck::Pod>(
        &self,
        label: &str,
        header: &T,
        table: &[E],
        table_bytes: usize,
    ) -> wgpu::Buffer {
        let head = bytemuck::bytes_of(header);
        assert_eq!(head.len() % 16, 0, "a table's header fills whole vec4s");
        let rows: &[u8] = bytemuck::cast_slice(table);
        assert!(
            rows.len() <= table_bytes,
            "the table fits its declared length"
        );
        let mut contents = Vec::with_capacity(head.len() + table_bytes);
        contents.extend_from_slice(head);
        contents.extend_from_slice(rows);
        contents.resize(head.len() + table_bytes, 0);
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: &contents,
                usage: wgpu::BufferUsages::UNIFORM,
            })
    }

    /// Copies `buffer` back to the host (waits for all submitted work).
    pub fn read<T: bytemuck::Pod>(&self, buffer: &GpuBuffer) -> Result<Vec<T>, GpuError> {
        self.read_range(buffer, 0, buffer.len)
    }

    /// Copies elements `start .. start + len` of `buffer` back to the host.
    pub fn read_range<T: bytemuck::Pod>(
        &self,
        buffer: &GpuBuffer,
        start: usize,
        len: usize,
    ) -> Result<Vec<T>, GpuError> {
        assert_eq!(
            std::mem::size_of::<T>(),
            4,
            "GpuBuffer holds 4-byte elements"
        );
        if start + len > buffer.len {
            return Err(GpuError::BufferTooShort {
                what: "a read",
                needed: start + len,
                len: buffer.len,
            });
        }
        if len == 0 {
            return Ok(Vec::new());
        }
        let bytes = (len as u64) * 4;
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read-back"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("read-back"),
            });
        encoder.copy_buffer_to_buffer(&buffer.buffer, (start as u64) * 4, &staging, 0, bytes);
        self.queue.submit(Some(encoder.finish()));
        let slice = staging.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.sync()?;
        rx.recv()
            .map_err(|e| GpuError::Poll {
                reason: e.to_string(),
            })?
            .map_err(|e| GpuError::Poll {
                reason: e.to_string(),
            })?;
        let view = slice.get_mapped_range().map_err(|e| GpuError::Poll {
            reason: e.to_string(),
        })?;
        let out = bytemuck::cast_slice(&view).to_vec();
        drop(view);
        staging.unmap();
        Ok(out)
    }
}

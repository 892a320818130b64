//! Published peaks of known adapters, used beside the measured probes when the adapter's name
//! matches. FP32 figures are the non-tensor-core rate: WGSL reaches no tensor cores, so that is
//! the arithmetic ceiling for these kernels. Vendors' datasheets, boost clocks.

/// One adapter's datasheet peaks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PublishedPeak {
    /// The adapter, as the datasheet names it.
    pub name: &'static str,
    /// Dense FP32 (non-tensor) flops per second.
    pub fp32_flops: f64,
    /// Memory bandwidth, bytes per second.
    pub bandwidth: f64,
}

/// (name substrings that must all occur, lower case; excluded substrings; peak), most specific
/// first.
#[allow(clippy::type_complexity)]
const TABLE: &[(&[&str], &[&str], PublishedPeak)] = &[
    (
        &["h200"],
        &[],
        PublishedPeak {
            name: "NVIDIA H200 (SXM)",
            fp32_flops: 67e12,
            bandwidth: 4.8e12,
        },
    ),
    (
        &["h100", "pcie"],
        &[],
        PublishedPeak {
            name: "NVIDIA H100 PCIe",
            fp32_flops: 51e12,
            bandwidth: 2.0e12,
        },
    ),
    (
        &["h100"],
        &["pcie", "nvl"],
        PublishedPeak {
            name: "NVIDIA H100 SXM",
            fp32_flops: 67e12,
            bandwidth: 3.35e12,
        },
    ),
    (
        &["a100", "80gb"],
        &[],
        PublishedPeak {
            name: "NVIDIA A100 80GB (SXM)",
            fp32_flops: 19.5e12,
            bandwidth: 2.039e12,
        },
    ),
    (
        &["a100"],
        &[],
        PublishedPeak {
            name: "NVIDIA A100 40GB",
            fp32_flops: 19.5e12,
            bandwidth: 1.555e12,
        },
    ),
    (
        &["l4"],
        &["l40"],
        PublishedPeak {
            name: "NVIDIA L4",
            fp32_flops: 30.3e12,
            bandwidth: 0.3e12,
        },
    ),
    (
        &["rtx 4090"],
        &[],
        PublishedPeak {
            name: "NVIDIA GeForce RTX 4090",
            fp32_flops: 82.6e12,
            bandwidth: 1.008e12,
        },
    ),
];

/// The datasheet peak of the adapter called `adapter_name`, if it is in the table.
pub fn published_peak(adapter_name: &str) -> Option<PublishedPeak> {
    let lower = adapter_name.to_lowercase();
    TABLE
        .iter()
        .find(|(all, none, _)| {
            all.iter().all(|s| lower.contains(s)) && !none.iter().any(|s| lower.contains(s))
        })
        .map(|(_, _, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::published_peak;

    #[test]
    fn names_match_the_right_row() {
        let name = |a: &str| published_peak(a).map(|p| p.name);
        assert_eq!(name("NVIDIA H100 80GB HBM3"), Some("NVIDIA H100 SXM"));
        assert_eq!(name("NVIDIA H100 PCIe"), Some("NVIDIA H100 PCIe"));
        assert_eq!(name("NVIDIA H200"), Some("NVIDIA H200 (SXM)"));
        assert_eq!(
            name("NVIDIA A100-SXM4-80GB"),
            Some("NVIDIA A100 80GB (SXM)")
        );
        assert_eq!(name("NVIDIA L40S"), None);
        assert_eq!(name("llvmpipe (LLVM 15.0.6, 256 bits)"), None);
    }
}

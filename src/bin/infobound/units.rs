//! The unit estimates are shown in.

/// The factor that turns nats into the chosen unit, and the unit's name.
pub fn unit(bits: bool) -> (f64, &'static str) {
    if bits {
        (1.0 / std::f64::consts::LN_2, "bits")
    } else {
        (1.0, "nats")
    }
}

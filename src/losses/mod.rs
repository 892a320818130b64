//! Losses and bounds for users' own models, on their own device or ours: the contrastive
//! (InfoNCE / CLIP) loss, gradient clipping for an MI term used as a regulariser, and the
//! sandwich bounds of a known conditional.

pub mod clip;
pub mod contrastive;
pub mod sandwich;

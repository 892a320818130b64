//! Which vector instructions the hot loops are compiled for, chosen once at run time: the
//! crate is built for the baseline CPU, so a loop body is compiled again inside functions
//! that enable AVX-512 or AVX2 with FMA, and the widest the CPU has is called.
//!
//! Bits: the bodies are written lane by lane, never reassociated, and use no fused
//! multiply-add unless they ask for it (the `FMA` parameter), so a wider vector gives the
//! same result, and any difference is between machines, never between threads of one.

/// The instruction sets a multiversioned body can run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// AVX-512F with FMA.
    Avx512,
    /// AVX2 with FMA.
    Avx2,
    /// The build's baseline (FMA on aarch64, none on x86-64).
    Plain,
}

/// The widest level this CPU runs (std caches the detection).
pub fn level() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        let fma = std::arch::is_x86_feature_detected!("fma");
        if fma && std::arch::is_x86_feature_detected!("avx512f") {
            return Level::Avx512;
        }
        if fma && std::arch::is_x86_feature_detected!("avx2") {
            return Level::Avx2;
        }
    }
    Level::Plain
}

/// `multiversion!(fn name(args) -> R = body)` defines `name(level, args) -> R`, which runs
/// `body::<FMA>(args)` (an `#[inline(always)]` generic body) compiled for `level`.
macro_rules! multiversion {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $body:ident) => {
        $(#[$doc])*
        #[allow(unreachable_code, clippy::too_many_arguments)]
        $vis fn $name(level: $crate::cpu::fast::simd::Level, $($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn wide($($arg: $ty),*) -> $ret {
                    $body::<true>($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn narrow($($arg: $ty),*) -> $ret {
                    $body::<true>($($arg),*)
                }
                match level {
                    // SAFETY: `level` came from `simd::level()`, detected on this CPU.
                    $crate::cpu::fast::simd::Level::Avx512 => return unsafe { wide($($arg),*) },
                    // SAFETY: as above.
                    $crate::cpu::fast::simd::Level::Avx2 => return unsafe { narrow($($arg),*) },
                    $crate::cpu::fast::simd::Level::Plain => {}
                }
            }
            #[cfg(target_arch = "aarch64")]
            {
                let _ = level;
                return $body::<true>($($arg),*);
            }
            let _ = level;
            $body::<false>($($arg),*)
        }
    };
}
pub(crate) use multiversion;

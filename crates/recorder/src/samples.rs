//! Conversions between durations and sample counts, saturating on absurd inputs.

use std::time::Duration;

/// Whole samples in `d` at `rate` Hz (rounded down).
pub(crate) fn samples_in(d: Duration, rate: u32) -> u64 {
    let n = d.as_nanos().saturating_mul(u128::from(rate)) / 1_000_000_000;
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Length of `n` samples at `rate` Hz; zero for a zero rate.
pub(crate) fn duration_of(n: u64, rate: u32) -> Duration {
    if rate == 0 {
        return Duration::ZERO;
    }
    let nanos = u128::from(n).saturating_mul(1_000_000_000) / u128::from(rate);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_call_rates() {
        for rate in [8_000, 16_000, 48_000] {
            let n = samples_in(Duration::from_millis(20), rate);
            assert_eq!(n, u64::from(rate) / 50);
            assert_eq!(duration_of(n, rate), Duration::from_millis(20));
        }
        assert_eq!(duration_of(5, 0), Duration::ZERO);
        assert_eq!(samples_in(Duration::MAX, u32::MAX), u64::MAX);
    }
}

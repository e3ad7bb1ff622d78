//! Finding the sound devices by name and picking the stream format to open them with.

use cpal::traits::{DeviceTrait, HostTrait};

use super::SoundcardError;

/// Rates above this are asked down to it: the recorder gains nothing from more.
const MAX_RATE: u32 = 48_000;

/// One device and the format callclip would open it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub name: String,
    /// `"44100 Hz, 2 ch, f32"`, or why the device cannot be used.
    pub format: String,
    pub is_default: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceList {
    pub inputs: Vec<DeviceInfo>,
    pub outputs: Vec<DeviceInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Input,
    Output,
}

impl Direction {
    fn kind(self) -> &'static str {
        match self {
            Direction::Input => "input",
            Direction::Output => "output",
        }
    }
}

fn describe(c: &cpal::SupportedStreamConfig) -> String {
    format!(
        "{} Hz, {} ch, {}",
        c.sample_rate().0,
        c.channels(),
        c.sample_format()
    )
}

fn name_of(d: &cpal::Device) -> String {
    d.name().unwrap_or_else(|_| "?".into())
}

fn devices(dir: Direction) -> Result<Vec<cpal::Device>, SoundcardError> {
    let host = cpal::default_host();
    Ok(match dir {
        Direction::Input => host.input_devices()?.collect(),
        Direction::Output => host.output_devices()?.collect(),
    })
}

/// Every input and output device of the default host (ALSA on Linux: the PCMs with a hint,
/// which is where an `~/.asoundrc` entry with `hint { show on }` appears).
pub fn list_devices() -> Result<DeviceList, SoundcardError> {
    let host = cpal::default_host();
    let default_in = host.default_input_device().map(|d| name_of(&d));
    let default_out = host.default_output_device().map(|d| name_of(&d));
    let info = |dir: Direction, d: &cpal::Device, default: &Option<String>| {
        let name = name_of(d);
        DeviceInfo {
            format: match stream_config(dir, d) {
                Ok(c) => describe(&c),
                Err(e) => format!("unusable: {e}"),
            },
            is_default: default.as_deref() == Some(name.as_str()),
            name,
        }
    };
    Ok(DeviceList {
        inputs: devices(Direction::Input)?
            .iter()
            .map(|d| info(Direction::Input, d, &default_in))
            .collect(),
        outputs: devices(Direction::Output)?
            .iter()
            .map(|d| info(Direction::Output, d, &default_out))
            .collect(),
    })
}

/// The device called `name` (exactly, else the only one whose name contains it), or the
/// default one.
pub(crate) fn find(dir: Direction, name: Option<&str>) -> Result<cpal::Device, SoundcardError> {
    let Some(name) = name else {
        let host = cpal::default_host();
        let d = match dir {
            Direction::Input => host.default_input_device(),
            Direction::Output => host.default_output_device(),
        };
        return d.ok_or(SoundcardError::NoDefault { kind: dir.kind() });
    };
    let all = devices(dir)?;
    let names: Vec<String> = all.iter().map(name_of).collect();
    let wanted = name.to_lowercase();
    let partial: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| n.to_lowercase().contains(&wanted))
        .map(|(i, _)| i)
        .collect();
    let index = match (names.iter().position(|n| n == name), partial.as_slice()) {
        (Some(i), _) | (None, &[i]) => Some(i),
        _ => None,
    };
    match index {
        Some(i) => all.into_iter().nth(i),
        None => None,
    }
    .ok_or(SoundcardError::NoDevice {
        kind: dir.kind(),
        name: name.to_owned(),
        available: names,
    })
}

/// The device's default format, with the rate lowered to 48 kHz when it offers that.
pub(crate) fn stream_config(
    dir: Direction,
    device: &cpal::Device,
) -> Result<cpal::SupportedStreamConfig, SoundcardError> {
    let config = match dir {
        Direction::Input => device.default_input_config(),
        Direction::Output => device.default_output_config(),
    }
    .map_err(|source| SoundcardError::Config {
        device: name_of(device),
        source,
    })?;
    if config.sample_rate().0 <= MAX_RATE {
        return Ok(config);
    }
    let ranges: Vec<cpal::SupportedStreamConfigRange> = match dir {
        Direction::Input => device.supported_input_configs().map(|r| r.collect()),
        Direction::Output => device.supported_output_configs().map(|r| r.collect()),
    }
    .unwrap_or_default();
    let lower = ranges.into_iter().find(|r| {
        r.channels() == config.channels()
            && r.sample_format() == config.sample_format()
            && r.min_sample_rate().0 <= MAX_RATE
            && MAX_RATE <= r.max_sample_rate().0
    });
    Ok(lower.map_or(config, |r| r.with_sample_rate(cpal::SampleRate(MAX_RATE))))
}

pub(crate) fn device_name(device: &cpal::Device) -> String {
    name_of(device)
}

/// Runs `$build::<T>(args…)` with `T` the Rust sample type of a cpal `SampleFormat`; one table
/// for the microphone and the speaker. Formats cpal may add later end in `$unsupported(format)`.
macro_rules! with_sample_type {
    ($format:expr, $build:ident($($arg:expr),* $(,)?), $unsupported:expr) => {
        match $format {
            cpal::SampleFormat::I8 => $build::<i8>($($arg),*),
            cpal::SampleFormat::I16 => $build::<i16>($($arg),*),
            cpal::SampleFormat::I32 => $build::<i32>($($arg),*),
            cpal::SampleFormat::I64 => $build::<i64>($($arg),*),
            cpal::SampleFormat::U8 => $build::<u8>($($arg),*),
            cpal::SampleFormat::U16 => $build::<u16>($($arg),*),
            cpal::SampleFormat::U32 => $build::<u32>($($arg),*),
            cpal::SampleFormat::U64 => $build::<u64>($($arg),*),
            cpal::SampleFormat::F32 => $build::<f32>($($arg),*),
            cpal::SampleFormat::F64 => $build::<f64>($($arg),*),
            other => return Err($unsupported(other)),
        }
    };
}
pub(crate) use with_sample_type;

#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pcm) = media::wav::decode_wav(data) {
        // Whatever decodes must also survive conversion to every codec rate.
        if pcm.samples.len() <= 48_000 {
            let _ = media::resample::resample(&pcm, 8_000);
        }
    }
});

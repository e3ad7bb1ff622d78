//! Recording files on disk: a WAV streamed as the caller speaks, finalized (truncated to what the
//! recorder keeps, header written) before the operation's completion is announced, fsynced right
//! after it, and repaired after a crash.
//!
//! The file is the canonical 44-byte-header PCM WAV (`media::wav::encode_wav_header`), 16-bit
//! mono. While streaming, the header holds the "length unknown" placeholder, so a file left by a
//! killed process is recognised by a header that disagrees with the file length.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use media::wav::{encode_wav_header, STREAMING_DATA_LEN};

const HEADER_LEN: u64 = 44;
const CHANNELS: u16 = 1;
const BITS: u16 = 16;
/// Bytes handed to the OS at least this often (in audio time), so a kill -9 loses at most this.
const FLUSH_EVERY_MS: u64 = 200;

/// A recording being written.
#[derive(Debug)]
pub struct RecordingWriter {
    file: File,
    path: PathBuf,
    rate: u32,
    samples: u64,
    pending: Vec<u8>,
    flush_bytes: usize,
}

/// A finalized recording: `samples` 16-bit mono samples, `bytes` the whole file length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedRecording {
    pub path: PathBuf,
    pub samples: u64,
    pub bytes: u64,
}

/// A file whose header `repair_dir` rewrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    pub path: PathBuf,
    pub samples: u64,
    /// The data length the broken header claimed.
    pub claimed_data_len: u32,
}

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn data_len_field(samples: u64) -> io::Result<u32> {
    samples
        .checked_mul(2)
        .and_then(|b| u32::try_from(b).ok())
        .filter(|b| *b <= u32::MAX - 36)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "recording exceeds 4 GiB"))
}

/// fsync the directory so the file's entry (creation, new length) survives a power cut.
fn sync_dir_of(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

impl RecordingWriter {
    /// Creates (or replaces) `path` with a placeholder header.
    pub fn create(path: impl Into<PathBuf>, rate: u32) -> io::Result<Self> {
        if rate == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "sample rate 0"));
        }
        let path = path.into();
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .read(true)
            .open(&path)?;
        file.write_all(&encode_wav_header(rate, CHANNELS, BITS, STREAMING_DATA_LEN))?;
        sync_dir_of(&path)?;
        let flush_samples = u64::from(rate).saturating_mul(FLUSH_EVERY_MS) / 1000;
        Ok(RecordingWriter {
            file,
            path,
            rate,
            samples: 0,
            pending: Vec::new(),
            flush_bytes: usize::try_from(flush_samples.saturating_mul(2)).unwrap_or(usize::MAX),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Samples written so far (buffered or not).
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Appends samples; hands them to the OS once 200 ms of audio is buffered.
    pub fn write(&mut self, samples: &[i16]) -> io::Result<()> {
        self.pending.reserve(samples.len() * 2);
        for s in samples {
            self.pending.extend_from_slice(&s.to_le_bytes());
        }
        self.samples = self.samples.saturating_add(samples.len() as u64);
        if self.pending.len() >= self.flush_bytes {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands buffered samples to the OS (no fsync).
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.file.write_all(&self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }

    /// Truncates to `keep_samples` (all if `None` or more than written) and writes the final
    /// header: the file is complete for every reader (and survives a crash of this process) when
    /// this returns, but not yet forced to the disk. `Unsynced::sync` does that; the call task
    /// runs it right after announcing the completion so no fsync sits on the notification path.
    pub fn finalize(
        mut self,
        keep_samples: Option<u64>,
    ) -> io::Result<(FinishedRecording, Unsynced)> {
        self.flush()?;
        let samples = keep_samples.map_or(self.samples, |k| k.min(self.samples));
        let data_len = data_len_field(samples)?;
        let bytes = HEADER_LEN + u64::from(data_len);
        self.file.set_len(bytes)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file
            .write_all(&encode_wav_header(self.rate, CHANNELS, BITS, data_len))?;
        let done = FinishedRecording {
            path: self.path,
            samples,
            bytes,
        };
        Ok((done, Unsynced { file: self.file }))
    }

    /// `finalize` and `sync` in one: the file is on the disk when this returns.
    pub fn finish(self, keep_samples: Option<u64>) -> io::Result<FinishedRecording> {
        let (done, unsynced) = self.finalize(keep_samples)?;
        unsynced.sync()?;
        Ok(done)
    }
}

/// A finalized recording whose last bytes and length may still be only in the page cache.
#[derive(Debug)]
pub struct Unsynced {
    file: File,
}

impl Unsynced {
    /// fsync of data and length. The directory entry was synced when the file was created.
    pub fn sync(self) -> io::Result<()> {
        self.file.sync_all()
    }
}

/// Reads a canonical 44-byte header: (rate, channels, bits, claimed data length).
fn read_header(file: &mut File) -> io::Result<(u32, u16, u16, u32)> {
    let mut h = [0u8; 44];
    file.read_exact(&mut h)?;
    let u32_at = |i: usize| -> u32 {
        h.get(i..i + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_le_bytes)
    };
    let u16_at = |i: usize| -> u16 {
        h.get(i..i + 2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map_or(0, u16::from_le_bytes)
    };
    let canonical = h.get(0..4) == Some(b"RIFF")
        && h.get(8..16) == Some(b"WAVEfmt ")
        && u32_at(16) == 16
        && u16_at(20) == 1
        && h.get(36..40) == Some(b"data");
    if !canonical {
        return Err(invalid("not a canonical PCM WAV"));
    }
    Ok((u32_at(24), u16_at(22), u16_at(34), u32_at(40)))
}

/// Repairs one file if its header disagrees with its length; `None` if it was fine.
fn repair_file(path: &Path) -> io::Result<Option<Repaired>> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let (rate, channels, bits, claimed) = read_header(&mut file)?;
    let block = u64::from(channels.saturating_mul(bits / 8)).max(1);
    let len = file.metadata()?.len();
    let data = len.saturating_sub(HEADER_LEN);
    let whole = data - data % block;
    let riff_ok = {
        file.seek(SeekFrom::Start(4))?;
        let mut b = [0u8; 4];
        file.read_exact(&mut b)?;
        u64::from(u32::from_le_bytes(b)) == whole.saturating_add(36)
    };
    if u64::from(claimed) == whole && whole == data && riff_ok {
        return Ok(None);
    }
    let data_len = u32::try_from(whole)
        .ok()
        .filter(|d| *d <= u32::MAX - 36)
        .ok_or_else(|| invalid("data too long for a WAV header"))?;
    file.set_len(HEADER_LEN + u64::from(data_len))?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&encode_wav_header(rate, channels, bits, data_len))?;
    file.sync_all()?;
    Ok(Some(Repaired {
        path: path.to_path_buf(),
        samples: u64::from(data_len) / block,
        claimed_data_len: claimed,
    }))
}

/// At start-up: finds `*.wav` in `dir` whose header disagrees with the file length (a process
/// killed mid-recording), rebuilds the header from the data length (dropping a partial trailing
/// sample) and reports them. Files that are not canonical WAVs are left alone.
pub fn repair_dir(dir: &Path) -> io::Result<Vec<Repaired>> {
    let mut repaired = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let is_wav = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
        if !is_wav || !path.is_file() {
            continue;
        }
        match repair_file(&path) {
            Ok(Some(r)) => repaired.push(r),
            Ok(None) => {}
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                tracing::warn!(path = %path.display(), error = %e, "not repairing");
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                tracing::warn!(path = %path.display(), "shorter than a WAV header");
            }
            Err(e) => return Err(e),
        }
    }
    if !repaired.is_empty() {
        File::open(dir)?.sync_all()?;
    }
    Ok(repaired)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("callclip-recfile-{tag}-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn ramp(n: usize) -> Vec<i16> {
        (0..n).map(|i| (i % 1000) as i16 - 500).collect()
    }

    fn read_back(path: &Path) -> (hound::WavSpec, Vec<i16>) {
        let mut r = hound::WavReader::open(path).unwrap();
        let spec = r.spec();
        let s = r.samples::<i16>().map(|s| s.unwrap()).collect();
        (spec, s)
    }

    #[test]
    fn finished_file_reads_back_exactly() {
        let dir = TempDir::new("full");
        let path = dir.0.join("a.wav");
        let mut w = RecordingWriter::create(&path, 8_000).unwrap();
        let audio = ramp(8_000 * 3 + 17);
        for chunk in audio.chunks(160) {
            w.write(chunk).unwrap();
        }
        let done = w.finish(None).unwrap();
        assert_eq!(done.samples, audio.len() as u64);
        assert_eq!(done.bytes, 44 + 2 * audio.len() as u64);
        assert_eq!(fs::metadata(&path).unwrap().len(), done.bytes);
        let (spec, samples) = read_back(&path);
        assert_eq!(
            (spec.sample_rate, spec.channels, spec.bits_per_sample),
            (8_000, 1, 16)
        );
        assert_eq!(samples, audio);
        assert!(
            repair_dir(&dir.0).unwrap().is_empty(),
            "a finished file needs no repair"
        );
    }

    #[test]
    fn finish_keeps_only_the_requested_samples() {
        let dir = TempDir::new("keep");
        let path = dir.0.join("b.wav");
        let mut w = RecordingWriter::create(&path, 16_000).unwrap();
        let audio = ramp(16_000);
        w.write(&audio).unwrap();
        let done = w.finish(Some(4_000)).unwrap();
        assert_eq!(done.samples, 4_000);
        let (_, samples) = read_back(&path);
        assert_eq!(samples, audio[..4_000]);

        let w = RecordingWriter::create(dir.0.join("c.wav"), 16_000).unwrap();
        assert_eq!(
            w.finish(Some(99)).unwrap().samples,
            0,
            "keep beyond written is clamped"
        );
    }

    #[test]
    fn finalized_file_is_complete_before_its_fsync() {
        let dir = TempDir::new("finalize");
        let path = dir.0.join("f.wav");
        let mut w = RecordingWriter::create(&path, 8_000).unwrap();
        let audio = ramp(8_000 + 80);
        w.write(&audio).unwrap();
        let (done, unsynced) = w.finalize(Some(8_000)).unwrap();
        // A download served between the completion and the fsync reads the final file.
        let (_, samples) = read_back(&path);
        assert_eq!(samples, audio[..8_000]);
        assert_eq!(fs::metadata(&path).unwrap().len(), done.bytes);
        unsynced.sync().unwrap();
        assert!(repair_dir(&dir.0).unwrap().is_empty());
    }

    #[test]
    fn audio_reaches_the_os_every_200_ms_before_finish() {
        let dir = TempDir::new("flush");
        let path = dir.0.join("d.wav");
        let mut w = RecordingWriter::create(&path, 8_000).unwrap();
        // 10 frames of 20 ms = 200 ms: all of it must be in the file, not in our buffer.
        for _ in 0..10 {
            w.write(&[7; 160]).unwrap();
        }
        assert_eq!(fs::metadata(&path).unwrap().len(), 44 + 1_600 * 2);
        w.write(&[7; 160]).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), 44 + 1_600 * 2);
    }

    #[test]
    fn killed_recording_is_repaired_and_readable() {
        let dir = TempDir::new("repair");
        let path = dir.0.join("killed.wav");
        let mut w = RecordingWriter::create(&path, 8_000).unwrap();
        let audio = ramp(8_000);
        w.write(&audio).unwrap();
        w.flush().unwrap();
        drop(w); // the process dies: no finish, placeholder header stays
                 // A torn final write leaves half a sample.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[0x55]).unwrap();
        drop(f);
        fs::write(dir.0.join("notes.txt"), b"not audio").unwrap();
        fs::write(dir.0.join("tiny.wav"), b"RIFF").unwrap();

        let repaired = repair_dir(&dir.0).unwrap();
        assert_eq!(repaired.len(), 1);
        assert_eq!(repaired[0].path, path);
        assert_eq!(repaired[0].samples, 8_000);
        assert_eq!(repaired[0].claimed_data_len, STREAMING_DATA_LEN);
        let (spec, samples) = read_back(&path);
        assert_eq!(spec.sample_rate, 8_000);
        assert_eq!(samples, audio);
        assert!(
            repair_dir(&dir.0).unwrap().is_empty(),
            "repair is idempotent"
        );
    }

    #[test]
    fn zero_rate_is_refused() {
        let dir = TempDir::new("zero");
        assert!(RecordingWriter::create(dir.0.join("z.wav"), 0).is_err());
    }
}

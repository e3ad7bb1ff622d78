//! The keyboard as a keypad, and Ctrl-C. Both run on threads of their own and report to the
//! run loop over a channel.

use std::io::{IsTerminal, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc::Sender;

use tracing::debug;

/// What the helper threads tell the run loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Control {
    /// A character typed on stdin.
    Key(char),
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// A stream reported an error (the device went away, an overrun).
    DeviceError(String),
}

/// The terminal settings in force before keys were switched to one-at-a-time; restored on drop.
pub(crate) struct TerminalMode {
    saved: Option<String>,
}

fn stty(args: &[&str]) -> Option<String> {
    let out = Command::new("stty")
        .args(args)
        .stdin(Stdio::inherit())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl Drop for TerminalMode {
    fn drop(&mut self) {
        if let Some(saved) = self.saved.take() {
            let _ = stty(&[saved.as_str()]);
        }
    }
}

/// Reads stdin on a thread and reports every character. On a terminal, input is switched to
/// unbuffered without echo (`stty -icanon -echo`; Ctrl-C still raises SIGINT) so a key acts
/// at once; from a pipe, characters arrive as they are written.
pub(crate) fn watch_keyboard(tx: Sender<Control>) -> TerminalMode {
    let saved = if std::io::stdin().is_terminal() {
        stty(&["-g"]).filter(|_| stty(&["-icanon", "-echo", "min", "1"]).is_some())
    } else {
        None
    };
    let spawned = std::thread::Builder::new()
        .name("callclip-keys".into())
        .spawn(move || {
            let mut stdin = std::io::stdin();
            let mut buf = [0u8; 64];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        for &b in buf.iter().take(n) {
                            if tx.send(Control::Key(char::from(b))).is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        });
    if let Err(e) = spawned {
        debug!(error = %e, "no keyboard thread");
    }
    TerminalMode { saved }
}

/// Turns SIGINT into `Control::Interrupt`. The handler is installed before this returns, so a
/// Ctrl-C from then on never kills the process mid-write.
pub(crate) fn watch_interrupt(tx: Sender<Control>) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut sigint = {
        let _entered = rt.enter();
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?
    };
    std::thread::Builder::new()
        .name("callclip-sigint".into())
        .spawn(move || {
            rt.block_on(async move {
                while sigint.recv().await.is_some() {
                    if tx.send(Control::Interrupt).is_err() {
                        break;
                    }
                }
            })
        })?;
    Ok(())
}

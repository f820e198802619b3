//! A server the tests start: a child process whose output goes to a log file, started on
//! a free port (retried when another process takes the port first), ready before it is
//! returned, and killed when dropped.

use std::fs;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::port::free_port;

/// How long a server may take to become ready.
pub(crate) const STARTUP: Duration = Duration::from_secs(10);
/// Ports to try when another process takes the one free_port() found.
const PORT_ATTEMPTS: usize = 3;

/// A running child whose stdout and stderr go to one log file; killed on drop.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl Server {
    /// Starts `command(port)` on `fixed` or a free port and polls `ready` until it says yes
    /// (retrying on another port when the first is taken, unless the port is fixed); panics
    /// with the server's output if it exits or is not ready within [`STARTUP`].
    /// `shown` is the command as the panic message prints it.
    pub(crate) fn start(
        fixed: Option<u16>,
        command: impl Fn(u16) -> (Command, String),
        ready: impl Fn(&Server) -> bool,
    ) -> Server {
        let attempts = if fixed.is_some() { 1 } else { PORT_ATTEMPTS };
        for attempt in 1..=attempts {
            let port = fixed.unwrap_or_else(free_port);
            let (mut command, shown) = command(port);
            let log = tempfile::NamedTempFile::new().expect("creating a log file");
            // Appending, both: two descriptions of one file each keep their own offset, and
            // without O_APPEND the server's stderr would overwrite its stdout lines.
            let append = || {
                fs::OpenOptions::new()
                    .append(true)
                    .open(log.path())
                    .expect("opening the log file")
            };
            let (stdout, stderr) = (append(), append());
            let child = command
                .stdin(Stdio::null())
                .stdout(stdout)
                .stderr(stderr)
                .spawn()
                .unwrap_or_else(|error| panic!("starting `{shown}`: {error}"));
            let mut server = Server { child, port, log };
            match server.wait_until(&ready) {
                Ok(()) => return server,
                // Another process took the port between free_port() and bind: try a new one.
                Err(_) if attempt < attempts && server.output().contains("in use") => {}
                Err(exit) => panic!("`{shown}` {exit}; its output:\n{}", server.output()),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Everything it printed so far.
    pub(crate) fn output(&self) -> String {
        fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Sends SIGTERM and waits up to `within` for the process to exit; its exit status, or
    /// `None` if it did not exit in time (it is then killed on drop).
    pub(crate) fn terminate(&mut self, within: Duration) -> Option<ExitStatus> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.wait(within)
    }

    /// Waits up to `within` for the process to exit (after a signal sent some other way);
    /// its exit status, or `None` if it is still running.
    pub(crate) fn wait(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            // Looked at once even when `within` is zero: "has it exited yet?".
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The child's process id (for /proc/PID/stat).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn wait_until(&mut self, ready: &impl Fn(&Server) -> bool) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP;
        loop {
            if ready(self) {
                return Ok(());
            }
            if let Some(status) = self.exited() {
                return Err(format!("exited with {status} before it was ready"));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "was not ready on port {} within {STARTUP:?}",
                    self.port
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Already exited is fine; there is nothing else to do about a failure here.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

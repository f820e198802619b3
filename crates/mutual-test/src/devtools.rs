//! Headless Chromium driven over the DevTools protocol, for tests that click: the browser
//! is started with `--remote-debugging-pipe`, which reads commands from its fd 3 and writes
//! answers and events to its fd 4 (JSON messages ended by a NUL byte) — no port, no
//! websocket. A shell wrapper moves our pipes there (`exec 3<&0 4>&1`), so that no unsafe
//! `pre_exec` is needed. Same profile as [`Browser::dump_dom`]: its own `HOME` with the NSS
//! database, the client certificate chosen by policy.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::chromium::Browser;
use crate::tools::require_tool;

/// How long one command or one page load may take before the test fails.
const WAIT: Duration = Duration::from_secs(60);

/// A running browser with one page (tab) attached.
pub struct DevTools {
    child: Child,
    commands: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
    session: String,
    stderr_path: std::path::PathBuf,
}

impl Browser {
    /// Starts this profile's Chromium under DevTools control, `host` resolved to
    /// 127.0.0.1, with a page of `width`×`height` CSS pixels.
    pub fn devtools(&self, host: &str, width: u32, height: u32) -> DevTools {
        let chromium = require_tool("chromium");
        let stderr_path = self.home_path().join("devtools.err");
        let stderr = std::fs::File::create(&stderr_path).expect("creating chromium's error file");
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg("exec 3<&0 4>&1 </dev/null >/dev/null; exec \"$0\" \"$@\"")
            .arg(chromium)
            .env("HOME", self.home_path())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--window-size={width},{height}"))
            .arg(format!(
                "--user-data-dir={}",
                self.home_path().join("devtools-data").display()
            ))
            .arg(format!("--host-resolver-rules=MAP {host} 127.0.0.1"))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().expect("starting chromium");
        let commands = child.stdin.take().expect("chromium's command pipe");
        let answers = child.stdout.take().expect("chromium's answer pipe");
        let (sender, messages) = channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(answers);
            loop {
                let mut message = Vec::new();
                match reader.read_until(0, &mut message) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        message.pop_if(|b| *b == 0);
                        let Ok(value) = serde_json::from_slice::<Value>(&message) else {
                            continue;
                        };
                        if sender.send(value).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let mut tools = DevTools {
            child,
            commands,
            messages,
            next_id: 0,
            session: String::new(),
            stderr_path,
        };
        let target = tools.call_browser("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().expect("a target id").to_owned();
        let attached = tools.call_browser(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        tools.session = attached["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        tools.call("Page.enable", json!({}));
        tools
    }

    fn home_path(&self) -> &Path {
        self.home.path()
    }
}

impl DevTools {
    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> u64 {
        self.next_id += 1;
        let mut message = json!({"id": self.next_id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = session.into();
        }
        let mut bytes = message.to_string().into_bytes();
        bytes.push(0);
        self.commands
            .write_all(&bytes)
            .and_then(|()| self.commands.flush())
            .unwrap_or_else(|e| panic!("sending {method} to chromium: {e}\n{}", self.stderr()));
        self.next_id
    }

    /// Waits for the message `wanted` accepts; events before it are dropped.
    fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) if wanted(&message) => return message,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    panic!("chromium: no {what} within {WAIT:?}\n{}", self.stderr())
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "chromium exited while waiting for {what}\n{}",
                        self.stderr()
                    )
                }
            }
        }
    }

    fn answer(&mut self, method: &str, id: u64) -> Value {
        let message = self.wait_for(method, |m| m["id"].as_u64() == Some(id));
        if let Some(error) = message.get("error") {
            panic!("chromium refused {method}: {error}\n{}", self.stderr());
        }
        message["result"].clone()
    }

    fn call_browser(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params, None);
        self.answer(method, id)
    }

    /// A DevTools command on the page; its result.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        let id = self.send(method, params, Some(&session));
        self.answer(method, id)
    }

    /// Runs `expression` in the page; its value.
    pub fn evaluate(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("`{expression}` threw in the page: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Loads `url` and waits for its load event.
    pub fn navigate(&mut self, url: &str) {
        let result = self.call("Page.navigate", json!({"url": url}));
        if let Some(error) = result.get("errorText") {
            panic!("chromium could not load {url}: {error}\n{}", self.stderr());
        }
        self.wait_for_load();
    }

    fn wait_for_load(&mut self) {
        let session = self.session.clone();
        self.wait_for("Page.loadEventFired", |m| {
            m["method"] == "Page.loadEventFired" && m["sessionId"] == session.as_str()
        });
    }

    /// Clicks the element `selector` names — a link or a submit button — and waits for
    /// the page it leads to.
    pub fn click_and_wait(&mut self, selector: &str) {
        let selector_json = Value::from(selector).to_string();
        let clicked = self.evaluate(&format!(
            "(() => {{ const e = document.querySelector({selector_json}); if (!e) return false; e.click(); return true; }})()"
        ));
        assert_eq!(
            clicked,
            Value::Bool(true),
            "no element `{selector}` to click"
        );
        self.wait_for_load();
    }

    /// Types `text` into the field `selector` names (sets its value, as pasting does).
    pub fn fill(&mut self, selector: &str, text: &str) {
        let selector_json = Value::from(selector).to_string();
        let text_json = Value::from(text).to_string();
        let filled = self.evaluate(&format!(
            "(() => {{ const e = document.querySelector({selector_json}); if (!e) return false; e.value = {text_json}; return true; }})()"
        ));
        assert_eq!(filled, Value::Bool(true), "no field `{selector}` to fill");
    }

    /// The page's current DOM, as HTML.
    pub fn html(&mut self) -> String {
        self.evaluate("document.documentElement.outerHTML")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's address now.
    pub fn location(&mut self) -> String {
        self.evaluate("location.href")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A PNG of the whole page, written to `path`.
    pub fn screenshot(&mut self, path: &Path) {
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .expect("a base64 screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("creating the screenshot directory");
        }
        std::fs::write(path, png).expect("writing the screenshot");
    }

    /// Runs axe-core (`axe_source`, the text of `axe.min.js`, see [`axe_core`]) on the page
    /// as it is now; one line per rule broken: its id, impact and help, then each element
    /// that breaks it and why. The page itself never loads axe: it is evaluated over
    /// DevTools, as a tester's extension would.
    pub fn axe_violations(&mut self, axe_source: &str) -> Vec<String> {
        self.evaluate(&format!("{axe_source};\ntrue"));
        let found = self.evaluate(
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => \
             `${v.id} (${v.impact}): ${v.help}\\n` + v.nodes.map(n => `    ${n.html}\\n      ${n.failureSummary}`).join('\\n')))",
        );
        found
            .as_array()
            .map(|lines| {
                lines
                    .iter()
                    .map(|line| line.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Presses Tab twice as many times as the page has focusable elements (Chromium also
    /// stops on scrollable regions), plus a few, and returns
    /// (the focusable elements, those focus reached), each as its tag and text: equal when
    /// every link and control is reachable from the keyboard. What a closed `<details>`
    /// hides is not expected to be reached until it is opened.
    pub fn tab_through(&mut self) -> (Vec<String>, Vec<String>) {
        const DESCRIBE: &str = "(e => `${e.tagName.toLowerCase()}#${e.id}:${(e.textContent || e.name || '').trim().slice(0, 40)}`)";
        let focusable = self.evaluate(&format!(
            "[...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]')]\
             .filter(e => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length > 0 \
             && (e.tagName === 'SUMMARY' || !e.closest('details:not([open])'))).map({DESCRIBE})"
        ));
        let focusable: Vec<String> = serde_json::from_value(focusable).unwrap_or_default();
        self.evaluate("document.activeElement && document.activeElement.blur(); true");
        let mut reached = Vec::new();
        for _ in 0..focusable.len() * 2 + 4 {
            for kind in ["rawKeyDown", "keyUp"] {
                self.call(
                    "Input.dispatchKeyEvent",
                    json!({"type": kind, "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9}),
                );
            }
            let now = self.evaluate(&format!(
                "document.activeElement && document.activeElement !== document.body ? {DESCRIBE}(document.activeElement) : null"
            ));
            if let Some(now) = now.as_str()
                && !reached.iter().any(|seen| seen == now)
            {
                reached.push(now.to_owned());
            }
        }
        (focusable, reached)
    }

    fn stderr(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        format!("chromium said:\n{text}")
    }
}

impl Drop for DevTools {
    fn drop(&mut self) {
        // Its own process group: the browser goes with its helpers.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

/// The text of axe-core's `axe.min.js`, which `scripts/test` installs with npm under
/// `target/axe-core/` (or where `$MUTUAL_TEST_AXE` points). Panics with how to install it
/// when it is missing: the accessibility tests never skip.
pub fn axe_core() -> String {
    let path = std::env::var_os("MUTUAL_TEST_AXE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            // target/debug/deps/it-HASH
            let exe = std::env::current_exe().expect("the test's own path");
            exe.ancestors()
                .nth(3)
                .map(|target| target.join("axe-core/node_modules/axe-core/axe.min.js"))
                .expect("the target directory")
        });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is not at `{}` ({e}): run scripts/test, which installs it, or \
             `npm install --prefix target/axe-core axe-core@4.14.1`",
            path.display()
        )
    })
}

//! Finding and running the external tools tests interoperate with.

use std::env;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The path of the executable `name` on `PATH`; panics with what to install when it is missing.
pub fn require_tool(name: &str) -> PathBuf {
    find_on_path(name).unwrap_or_else(|| {
        panic!(
            "`{name}` is not installed: install it (apt-get install {}) or run scripts/test",
            debian_package(name)
        )
    })
}

/// Runs `openssl ARGS` and returns its stdout; panics with the command, exit status and
/// stderr if it does not succeed.
pub fn openssl(args: &[&str]) -> String {
    let output = openssl_output(args);
    if !output.status.success() {
        panic!(
            "`openssl {}` failed with {}\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `openssl ARGS` and returns everything it did, for tests that expect it to fail.
/// Panics only when `openssl` cannot be started at all.
pub fn openssl_output(args: &[&str]) -> Output {
    let program = require_tool("openssl");
    Command::new(&program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("starting `openssl {}`: {error}", args.join(" ")))
}

/// `name` on `PATH`, else in the sbin directories where Debian puts servers (nginx,
/// apache2) and which a user's `PATH` often lacks.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &std::path::Path) -> bool {
    path.is_file()
}

/// The Debian package that provides the tool `name`, for the "install it" message.
fn debian_package(name: &str) -> &str {
    match name {
        "certutil" | "pk12util" => "libnss3-tools",
        "psql" | "postgres" | "initdb" | "pg_ctl" => "postgresql",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_openssl() {
        assert!(require_tool("openssl").ends_with("openssl"));
    }

    #[test]
    fn names_the_package_for_a_missing_tool() {
        let panic = std::panic::catch_unwind(|| require_tool("mutual-no-such-tool"))
            .expect_err("a missing tool panics");
        let message = panic
            .downcast_ref::<String>()
            .expect("the panic carries a formatted message");
        assert_eq!(
            message,
            "`mutual-no-such-tool` is not installed: install it \
             (apt-get install mutual-no-such-tool) or run scripts/test"
        );
    }

    #[test]
    fn failure_names_command_status_and_stderr() {
        let panic = std::panic::catch_unwind(|| openssl(&["x509", "-in", "/nonexistent.pem"]))
            .expect_err("a failing openssl panics");
        let message = panic.downcast_ref::<String>().expect("formatted message");
        assert!(
            message.starts_with("`openssl x509 -in /nonexistent.pem` failed with exit status: 1"),
            "{message}"
        );
        assert!(message.contains("/nonexistent.pem"), "{message}");
    }
}

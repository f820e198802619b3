//! A real nginx for tests: the configuration a test writes for the `http {}` context, run in
//! the foreground from a scratch prefix on a free loopback port, ready once it accepts
//! connections, killed when dropped. Its error log (at `info`, where nginx says why it
//! refused a client certificate) is what [`Nginx::log`] returns.

use std::fs;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use crate::process::Server;
use crate::tools::require_tool;

/// A running nginx; the process is killed on drop.
#[derive(Debug)]
pub struct Nginx {
    server: Server,
    prefix: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx with `http_conf(port)` included in its `http {}` block; the
    /// configuration must listen on 127.0.0.1:`port`. Panics with nginx's output when it
    /// refuses the configuration or does not start.
    pub fn start(http_conf: impl Fn(u16) -> String) -> Nginx {
        let program = require_tool("nginx");
        let prefix = tempfile::tempdir().expect("creating nginx's prefix");
        // Workers run as `nobody` when the tests run as root: they must reach the temp paths.
        fs::set_permissions(prefix.path(), fs::Permissions::from_mode(0o755))
            .expect("opening nginx's prefix to its workers");
        let dir = prefix.path().to_owned();
        let server = Server::start(
            None,
            |port| {
                let site = dir.join("site.conf");
                fs::write(&site, http_conf(port)).expect("writing the site configuration");
                let main = dir.join("nginx.conf");
                fs::write(&main, main_conf(&dir, &site)).expect("writing nginx.conf");
                let mut command = Command::new(&program);
                command
                    .arg("-p")
                    .arg(&dir)
                    .args(["-e", "stderr", "-c"])
                    .arg(&main);
                let shown = format!("nginx -p {0} -e stderr -c {0}/nginx.conf", dir.display());
                (command, shown)
            },
            |server| TcpStream::connect(("127.0.0.1", server.port())).is_ok(),
        );
        Nginx { server, prefix }
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// The shell command that makes this nginx reload its configuration (and so re-read
    /// its CRL files), then gives the new workers a moment to start.
    pub fn reload_command(&self) -> String {
        format!(
            "kill -HUP $(cat {}/nginx.pid) && sleep 1",
            self.prefix.path().display()
        )
    }

    /// Everything nginx logged so far.
    pub fn log(&self) -> String {
        self.server.output()
    }
}

fn main_conf(dir: &Path, site: &Path) -> String {
    let dir = dir.display();
    format!(
        "daemon off;\n\
         worker_processes 1;\n\
         pid {dir}/nginx.pid;\n\
         error_log stderr info;\n\
         events {{ worker_connections 128; }}\n\
         http {{\n    \
             access_log off;\n    \
             client_body_temp_path {dir}/client_body;\n    \
             proxy_temp_path {dir}/proxy;\n    \
             fastcgi_temp_path {dir}/fastcgi;\n    \
             uwsgi_temp_path {dir}/uwsgi;\n    \
             scgi_temp_path {dir}/scgi;\n    \
             include {};\n\
         }}\n",
        site.display()
    )
}

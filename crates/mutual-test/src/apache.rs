//! A real Apache httpd (Debian's `apache2`) for tests: a site configuration a test writes,
//! run in the foreground from a scratch ServerRoot with the modules a reverse proxy with
//! client certificates needs, ready once it accepts connections, killed when dropped.

use std::fs;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use crate::process::Server;
use crate::tools::require_tool;

/// Where Debian's apache2 package keeps its modules.
const MODULES: &str = "/usr/lib/apache2/modules";

/// What the site files of `mutual config apache` use, beside the event MPM.
const MODULE_NAMES: [(&str, &str); 7] = [
    ("mpm_event_module", "mod_mpm_event.so"),
    ("authz_core_module", "mod_authz_core.so"),
    ("socache_shmcb_module", "mod_socache_shmcb.so"),
    ("ssl_module", "mod_ssl.so"),
    ("headers_module", "mod_headers.so"),
    ("proxy_module", "mod_proxy.so"),
    ("proxy_http_module", "mod_proxy_http.so"),
];

/// A running Apache httpd; the process is killed on drop.
#[derive(Debug)]
pub struct Apache {
    server: Server,
    root: tempfile::TempDir,
}

impl Apache {
    /// Starts Apache with `site_conf(port)` included after the modules; the site must
    /// listen on 127.0.0.1:`port`. Panics with Apache's output when it refuses the
    /// configuration or does not start.
    pub fn start(site_conf: impl Fn(u16) -> String) -> Apache {
        let program = require_tool("apache2");
        assert!(
            Path::new(MODULES).join("mod_ssl.so").exists(),
            "Apache's modules are not in {MODULES}: install Debian's apache2 package (apt-get install apache2) or run scripts/test"
        );
        let root = tempfile::tempdir().expect("creating Apache's ServerRoot");
        // Children run as www-data when the tests run as root.
        fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755))
            .expect("opening the ServerRoot to Apache's children");
        let dir = root.path().to_owned();
        let server = Server::start(
            None,
            |port| {
                let site = dir.join("site.conf");
                fs::write(&site, site_conf(port)).expect("writing the site configuration");
                let main = dir.join("httpd.conf");
                fs::write(&main, main_conf(&dir, &site)).expect("writing httpd.conf");
                let mut command = Command::new(&program);
                command.args(["-DFOREGROUND", "-f"]).arg(&main);
                let shown = format!("apache2 -DFOREGROUND -f {}", main.display());
                (command, shown)
            },
            |server| TcpStream::connect(("127.0.0.1", server.port())).is_ok(),
        );
        Apache { server, root }
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Everything Apache logged so far: its standard error, then its error log.
    pub fn log(&self) -> String {
        let errors = fs::read_to_string(self.root.path().join("error.log")).unwrap_or_default();
        format!("{}{errors}", self.server.output())
    }
}

fn main_conf(dir: &Path, site: &Path) -> String {
    let mut text = format!(
        "ServerRoot {0}\n\
         DefaultRuntimeDir {0}\n\
         PidFile {0}/httpd.pid\n\
         ErrorLog {0}/error.log\n\
         LogLevel info\n\
         ServerName localhost\n\
         User www-data\n\
         Group www-data\n",
        dir.display()
    );
    for (name, file) in MODULE_NAMES {
        text.push_str(&format!("LoadModule {name} {MODULES}/{file}\n"));
    }
    text.push_str(&format!("Include {}\n", site.display()));
    text
}

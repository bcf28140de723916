"""A real Dovecot IMAP server for tests and benchmarks, from Debian's dovecot-imapd.

When the binary is missing it is installed if it can be (root with apt-get); otherwise
DovecotUnavailable says why. The server runs from a temp dir with its own config (the
recipe in /work/shared/recipes, embedded here for other machines), passwd-file users and
Maildir mail, on a free loopback port, and is stopped and deleted on exit.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


class DovecotUnavailable(Exception):
    """Not installed and not installable here."""


class DovecotFailed(Exception):
    """Installed, but it did not start."""


@dataclass(frozen=True)
class DovecotServer:
    host: str
    port: int
    passwords: dict[str, str]
    directory: Path

    def maildir(self, user: str) -> Path:
        return self.directory / "mail" / user / "Maildir"

    def fill(self, user: str, messages: Iterable[bytes]) -> int:
        """Messages written straight into the user's INBOX (APPENDing thousands would
        measure Dovecot's delivery); Dovecot indexes them on first access. Their bytes."""
        maildir = self.maildir(user)
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        size = 0
        for number, raw in enumerate(messages):
            (maildir / "cur" / f"{number}.M{number}P1.fill:2,S").write_bytes(raw)
            size += len(raw)
        owner = (self.directory / "mail").stat()
        for path in [maildir.parent, *maildir.parent.rglob("*")]:
            os.chown(path, owner.st_uid, owner.st_gid)
        return size


RECIPE = Path("/work/shared/recipes/dovecot.conf.template")
# The recipe's template, for machines without /work/shared: keep the two in step.
EMBEDDED_TEMPLATE = """\
base_dir = @DIR@/run
state_dir = @DIR@/state
log_path = @DIR@/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
first_valid_uid = 100
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u @DIR@/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u @DIR@/passwd
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = @PORT@
  }
}
service anvil {
  chroot =
}
"""
# XOAUTH2 checks the bearer token against the passdb like a password, which is all a
# test of the client side needs. Failed logins answer at once instead of after 2 s.
EXTRA_CONFIG = """
auth_failure_delay = 0
protocol imap {
  mail_max_userip_connections = 100
}
namespace inbox {
  inbox = yes
  mailbox Sent {
    special_use = \\Sent
    auto = create
  }
  mailbox Trash {
    special_use = \\Trash
    auto = create
  }
  mailbox Drafts {
    special_use = \\Drafts
    auto = create
  }
}
"""
INSTALL = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-imapd"
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


@contextmanager
def running_dovecot(
    passwords: dict[str, str],
    oauth_introspection_url: str | None = None,
    *,
    connections: int = 100,
) -> Iterator[DovecotServer]:
    """A Dovecot of its own on a free loopback port, with these users (name -> password),
    stopped and deleted on exit.

    With `oauth_introspection_url`, XOAUTH2 and OAUTHBEARER tokens are also checked
    against that RFC 7662 introspection endpoint (POST; `active` must be true and
    `username` the user), like a provider's IMAP server checks its own tokens.

    `connections`: IMAP sessions the server takes at once (Dovecot's own default is 100:
    one imap process per session, and as many login clients)."""
    binary = _dovecot_binary()
    doveadm = shutil.which("doveadm", path=SEARCH_PATH) or "doveadm"
    # Not under a private temp dir (pytest's basetemp is 0700): Dovecot's own users must
    # reach the passwd file and the mail.
    directory = Path(tempfile.mkdtemp(prefix="commsintel-dovecot-"))
    port = _free_port()
    uid, gid, config = _configure(directory, port)
    if oauth_introspection_url is not None:
        config += _oauth2_passdb(directory, oauth_introspection_url)
    if connections > 100:
        # Each IDLE watches its folder with an inotify instance, and Linux allows 128 per
        # user by default (fs.inotify.max_user_instances): the sessions past that learn
        # of new mail by polling, every 30 s unless told otherwise.
        config += (
            f"default_client_limit = {connections + 200}\n"
            f"service imap {{\n  process_limit = {connections}\n}}\n"
            "mailbox_idle_check_interval = 1 secs\n"
        )
    conf = directory / "dovecot.conf"
    conf.write_text(config)
    (directory / "passwd").write_text(
        "".join(
            f"{name}:{{PLAIN}}{password}:{uid}:{gid}::{directory / 'mail' / name}\n"
            for name, password in passwords.items()
        )
    )
    server = DovecotServer("127.0.0.1", port, passwords, directory)
    startup_errors = directory / "startup.err"
    try:
        # The master daemonizes; a pipe would stay open in it, so errors go to a file.
        with startup_errors.open("w") as errors:
            started = subprocess.run(
                [binary, "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                timeout=30,
                check=False,
            )
        if started.returncode != 0:
            problem = startup_errors.read_text().strip()
            raise DovecotFailed(f"dovecot did not start: {problem}{_log_tail(directory)}")
        _wait_for_port(server.host, port, directory)
        yield server
    finally:
        subprocess.run(
            [doveadm, "-c", str(conf), "stop"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )
        _wait_until_closed(server.host, port)
        shutil.rmtree(directory, ignore_errors=True)


def _oauth2_passdb(directory: Path, introspection_url: str) -> str:
    """Dovecot's oauth2 passdb (2.3: doc.dovecot.org configuration_manual/authentication/
    oauth2), after the passwd-file one: a token that is no password falls through to it."""
    args = directory / "dovecot-oauth2.conf.ext"
    args.write_text(
        "introspection_mode = post\n"
        f"introspection_url = {introspection_url}\n"
        "force_introspection = yes\n"
        "username_attribute = username\n"
        "active_attribute = active\n"
        "active_value = true\n"
    )
    return (
        "auth_mechanisms = plain login xoauth2 oauthbearer\n"
        f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {args}\n}}\n"
    )


def _dovecot_binary() -> str:
    if found := shutil.which("dovecot", path=SEARCH_PATH):
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise DovecotUnavailable(
            "dovecot is not installed and cannot be installed here (needs root and "
            "apt-get); run `make system-deps` or install Debian's dovecot-imapd"
        )
    installed = subprocess.run(
        ["bash", "-c", INSTALL], capture_output=True, text=True, timeout=900, check=False
    )
    if found := shutil.which("dovecot", path=SEARCH_PATH):
        return found
    raise DovecotUnavailable(
        "dovecot is not installed and installing dovecot-imapd failed: "
        + (installed.stderr.strip().splitlines() or ["no output"])[-1]
    )


def _configure(directory: Path, port: int) -> tuple[int, int, str]:
    """The server's config and the uid/gid its mail belongs to, per the recipe."""
    template = RECIPE.read_text() if RECIPE.is_file() else EMBEDDED_TEMPLATE
    config = template.replace("@DIR@", str(directory)).replace("@PORT@", str(port))
    config = config.replace("auth_mechanisms = plain login\n", "")
    config += "auth_mechanisms = plain login xoauth2\n" + EXTRA_CONFIG
    for sub in ("run", "state", "mail"):
        (directory / sub).mkdir()
    if os.geteuid() == 0:
        # imap-login refuses to run as root: mail belongs to the dovecot system user.
        owner = pwd.getpwnam("dovecot")
        uid, gid = owner.pw_uid, owner.pw_gid
        shutil.chown(directory / "mail", uid, gid)
    else:
        # Unprivileged: every Dovecot process and all mail run as the current user.
        uid, gid = os.getuid(), os.getgid()
        user, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
        config = config.replace("first_valid_uid = 100", f"first_valid_uid = {min(uid, 100)}")
        config += (
            f"default_internal_user = {user}\ndefault_internal_group = {group}\n"
            f"default_login_user = {user}\n"
        )
    directory.chmod(0o755)
    return uid, gid, config


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(host: str, port: int, directory: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise DovecotFailed(
        f"dovecot did not listen on {host}:{port} within {timeout}s{_log_tail(directory)}"
    )


def _wait_until_closed(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                time.sleep(0.1)
        except OSError:
            return


def _log_tail(directory: Path) -> str:
    log = directory / "dovecot.log"
    if not log.is_file():
        return ""
    return "\n--- dovecot.log ---\n" + "\n".join(log.read_text().splitlines()[-20:])

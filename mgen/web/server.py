"""Start the server: check the web extra is installed, say where it listens (and warn when
that is beyond this machine), then run uvicorn until interrupted."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from pathlib import Path

from mgen.core.contracts.errors import ConfigError
from mgen.web.limits import Limits

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}
EXTRA = "mgen serve needs the web extra: pip install 'mgen[web]' (fastapi, uvicorn, verovio)"


def is_loopback(host: str) -> bool:
    """Whether `host` reaches only this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


def check_port(host: str, port: int) -> None:
    """Refuse at once, in one line, an address this machine cannot listen on."""
    bare = host.strip("[]")
    family = socket.AF_INET6 if ":" in bare else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((bare, port))
        except OSError as e:
            raise ConfigError(f"cannot listen on {url(host, port)}: {e.strerror or e}") from None


def served_hosts(host: str, allowed: Sequence[str], echo: Callable[[str], None]) -> list[str]:
    """The Host names the server answers to: this machine's, the address it listens on and
    --allow-host's. Listening on every address (0.0.0.0, ::) without --allow-host answers to
    any name, as a server behind a proxy must; loopback never does (DNS rebinding)."""
    from mgen.web.middleware import LOOPBACK_HOSTS

    hosts = [*LOOPBACK_HOSTS, host, *allowed]
    if host.strip("[]") in ("0.0.0.0", "::") and not allowed:
        echo("warning: answering requests for any host name; --allow-host NAME limits them")
        hosts.append("*")
    return hosts


def announce(
    host: str, port: int, runs: Sequence[Path], found: int, echo: Callable[[str], None]
) -> None:
    """Where the server listens and what it offers, with a warning for a --runs folder that
    does not exist (a typo would otherwise look like an empty folder) and for an address
    beyond this machine."""
    where = ", ".join(str(r) for r in runs)
    echo(f"mgen serve: {url(host, port)}  ({found} model(s) from {where}; Ctrl-C stops)")
    missing = [str(r) for r in runs if not Path(r).is_dir()]
    if missing:
        echo(f"warning: --runs {', '.join(missing)}: no such folder (listed once it exists)")
    if not found:
        echo(f"no runs under {where} yet: train one with `mgen train`; the page lists it then")
    if not is_loopback(host):
        echo(
            f"warning: listening on {host}, reachable from other machines; mgen serve has no "
            "login: put it behind a reverse proxy with access control (docs/web.md)"
        )


def require_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401 - for uploads
        import uvicorn  # noqa: F401
        import verovio  # noqa: F401
    except ImportError as e:
        raise ConfigError(f"{EXTRA}; missing: {e.name}") from None


def serve(
    host: str,
    port: int,
    runs: Sequence[Path],
    limits: Limits,
    echo: Callable[[str], None],
    root_path: str = "",
    allow_hosts: Sequence[str] = (),
    job_seconds: float = 60,
    named: Sequence[str] = (),
) -> None:
    """Run the server in the foreground; `named`: runs offered by name as well (a directory,
    a shipped model's name, hf:owner/name), each resolved (a Hub run fetched) before it starts."""
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be 1-65535, got {port}")
    require_extra()
    check_port(host, port)
    import uvicorn

    from mgen.web.app import create_app
    from mgen.web.catalog import named_runs
    from mgen.web.worker import JobLimits

    hosts = served_hosts(host, allow_hosts, echo)
    chosen = named_runs(named)
    app = create_app(runs, limits, hosts=hosts, jobs=JobLimits(seconds=job_seconds), named=chosen)
    announce(host, port, runs, len(app.state.service.models()), echo)
    uvicorn.run(app, host=host, port=port, log_level="warning", root_path=root_path)

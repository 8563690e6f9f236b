"""Benchmark of the web pages: the product under load against a bare Django project
serving pages of the same size, under the same server and worker count.

Run from the repository root:

    .venv/bin/python bench/web.py                     # every page, 5 s runs, 20 connections
    .venv/bin/python bench/web.py --pages home account --seconds 10 --runs 5
    .venv/bin/python bench/web.py --keep              # reuse the accounts of a former run

The product runs as `manage.py run_site` runs it (gunicorn, `qualipact.web.gunicorn_conf`,
2 sync workers), DEBUG off, on its own data folder var/bench-web-<N>/ (SQLite; DATABASE_URL
/ KEYS_DATABASE_URL are honoured, then the databases must be empty, or pass --keep) with
N accounts, the first of which signs in once through the sign-in form; its session cookie
is sent with every request for the account page. The contact form's flood limit (5 per
address and 10 minutes) is lifted for the server under test, so every POST is carried
out: the limit's check still runs, and each POST's message differs, so none is taken for
a repeated submission.

The bare site (bench/bare_site.py) is `django-admin startproject`'s settings and
middleware, no database, and one view answering each measured page with a static body
of the same size and the same status as the product's answer, which is fetched first.
Both run under the same gunicorn command and config, side by side on 127.0.0.1.

Each page is driven by `wrk` when it is installed, else by a small asyncio load
generator in this process, with `--connections` concurrent connections for `--seconds`
per run; runs alternate between the servers (product first, then bare first, ...), after
an untimed second of warm-up on each. Every request looks like a browser's (a Firefox
User-Agent, Sec-Fetch-Site: same-origin), so the product counts each page view as it
counts a person's. Reported per page: requests per second, p50 and p95 latency, each the
median over the runs, and the product's rate as a share of the bare site's.
Target: at least 0.70 of the bare site's requests per second on every page.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import http.cookies
import itertools
import json
import math
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    REPO,
    LoadRun,
    Served,
    describe_run,
    median_p95,
    parse_args,
    print_served_table,
    progress,
    start,
)

from qualipact.web.processes import child_start, group_stop

DEFAULT_ACCOUNTS = 100
SECONDS = 5
CONNECTIONS = 20
RUNS = 3
WARM_SECONDS = 1
TARGET = 0.70
WORKERS = 2  # as `manage.py run_site` starts gunicorn
FIRST_PORT = 8400
PORTS_TRIED = 100
HOST = "127.0.0.1"
# A server has this long to answer its first request (a busy machine starts slowly), and
# a request this long before it counts as failed (gunicorn's own worker timeout is 30 s).
READY_SECONDS = 300.0
REQUEST_SECONDS = 30.0
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
ACCOUNT_PASSWORD = "bench web account password, long enough"  # noqa: S105 (the bench's own)
# The contact form's flood limit, out of the way for the server under test.
CONTACT_RATE_LIMIT = 10**9


def username(index: int) -> str:
    return f"bench-web-{index}"


@dataclass(frozen=True)
class Page:
    """A measured page: what is sent, and by whom."""

    name: str
    method: str
    path: str
    signed_in: bool = False
    # A POST's form; its last field gets a different ending on every request.
    form: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        return f"{self.name}: {self.method} {self.path}"

    def body_prefix(self) -> str:
        """The urlencoded form; what is appended to it ends its last field."""
        return urllib.parse.urlencode(self.form)

    def body(self) -> str:
        """The form, different from any other request's: never a repeated submission."""
        return f"{self.body_prefix()}+{secrets.token_hex(8)}" if self.form else ""


CONTACT_FORM = (
    ("kind", "general"),
    ("name", "Bench Visitor"),
    ("email", "visitor@qualipact.example"),
    ("phone", ""),
    ("postal_address", ""),
    ("country", ""),
    ("subject_line", "A question about my invoice"),
    ("website", ""),  # the honeypot, empty as a person leaves it
    ("message", "Could you send my invoice from March again, please? Reference"),
)
PAGES = (
    Page("home", "GET", "/"),
    Page("policy", "GET", "/privacy/"),
    Page("contact", "GET", "/contact/"),
    Page("contact-post", "POST", "/contact/", form=CONTACT_FORM),
    Page("account", "GET", "/accounts/", signed_in=True),
)
# allauth's sign-in form, posted once for the account page's session.
SIGN_IN_PATH = "/accounts/login/"
SIGN_IN = Page("sign-in", "POST", SIGN_IN_PATH)


# -- data set -------------------------------------------------------------------------


def create(first: int, stop: int) -> str:
    """Accounts `first` to `stop - 1`, each with a verified address; every one has the
    same password (hashed once)."""
    from django.contrib.auth.hashers import make_password

    from qualipact.accounts.services import account_create

    password_hash = make_password(ACCOUNT_PASSWORD)
    for index in progress(range(first, stop), desc="accounts", unit="account"):
        account_create(
            username=username(index),
            email=f"{username(index)}@qualipact.example",
            password=None,
            password_hash=password_hash,
            email_verified=True,
        )
    return f"{stop - first:,} accounts with a verified address"


# -- servers --------------------------------------------------------------------------


@dataclass
class Server:
    """A gunicorn master and its workers, in a process group of their own."""

    name: str
    process: subprocess.Popen[Any]
    port: int
    log: Path

    def output(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def gunicorn_command(app: str, port: int, *extra: str) -> list[str]:
    """The web server as run_site starts it: same config, same worker count."""
    return [
        sys.executable, "-m", "gunicorn", app,
        "--config", "python:qualipact.web.gunicorn_conf",
        "--bind", f"{HOST}:{port}", "--workers", str(WORKERS), *extra,
    ]  # fmt: skip


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True


def free_port(first: int, *, taken: Sequence[int] = ()) -> int:
    for port in range(first, first + PORTS_TRIED):
        if port not in taken and port_free(port):
            return port
    sys.exit(f"no free port among {first} to {first + PORTS_TRIED - 1}: pass --port")


def server_start(
    name: str, command: list[str], *, port: int, env: dict[str, str], log: Path
) -> Server:
    """Start a server in a process group of its own, bound to this process's life, its
    output in `log`."""
    log.write_text("")
    with log.open("a") as out:
        process = child_start(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Server(name, process, port, log)


def until(condition: Callable[[], Any], *, what: str, server: Server) -> Any:
    """Poll `condition` until it returns something true, and return that. Exits when the
    server has stopped, or after READY_SECONDS."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        if value := condition():
            return value
        if server.process.poll() is not None:
            sys.exit(
                f"the {server.name} server stopped while waiting for {what}:\n{server.output()}"
            )
        if time.monotonic() > deadline:
            sys.exit(
                f"no {what} from the {server.name} server in {READY_SECONDS:g} s:\n"
                f"{server.output()}"
            )
        time.sleep(0.1)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def exchange(
    port: int, method: str, path: str, headers: dict[str, str], body: str = ""
) -> Answer | None:
    """One request, no redirect followed: the answer, or None when the exchange failed in
    transit for any reason (refused, reset, timed out connecting or reading, cut short)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_SECONDS)
    try:
        connection.request(method, path, body=body.encode() or None, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def request_headers(page: Page, cookie: str) -> dict[str, str]:
    """What a browser sends with this page (the session cookie when signed in)."""
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "text/html,application/xhtml+xml",
        "Sec-Fetch-Site": "same-origin",
    }
    if page.signed_in:
        headers["Cookie"] = cookie
    if page.method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return headers


def sign_in(server: Server, account: str) -> str:
    """Sign in once through the product's sign-in form: the session cookie to send."""
    from django.conf import settings

    def attempt() -> Answer | None:
        body = urllib.parse.urlencode({"login": account, "password": ACCOUNT_PASSWORD})
        return exchange(server.port, "POST", SIGN_IN_PATH, request_headers(SIGN_IN, ""), body)

    answer = until(attempt, what="answer to the sign-in", server=server)
    cookies = http.cookies.SimpleCookie()
    for header in answer.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    name = settings.SESSION_COOKIE_NAME
    if answer.status != 302 or name not in cookies:
        sys.exit(f"signing in as {account} failed: {answer.status}\n{server.output()}")
    return f"{name}={cookies[name].value}"


# -- load generators ------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """What a run sends to one server: one page's request, and the status it expects."""

    port: int
    page: Page
    headers: dict[str, str]
    status: int


@dataclass
class Outcome:
    """A run, with the statuses that were not the expected one."""

    run: LoadRun
    unexpected: Counter[int] = field(default_factory=Counter)


def python_load(load: Load, *, seconds: int, connections: int) -> Outcome:
    """`connections` connections sending the page's request in a loop for `seconds`, in
    one asyncio loop: a new connection per request, as gunicorn's sync workers close
    each one after its answer. Requests answered after the end are not counted."""
    return asyncio.run(_python_load(load, seconds=seconds, connections=connections))


async def _python_load(load: Load, *, seconds: int, connections: int) -> Outcome:
    page = load.page
    head = "".join(f"{name}: {value}\r\n" for name, value in load.headers.items())
    head = f"{page.method} {page.path} HTTP/1.1\r\nHost: {HOST}:{load.port}\r\n{head}"
    head += "Connection: close\r\n"
    prefix = page.body_prefix() + f"+{secrets.token_hex(4)}-"
    counter = itertools.count()

    def request() -> bytes:
        if page.method != "POST":
            return (head + "\r\n").encode()
        body = f"{prefix}{next(counter)}".encode()
        return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body

    latencies: list[float] = []
    unexpected: Counter[int] = Counter()
    failed = 0
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        nonlocal failed
        while True:
            data = request()
            sent = time.perf_counter()
            if sent >= deadline:
                return
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(HOST, load.port), REQUEST_SECONDS
                )
                try:
                    writer.write(data)
                    answer = await asyncio.wait_for(reader.read(), REQUEST_SECONDS)
                finally:
                    writer.close()
            except (OSError, TimeoutError):
                failed += 1
                continue
            finished = time.perf_counter()
            if finished > deadline:
                return
            if answer[:7] != b"HTTP/1." or not answer[9:12].isdigit():
                failed += 1  # closed without an answer (a worker restarted, say)
                continue
            status = int(answer[9:12])
            if status != load.status:
                unexpected[status] += 1
                continue
            latencies.append(finished - sent)

    await asyncio.gather(*(connection() for _ in range(connections)))
    p50, p95 = median_p95(latencies) if latencies else (math.nan, math.nan)
    errors = failed + sum(unexpected.values())
    return Outcome(LoadRun(len(latencies), seconds, p50 * 1000, p95 * 1000, errors), unexpected)


# wrk's Lua script for one run: the request (a POST's body ends differently every time),
# a count of answers with another status than the expected one, and one result line.
WRK_SCRIPT = """\
wrk.method = {method}
wrk.headers = {{{headers}}}
local threads = {{}}
local started = 0
function setup(thread)
  started = started + 1
  thread:set("id", started)
  table.insert(threads, thread)
end
{request}
unexpected = 0
local statuses = {{}}
function response(status, headers, body)
  if status ~= {status} then
    unexpected = unexpected + 1
    statuses[status] = (statuses[status] or 0) + 1
    seen = ""
    for s, n in pairs(statuses) do seen = seen .. s .. ":" .. n .. "," end
  end
end
function done(summary, latency, requests)
  local bad, seen_all = 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("unexpected")
    seen_all = seen_all .. (thread:get("seen") or "")
  end
  local e = summary.errors
  io.write(string.format("wrk-result %d %d %d %d %.1f %.1f %s\\n", summary.requests,
    summary.duration, e.connect + e.read + e.write + e.timeout, bad,
    latency:percentile(50), latency:percentile(95), seen_all))
end
"""
WRK_POST = """\
local counter = 0
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, {prefix} .. id .. "-" .. counter)
end
"""


def wrk_load(load: Load, *, seconds: int, connections: int, script: Path) -> Outcome:
    """The same run by wrk: `connections` connections on up to 2 threads."""
    page = load.page
    prefix = page.body_prefix() + f"+{secrets.token_hex(4)}-"
    # JSON strings of ASCII are Lua strings too.
    script.write_text(
        WRK_SCRIPT.format(
            method=json.dumps(page.method),
            headers=", ".join(
                f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in load.headers.items()
            ),
            request=WRK_POST.format(prefix=json.dumps(prefix)) if page.method == "POST" else "",
            status=load.status,
        )
    )
    command = [
        "wrk", "--threads", str(min(connections, 2)), "--connections", str(connections),
        "--duration", f"{seconds}s", "--timeout", f"{REQUEST_SECONDS:g}s",
        "--script", str(script), f"http://{HOST}:{load.port}{page.path}",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    found = re.search(r"^wrk-result (.*)$", done.stdout, re.M)
    if done.returncode != 0 or found is None:
        sys.exit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    requests, duration_us, failed, bad, p50_us, p95_us, *seen = found.group(1).split()
    unexpected: Counter[int] = Counter()
    for pair in (seen[0] if seen else "").split(","):
        if pair:
            status, count = pair.split(":")
            unexpected[int(status)] += int(count)
    answered = int(requests) - int(bad)
    run = LoadRun(
        answered,
        int(duration_us) / 1e6,
        float(p50_us) / 1000,
        float(p95_us) / 1000,
        int(failed) + int(bad),
    )
    return Outcome(run, unexpected)


# -- the bench ------------------------------------------------------------------------


def options(parser: argparse.ArgumentParser) -> None:
    names = [page.name for page in PAGES]
    parser.add_argument("--seconds", type=int, default=SECONDS, help="seconds per run")
    parser.add_argument(
        "--connections", type=int, default=CONNECTIONS, help="concurrent connections"
    )
    parser.add_argument(
        "--pages", nargs="+", choices=names, default=names, metavar="PAGE",
        help=f"pages to measure, of: {' '.join(names)}",
    )  # fmt: skip
    parser.add_argument(
        "--client", choices=("auto", "wrk", "python"), default="auto",
        help="load generator: wrk when installed (auto), or the Python one",
    )  # fmt: skip
    parser.add_argument("--port", type=int, default=FIRST_PORT, help="first port to try")


def product_start(port: int, var_dir: Path) -> Server:
    """The product as run_site serves it, with the contact form's flood limit lifted."""
    env = {**os.environ, "CONTACT_RATE_LIMIT": str(CONTACT_RATE_LIMIT)}
    command = gunicorn_command("qualipact.wsgi", port)
    return server_start("product", command, port=port, env=env, log=var_dir / "product.log")


def bare_start(port: int, var_dir: Path, answers: dict[Page, Answer]) -> Server:
    """The bare site, told each page's status, body size and redirect."""
    pages = [
        {
            "method": page.method,
            "path": page.path,
            "status": answer.status,
            "bytes": len(answer.body),
            "location": answer.headers.get("Location", ""),
        }
        for page, answer in answers.items()
    ]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bare_site",
        "BARE_SITE_PAGES": json.dumps(pages),
    }
    command = gunicorn_command("bare_site:application", port, "--pythonpath", "bench")
    return server_start("bare", command, port=port, env=env, log=var_dir / "bare.log")


def answer_of(server: Server, page: Page, cookie: str) -> Answer:
    """The server's answer to one request for the page (retried until it comes)."""
    return until(
        lambda: exchange(
            server.port, page.method, page.path, request_headers(page, cookie), page.body()
        ),
        what=f"answer to {page.label}",
        server=server,
    )


def measure(
    product: Server,
    bare: Server,
    page: Page,
    *,
    label: str,
    run: Callable[[Server, Page, int], Outcome],
    args: argparse.Namespace,
    unexpected: dict[str, Counter[int]],
) -> Served:
    """A second of warm-up on each server, then `args.runs` runs on each, alternating
    which goes first; statuses other than the expected one are added to `unexpected`."""
    for server in (product, bare):  # each worker's templates, caches and query plans
        run(server, page, WARM_SECONDS)
    served = Served(label, [], [])
    for i in range(args.runs):
        turns = [(served.library, product), (served.raw, bare)]
        for runs, server in turns if i % 2 == 0 else reversed(turns):
            outcome = run(server, page, args.seconds)
            runs.append(outcome.run)
            if outcome.unexpected:
                where = f"{server.name} {page.label}"
                unexpected.setdefault(where, Counter()).update(outcome.unexpected)
    return served


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(
        argv,
        description=__doc__ or "",
        default=DEFAULT_ACCOUNTS,
        size="accounts",
        runs=RUNS,
        more=options,
    )
    if args.seconds < 1 or args.connections < 1:
        sys.exit("--seconds and --connections must be at least 1")
    wrk = shutil.which("wrk")
    if args.client == "wrk" and wrk is None:
        sys.exit("--client wrk: wrk is not installed (Debian: apt-get install wrk)")
    use_wrk = wrk is not None and args.client != "python"
    var_dir = start(f"bench-web-{args.accounts}", args, subjects=args.accounts, create=create)
    pages = [page for page in PAGES if page.name in args.pages]

    servers: list[Server] = []
    results: list[Served] = []
    unexpected: dict[str, Counter[int]] = {}
    try:
        product = product_start(free_port(args.port), var_dir)
        servers.append(product)
        cookie = sign_in(product, username(0)) if any(p.signed_in for p in pages) else ""
        answers = {page: answer_of(product, page, cookie) for page in pages}
        for page, answer in answers.items():
            # A form sent is answered with a redirect (303 See Other, or Django's 302).
            expected = (302, 303) if page.method == "POST" else (200,)
            if answer.status not in expected:
                sys.exit(
                    f"{page.label} answered {answer.status}, not {' or '.join(map(str, expected))}"
                )

        bare = bare_start(free_port(product.port + 1, taken=[product.port]), var_dir, answers)
        servers.append(bare)
        for page, answer in answers.items():
            got = answer_of(bare, page, cookie)
            if (got.status, len(got.body)) != (answer.status, len(answer.body)):
                sys.exit(
                    f"the bare site answers {page.label} with {got.status} and "
                    f"{len(got.body)} bytes, the product with {answer.status} and "
                    f"{len(answer.body)}"
                )
        sizes = ", ".join(f"{page.name} {len(a.body):,} B" for page, a in answers.items())
        print(f"verified: the bare site answers each page with the product's status and size "
              f"({sizes})")  # fmt: skip

        script = var_dir / "wrk-run.lua"

        def run(server: Server, page: Page, seconds: int) -> Outcome:
            load = Load(server.port, page, request_headers(page, cookie), answers[page].status)
            if use_wrk:
                return wrk_load(load, seconds=seconds, connections=args.connections, script=script)
            return python_load(load, seconds=seconds, connections=args.connections)

        for page in progress(pages, desc="pages", unit="page"):
            label = f"{page.label} ({len(answers[page].body):,} B)"
            results.append(
                measure(product, bare, page, label=label, run=run, args=args, unexpected=unexpected)
            )
    finally:
        for server in servers:
            group_stop(server.process)

    client = f"wrk {wrk_version(wrk)}" if use_wrk else "asyncio load generator (this process)"
    print(
        "\n"
        + describe_run(
            accounts=args.accounts,
            seconds_per_run=args.seconds,
            connections=args.connections,
            runs_per_server=args.runs,
            gunicorn_sync_workers=WORKERS,
        )
        + f" | client {client}"
    )
    print_served_table(results, names=("product", "bare"))
    print(f"\n  target: the product at least {TARGET:.2f} of the bare site's req/s on each page")
    for page, served in zip(pages, results, strict=True):
        ratio = served.ratio()
        verdict = "meets the target" if ratio >= TARGET else "MISSES the target"
        print(f"  {page.name} ({len(answers[page].body):,} B): {ratio:.2f}, {verdict}")
    if unexpected:
        details = "; ".join(f"{where}: {dict(counts)}" for where, counts in unexpected.items())
        sys.exit(f"answers with another status than the first one (not comparable): {details}")


def wrk_version(path: str | None) -> str:
    if path is None:
        return ""
    done = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    found = re.search(r"wrk (\S+)", done.stdout + done.stderr)
    return found.group(1) if found else ""


if __name__ == "__main__":
    main()

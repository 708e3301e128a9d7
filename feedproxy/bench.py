"""``feedproxy bench``: the proxy against nginx serving the same documents as static files, driven by wrk.

nginx runs with its own temporary configuration on an unprivileged port (sendfile, etag, gzip_static
with a pre-compressed copy): the bound a static file server sets. The proxy runs in front of a tiny
local upstream with a warm cache, admitting the bench's own address through a throw-away signed
snapshot and the test-only ``--allow-loopback-clients``. For each case (310-byte, 2 KB and 150 KB
documents; plain 200, gzip, 304) both servers get a warm-up and then ``wrk -t2 -c64 -d10s --latency``, in
alternation (``--rounds`` times, medians: other load on the machine moves single runs a lot); the
table shows req/s and p99 of each and the ratio. A last run of 1,000 concurrent
connections on a document the proxy has never fetched counts the upstream requests per document per
refresh interval. PASS needs ratio >= 0.70 and p99 <= 2x nginx's in every case, and 1 upstream request.

    feedproxy bench [--duration 10] [--warmup 2] [--rounds 3] [--workers N] [--connections 64]
                    [--sizes 310B,2KB,150KB] [--cases plain,gzip,304]
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from feedproxy.testsnapshot import signed_snapshot, write_public_key

DATA = Path(os.environ.get("FEEDPROXY_BENCH_DATA", Path(__file__).resolve().parents[1] / "tests/data/feed"))
#: Real documents: the in-band error document a batch that does not exist yet answers (310 bytes, prez2023),
#: and kv2022 precinct batches of about 2 KB and 150 KB (UTF-8).
DOCUMENTS = {
    "310B": DATA / "chyba_vysledky_okrsky.xml",
    "2KB": DATA / "kv2026_vysledky_okrsky_00001.xml",
    "150KB": DATA / "kv2022_vysledky_okrsky_davka_021.xml",
}
#: The proxy serves the small ones under the 2025+ layout, the large one under /pls/.
PROXY_PATHS = {
    "310B": "/appdata/kv2026/20261009/odata/okrsky/vysledky_okrsky.xml",
    "2KB": "/appdata/kv2026/20261009/odata/okrsky/vysledky_okrsky_00001.xml",
    "150KB": "/pls/kv2022/vysledky_okrsky?davka=21",
}
NGINX_PATHS = {"310B": "/tiny.xml", "2KB": "/small.xml", "150KB": "/big.xml"}
MIN_RATIO = 0.70
MAX_P99_FACTOR = 2.0


@dataclass(frozen=True)
class Run:
    requests_per_second: float
    p99_ms: float
    errors: str


# --- the local upstream ------------------------------------------------------------------------------


class Upstream(http.server.ThreadingHTTPServer):
    """Serves every ``davka`` from one of the two files; records when each path was asked for."""

    daemon_threads = True

    def __init__(self, bodies: dict[str, bytes], delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _UpstreamHandler)
        self.bodies = bodies
        self.delay = delay
        self.hits: dict[str, list[float]] = {}
        self.lock = threading.Lock()


class _UpstreamHandler(http.server.BaseHTTPRequestHandler):
    server: Upstream
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.hits.setdefault(self.path, []).append(time.monotonic())
        time.sleep(self.server.delay)  # a real upstream is not instant: concurrent first requests overlap
        size = next((size for size, path in PROXY_PATHS.items() if path == self.path), "150KB")
        body = self.server.bodies[size]
        etag = f'"{len(body)}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


# --- nginx -------------------------------------------------------------------------------------------

NGINX_CONF = """
worker_processes auto;
daemon off;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    types {{ text/xml xml; }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    etag on;
    gzip_static on;
    gzip_vary on;
    keepalive_requests 1000000;
    client_body_temp_path {root}/tmp-body;
    proxy_temp_path {root}/tmp-proxy;
    fastcgi_temp_path {root}/tmp-fastcgi;
    uwsgi_temp_path {root}/tmp-uwsgi;
    scgi_temp_path {root}/tmp-scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
    }}
}}
"""


def start_nginx(root: Path, bodies: dict[str, bytes], port: int) -> subprocess.Popen[bytes]:
    www = root / "www"
    www.mkdir(mode=0o755)
    for size, path in NGINX_PATHS.items():
        (www / path.lstrip("/")).write_bytes(bodies[size])
        (www / (path.lstrip("/") + ".gz")).write_bytes(gzip.compress(bodies[size], compresslevel=6, mtime=0))
    for item in [root, www, *www.iterdir()]:
        item.chmod(0o755 if item.is_dir() else 0o644)  # nginx's workers run as an unprivileged user
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, port=port))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(root)], stderr=subprocess.DEVNULL)  # noqa: S603
    _wait_for(f"http://127.0.0.1:{port}{NGINX_PATHS['2KB']}", process)
    return process


# --- the proxy ---------------------------------------------------------------------------------------


def start_proxy(
    root: Path, upstream_url: str, workers: int | None, refresh: float
) -> tuple[subprocess.Popen[bytes], int]:
    key = Ed25519PrivateKey.generate()
    snapshot = root / "snapshot.json"
    snapshot.write_bytes(signed_snapshot(key, [("127.0.0.1", "production", 1, "Benchmark")], election="kv2022"))
    public_key = write_public_key(key, root / "public.pem")
    log = root / "proxy.log"
    command = [
        sys.executable,
        "-m",
        "feedproxy",
        "serve",
        "--upstream",
        upstream_url,
        "--snapshot",
        str(snapshot),
        "--public-key",
        str(public_key),
        "--allow-loopback-clients",
        "--listen",
        "127.0.0.1:0",
        "--refresh",
        str(refresh),
        "--rate",
        "1e9",
        "--burst",
        "1e9",
    ]
    if workers:
        command += ["--workers", str(workers)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", log.read_text(errors="replace"))
        if found:
            return process, int(found.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the proxy did not start:\n{log.read_text(errors='replace')}")


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback server
                response.read()
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def etag_of(url: str, *, gzip_encoding: bool = False) -> str:
    headers = {"Accept-Encoding": "gzip"} if gzip_encoding else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()
        return response.headers["ETag"]


# --- wrk ---------------------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, headers: Sequence[str], *, connections: int, duration: float, threads: int = 2) -> Run:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout  # noqa: S603
    return parse_wrk(output)


def parse_wrk(output: str) -> Run:
    """req/s, p99 and any error lines from ``wrk --latency`` output."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    if rate is None or p99 is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    errors = "; ".join(line.strip() for line in output.splitlines() if "Non-2xx" in line or "Socket errors" in line)
    return Run(float(rate.group(1)), float(p99.group(1)) * _UNITS[p99.group(2)], errors)


def case_headers(case: str, etag: str) -> list[str]:
    if case == "gzip":
        return ["Accept-Encoding: gzip"]
    if case == "304":
        return [f"If-None-Match: {etag}"]
    return []


# --- the benchmark -----------------------------------------------------------------------------------


def single_flight(
    proxy: int, upstream: Upstream, *, refresh: float, duration: float, connections: int
) -> tuple[int, int]:
    """(most upstream requests for the document within one refresh interval, all of them) under load."""
    path = "/pls/kv2022/vysledky_okrsky?davka=999"  # never fetched before: the first fetch is under load too
    upstream.delay = 0.2
    wrk(f"http://127.0.0.1:{proxy}{path}", [], connections=connections, duration=duration)
    hits = sorted(upstream.hits.get(path, []))
    worst = max((sum(1 for t in hits if start <= t < start + refresh * 0.98) for start in hits), default=0)
    return worst, len(hits)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="feedproxy bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured wrk run (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of wrk before each measurement (2)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="measurements per case and server, in alternating order; medians (3)"
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=None, help="proxy workers (default: CPU cores)")
    parser.add_argument("--refresh", type=float, default=10.0)
    parser.add_argument("--flood-connections", type=int, default=1000)
    parser.add_argument("--nginx-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--sizes", default=",".join(DOCUMENTS), help=f"documents to measure ({','.join(DOCUMENTS)})")
    parser.add_argument("--cases", default="plain,gzip,304", help="cases to measure (plain,gzip,304)")
    args = parser.parse_args(argv)
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            print(f"feedproxy bench: {tool} is not installed (apt-get install -y nginx wrk)", file=sys.stderr)
            return 1
    bodies = {size: path.read_bytes() for size, path in DOCUMENTS.items()}
    root = Path(tempfile.mkdtemp(prefix="feedproxy-bench-"))
    upstream = Upstream(bodies, delay=0.0)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    nginx_port = args.nginx_port or _free_port()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(start_nginx(root, bodies, nginx_port))
        proxy_process, proxy_port = start_proxy(
            root, f"http://127.0.0.1:{upstream.server_address[1]}", args.workers, args.refresh
        )
        processes.append(proxy_process)
        servers = {"nginx": (nginx_port, NGINX_PATHS), "proxy": (proxy_port, PROXY_PATHS)}
        for port, paths in servers.values():
            for path in paths.values():
                _wait_for(f"http://127.0.0.1:{port}{path}", processes[0])
        print(
            f"# nginx on :{nginx_port}, proxy on :{proxy_port} ({args.workers or os.cpu_count()} workers); "
            f"wrk -t2 -c{args.connections} -d{args.duration:g}s --latency after {args.warmup:g} s warm-up; "
            f"load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        print(
            f"{'case':<14} {'nginx req/s':>12} {'proxy req/s':>12} {'ratio':>6} {'nginx p99':>10} "
            f"{'proxy p99':>10} {'p99 x':>6}  verdict",
            flush=True,
        )
        failed = False
        sizes = [size for size in args.sizes.split(",") if size in DOCUMENTS]
        for size in sizes:
            for case in [case for case in args.cases.split(",") if case in ("plain", "gzip", "304")]:
                results: dict[str, list[Run]] = {"nginx": [], "proxy": []}
                for round_number in range(args.rounds):
                    order = list(servers.items())
                    for name, (port, paths) in order if round_number % 2 == 0 else reversed(order):
                        url = f"http://127.0.0.1:{port}{paths[size]}"
                        headers = case_headers(case, etag_of(url))
                        if args.warmup > 0:
                            wrk(url, headers, connections=args.connections, duration=args.warmup)
                        results[name].append(wrk(url, headers, connections=args.connections, duration=args.duration))
                nginx_rate = statistics.median(r.requests_per_second for r in results["nginx"])
                proxy_rate = statistics.median(r.requests_per_second for r in results["proxy"])
                nginx_p99 = statistics.median(r.p99_ms for r in results["nginx"])
                proxy_p99 = statistics.median(r.p99_ms for r in results["proxy"])
                ratio, factor = proxy_rate / nginx_rate, proxy_p99 / nginx_p99
                errors = "; ".join(sorted({r.errors for runs in results.values() for r in runs if r.errors}))
                good = ratio >= MIN_RATIO and factor <= MAX_P99_FACTOR and not (case != "304" and "Non-2xx" in errors)
                failed |= not good
                print(
                    f"{size + ' ' + case:<14} {nginx_rate:>12,.0f} {proxy_rate:>12,.0f} {ratio:>6.2f} "
                    f"{nginx_p99:>8.2f}ms {proxy_p99:>8.2f}ms {factor:>6.2f}  {'ok' if good else 'FAIL'}"
                    f"{'  (' + errors + ')' if errors else ''}",
                    flush=True,
                )
        worst, total = single_flight(
            proxy_port, upstream, refresh=args.refresh, duration=args.duration, connections=args.flood_connections
        )
        print(
            f"upstream requests per document per interval with {args.flood_connections} connections: {worst} "
            f"({total} in {args.duration:g} s, refresh {args.refresh:g} s)",
            flush=True,
        )
        failed |= worst != 1
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print("FAIL" if failed else "PASS")
        return 1 if failed else 0
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        upstream.shutdown()
        shutil.rmtree(root, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

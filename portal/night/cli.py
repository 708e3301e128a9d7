"""``portal feed collect``: pull the feed proxies' statistics into the portal for the election-night board."""

from __future__ import annotations

import signal
import threading

import click
from flask.cli import with_appcontext

from portal import unit_of_work
from portal.db import utcnow


@click.group("feed")
def feed_group() -> None:
    """The result-feed proxies, seen from the portal."""


@feed_group.command("collect")
@click.option("--proxy", "proxies", multiple=True, required=True, metavar="URL", help="A feed proxy's base URL.")
@click.option("--once", is_flag=True, help="Read every proxy once, store, and exit (1 if any failed).")
@click.option(
    "--interval", type=click.FloatRange(min=1), default=15.0, show_default=True, help="Seconds between rounds."
)
@with_appcontext
def collect_command(proxies: tuple[str, ...], once: bool, interval: float) -> None:
    """Read each proxy's /stats.json and store it: per outlet counters and each address's last request.

    A proxy that cannot be read, or sends something else, is reported and skipped; nothing of it is stored.
    Without --once it runs until SIGTERM or SIGINT.
    """
    from portal.night.collect import CollectError, fetch_stats, proxy_name, store_stats

    stop = threading.Event()
    if not once:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    while True:
        failed = 0
        for url in proxies:
            try:
                with unit_of_work.transaction():
                    collected = store_stats(proxy_name(url), fetch_stats(url), at=utcnow())
            except CollectError as error:
                failed += 1
                click.echo(f"feed collect: {error}", err=True)
                continue
            if once:
                click.echo(
                    f"{collected.proxy}: {collected.election}, {collected.organisations} outlets, "
                    f"{collected.addresses} addresses"
                )
        if once:
            raise SystemExit(1 if failed else 0)
        if stop.wait(interval):
            return

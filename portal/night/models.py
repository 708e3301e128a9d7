"""What the collector stored from the feed proxies: cumulative counters per sample, last seen per address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Model


class FeedSample(Model):
    """One proxy's cumulative counters for one organisation at one instant (organisation 0: unknown clients).

    Counters restart at zero when a proxy restarts; rates are taken from the differences of consecutive
    samples, and a difference below zero counts from zero.
    """

    __tablename__ = "feed_samples"
    __table_args__ = (Index("ix_feed_samples_election_sampled", "election_id", "sampled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    proxy: Mapped[str] = mapped_column(String(200))
    sampled_at: Mapped[datetime]
    organisation_id: Mapped[int]
    requests: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)
    not_modified: Mapped[int] = mapped_column(BigInteger)
    refused: Mapped[int] = mapped_column(BigInteger)


class FeedAddress(Model):
    """When a proxy last served an address, and how much (cumulative, as the proxy counts)."""

    __tablename__ = "feed_addresses"
    __table_args__ = (UniqueConstraint("election_id", "proxy", "address", name="election_proxy_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    proxy: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(45))
    organisation_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    requests: Mapped[int] = mapped_column(BigInteger)
    refused: Mapped[int] = mapped_column(BigInteger)
    last_seen: Mapped[datetime | None]
    updated_at: Mapped[datetime]

"""The election-night board: what the feed proxies served, per outlet and address, pulled into the portal."""

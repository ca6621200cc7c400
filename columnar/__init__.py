"""tsgres storage engine: databases -> retention policies -> shards -> tables (measurements).

Everything above this package talks to it through :class:`columnar.engine.Engine` and the scan API in
:mod:`columnar.scan`; nothing above it may assume that a shard is local.
"""

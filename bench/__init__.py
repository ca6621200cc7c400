"""Benchmark tooling: data generators, peer runners and benchmarks (not run by pytest).

Run ``python -m bench --help`` for the subcommands.
"""

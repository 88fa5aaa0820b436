"""Ironworks benchmarks: ``python -m bench {lifecycle,powersync,api}`` (see README.md)."""

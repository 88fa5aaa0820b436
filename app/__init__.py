"""Ironworks core: configuration, database, states, exceptions, hash ring, API."""

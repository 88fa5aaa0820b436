"""Hardware types and their interfaces, found through entry points."""

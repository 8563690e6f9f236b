def register() -> None:
    """Replaced by the ledger-backed rules."""

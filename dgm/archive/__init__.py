"""The archive: git store, SQLite database, lineage and integrity (host side)."""

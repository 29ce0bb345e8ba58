"""Public warnings: CAP 1.2 alerts from BMKG events and manual drafts, and their dissemination."""

"""Adapters that turn each telephony platform's own events into normalized events."""

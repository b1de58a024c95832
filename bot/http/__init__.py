"""The HTTP surface: the intake and lifecycle API, telephony feed endpoints, health, metrics."""

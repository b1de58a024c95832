"""Interval statistics, forecasting, staffing and the blending of agents' time."""

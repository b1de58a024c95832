"""What runs offline: the simulated contact center, scenario runs on the policy code alone,
simulated days on the real engine, and backtests of the arrival forecasts.

The running service never imports this package (an import contract keeps it so).
"""

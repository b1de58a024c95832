"""The running service: settings, database, HTTP app, CLI. It wires the other packages."""

"""The ``blendbot`` command: one module per group of subcommands, heavy imports inside them."""

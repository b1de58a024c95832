"""The names of the telephony sources, as the CLI and the feed routes spell them."""

SOURCES = ("amazon-connect", "twilio", "genesys", "ami", "generic")

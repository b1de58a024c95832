"""Numbered plain-SQL migrations, applied in order by ``bot.migrate``."""

"""Delivering the Outbox to Telegram: the sender (claim, send, record, retry) and the throttle
that keeps Telegram's flood limits. The sender calls `bot.services.unreachable` when Telegram
refuses a recipient."""

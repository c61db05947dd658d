"""The Outbox's SQL, one module per job.

- `raw`: plain tuples straight from the driver and the fast INSERT of planned rows;
- `snapshots`: the open assignments a planning pass looks at, and which keys are new;
- `audiences`: who receives what (active people with a Telegram id, subscribed groups);
- `details`: what the messages show about each item, and its chase history;
- `batches`: the 督办汇总 / 逾期事项清单 already keyed today;
- `digest`: the weekly digest's content and scorecards;
- `delivery`: the sender's claim, record and retry queries.

The planning pass itself is `bot.services.planning`; the sender is `bot.telegram.delivery`.
"""

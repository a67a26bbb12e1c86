"""mloop.loop (in progress; see the issue tracker)."""

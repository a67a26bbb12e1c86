"""mloop.monitoring (in progress; see the issue tracker)."""

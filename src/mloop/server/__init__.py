"""mloop.server (in progress; see the issue tracker)."""

"""mloop.serving (in progress; see the issue tracker)."""

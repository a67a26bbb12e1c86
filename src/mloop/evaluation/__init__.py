"""mloop.evaluation (in progress; see the issue tracker)."""

"""mloop.pipelines (in progress; see the issue tracker)."""

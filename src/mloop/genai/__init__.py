"""mloop.genai (in progress; see the issue tracker)."""

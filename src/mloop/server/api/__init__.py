"""The routes of ``/api/v1``, one module per part of the store."""

"""mloop's HTTP servers: the model server (:mod:`mloop.server.serving`, ``mloop serve``), the
online feature server (:mod:`mloop.server.features`) and their offline ``/docs`` page
(:mod:`mloop.server.docs`)."""

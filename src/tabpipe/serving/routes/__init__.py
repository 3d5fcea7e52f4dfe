"""The server's routers: predict, admin, health and metrics. Each endpoint reaches the app's
state through the :func:`tabpipe.serving.state.serving_context` dependency."""

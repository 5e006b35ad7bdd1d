"""The processes: the Starlette app, settings read once from the environment, authentication
and the `gongkai` command line. Nothing imports `api`."""

"""Running an installation from the command line: ``kam forecast``, ``kam backup``,
``kam restore`` and ``kam createuser`` (see docs/cli.md). The commands are thin:
the forecast comes from ``kam.sales.insights``, users from ``kam.org.actions``,
and backups from ``kam.ops.backup``."""

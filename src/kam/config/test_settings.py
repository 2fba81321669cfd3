"""Settings for the test suite: production's (kam.config.settings), less two things
that need a running installation.

- Static files: the production storage resolves ``{% static %}`` through the manifest
  that ``collectstatic`` writes, and refuses names it lacks. Tests render pages without
  ever collecting, so they use the plain storage (URLs without hashes), and WhiteNoise
  looks files up in the apps' static folders on each request instead of scanning a
  STATIC_ROOT that does not exist. ``manifest_strict=False`` would not do: it still
  hashes each file from STATIC_ROOT and fails on a missing one. tests/ops/test_serve.py
  checks the real thing (collectstatic, hashed names, gzip) against ``kam serve``.
- Background tasks run at once, in the test's own thread and transaction, so a test
  that enqueues a task sees its effect and its result on the next line. The database
  backend with its worker is what runs outside tests (tests/ops/test_tasks.py checks).
"""

from kam.config.settings import *  # noqa: F403
from kam.config.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

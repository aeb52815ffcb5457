"""Settings for the test suite: the real settings, with fast hashing and no throttles."""

from __future__ import annotations

import os

os.environ.setdefault("KAMFIT_SECRET_KEY", "test-secret-key-not-for-production-0123456789")

from kamfit.web.settings import *  # noqa: F403
from kamfit.web.settings import CACHES, REST_FRAMEWORK

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed: tests only
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The live-server browser tests speak plain HTTP, where browsers refuse __Host- cookies.
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"
AXES_ENABLED = False
MFA_REQUIRED = False  # tests sign in with force_login; MFA tests turn it on
# Templates render without ``collectstatic`` in tests; production uses the manifest.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
EXPORT_RATE = None  # no export limit either; tests/security/members/test_export_limits.py
# Rate-limit counts in the default cache's memory (LocMemCache instances with the same
# LOCATION share one store), so a test's ``cache.clear()`` starts them from none too.
CACHES = {
    **CACHES,
    "ratelimits": {**CACHES["default"], "LOCATION": CACHES["default"].get("LOCATION", "")},
}

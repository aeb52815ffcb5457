"""Settings for the servers and commands that the fault tests start in subprocesses.

The test settings with ``DEBUG`` off whatever the environment says, so that an error
page is what a production user would see (the outage middleware is in the settings).
"""

from __future__ import annotations

from kamfit.web.test_settings import *  # noqa: F403

DEBUG = False

"""Rate-limit counts are one per installation, not one per worker process (A20).

Each check below runs in a fresh Python process with the production settings and the
same data directory, as gunicorn's workers do: the fourth request of a user allowed
three is refused although no single process saw more than one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ONE_REQUEST = """
import django
from types import SimpleNamespace
django.setup()
from kamfit.web.export_limit import ExportRateThrottle
from kamfit.web.throttling import SharedUserRateThrottle
user = SimpleNamespace(is_authenticated=True, pk=7)
request = SimpleNamespace(user=user, META={"REMOTE_ADDR": "192.0.2.7"})
print(*(t().allow_request(request, None) for t in (SharedUserRateThrottle, ExportRateThrottle)))
"""


def production(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAMFIT_", "DJANGO_"))}
    return env | {
        "DJANGO_SETTINGS_MODULE": "kamfit.web.settings",
        "KAMFIT_DEBUG": "false",
        "KAMFIT_SECRET_KEY": "s" * 50,
        "KAMFIT_DATA_DIR": str(data_dir),
        "KAMFIT_API_RATE": "3/min",
        "KAMFIT_EXPORT_RATE": "3/10min",
    }


def test_worker_processes_share_one_count_per_user(tmp_path: Path) -> None:
    env = production(tmp_path)
    answers = [
        subprocess.run(
            [sys.executable, "-c", ONE_REQUEST],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for _ in range(4)
    ]
    # The API's count and the export count are separate; both are shared.
    assert answers == ["True True", "True True", "True True", "False False"]
    assert any((tmp_path / "ratelimits").iterdir())

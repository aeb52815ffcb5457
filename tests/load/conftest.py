"""Keep pytest's doctest collection away from the locustfile: importing locust patches the
standard library for gevent, which would break the test process."""

from __future__ import annotations

collect_ignore = ["locustfile.py"]

#!/usr/bin/env python3
"""Start moto's server exactly like ``moto_server``, with cross-region Firehose delivery.

Usage (same arguments as ``moto_server``)::

    python3 test/fakes/moto_wrapper.py -H 127.0.0.1 -p <port>

Why: AWS accepts a CloudWatch Logs subscription filter whose Firehose destination is in
another region of the same account. moto 5.2.1 looks the delivery stream up in the *log
group's* region (``moto/logs/models.py``: ``PutSubscriptionFilter`` calls
``firehose_backends[account][log_group_region].lookup_name_from_arn(arn)`` and log-event
forwarding calls ``...send_log_event(arn, ...)`` on the same backend), so a cross-region
filter is rejected with "Could not deliver test message" and events are never forwarded.

This wrapper patches ``FirehoseBackend.lookup_name_from_arn`` and
``FirehoseBackend.send_log_event`` so that each runs on
``firehose_backends[self.account_id][<region field of the Firehose ARN>]``. Same-region
calls (and ARNs whose region cannot be parsed or is unknown) behave exactly as before.
See reference/moto.md §10.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import threading
import time
from typing import Any, Callable

from moto import backends as moto_backends
from moto.core import base_backend as moto_base_backend
from moto.core import responses as moto_responses
from moto.eks import utils as eks_utils
from moto.firehose import models as firehose_models
from moto.server import main

_FirehoseBackend = firehose_models.FirehoseBackend

# arn:<partition>:firehose:<region>:<account>:deliverystream/<name>
_ARN_RE = re.compile(r"^arn:[^:]+:firehose:([^:]+):[^:]*:deliverystream/.+$")


def _arn_region(arn: Any) -> str | None:
    """Return the region field of a Firehose delivery stream ARN, or None."""
    if not isinstance(arn, str):
        return None
    match = _ARN_RE.match(arn)
    return match.group(1) if match else None


def _backend_for(backend: Any, arn: Any) -> Any:
    """The Firehose backend that owns ``arn``: same account, the ARN's region."""
    region = _arn_region(arn)
    if not region or region == getattr(backend, "region_name", None):
        return backend
    try:
        return firehose_models.firehose_backends[backend.account_id][region]
    except KeyError:
        # Unknown region (and MOTO_ALLOW_NONEXISTENT_REGION not set): keep moto's behaviour.
        return backend


def _route_by_arn(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``original(self, arn, ...)`` so it runs on the backend of the ARN's region."""

    @functools.wraps(original)
    def wrapper(self: Any, arn: Any, *args: Any, **kwargs: Any) -> Any:
        return original(_backend_for(self, arn), arn, *args, **kwargs)

    wrapper.__moto_wrapper_patched__ = True  # type: ignore[attr-defined]
    return wrapper


def patch() -> None:
    """Install the cross-region patches (idempotent)."""
    for name in ("lookup_name_from_arn", "send_log_event"):
        current = getattr(_FirehoseBackend, name)
        if getattr(current, "__moto_wrapper_patched__", False):
            continue
        setattr(_FirehoseBackend, name, _route_by_arn(current))


def cache_lookups() -> None:
    """Answer lookups moto's server repeats from answers made once, and skip EC2's default AMIs.

    Profiled (cProfile over the requests of a reset, a seed, a setup, a re-run, a teardown and the tests'
    inventory), moto 5.2.1 spends much of its CPU on work whose answer cannot change while the server runs:

    - ``host in list_of_moto_modules()`` (``moto/moto_server/werkzeug_app.py``, ``get_backend_for_host``,
      twice a request) lists moto's package directory and stats each of its ~170 entries;
    - ``method_names_from_class(self.__class__)`` (``moto/core/responses.py``, ``call_action``) runs
      ``inspect.getmembers`` over the response class on every request;
    - ``AccountSpecificBackend._generate_regions(service)`` (``moto/core/base_backend.py``) asks botocore
      for a service's regions once per backend *instance* (its cache is keyed on the instance), so again
      for every service and account after each reset;
    - ``validate_role_arn`` (``moto/eks/utils.py``, every ``CreateCluster``) makes a new boto3 ``Session``
      to list the partitions, about 0.1 s each: one session is made and kept;
    - every EC2 backend loads some 11,000 default AMIs when it is made (per region, again after a reset),
      and the Resource Groups Tagging API (our inventory, the product's discovery) makes one in every
      region it scans. Nothing here uses EC2 images, so ``MOTO_EC2_LOAD_DEFAULT_AMIS`` is false unless
      the caller set it.

    The answers are the same, so moto behaves as before for everything the tests touch.
    """
    modules = tuple(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: modules
    moto_responses.method_names_from_class = functools.lru_cache(maxsize=None)(moto_responses.method_names_from_class)
    uncached = moto_base_backend.AccountSpecificBackend._generate_regions.__wrapped__  # type: ignore[attr-defined]
    regions_of = functools.lru_cache(maxsize=None)(lambda service: tuple(uncached(None, service)))
    moto_base_backend.AccountSpecificBackend._generate_regions = lambda self, service: list(regions_of(service))  # type: ignore[method-assign]
    session = eks_utils.Session()
    eks_utils.Session = lambda: session  # type: ignore[assignment,misc]
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


def watch_parent() -> None:
    """Exit when the process that started us dies (opt-in: ``MOTO_WRAPPER_WATCH_PARENT=1``).

    Test harnesses set this so a crashed test run cannot leave a server behind. Off by default, so
    the wrapper otherwise behaves exactly like ``moto_server``.
    """
    parent = os.getppid()

    def loop() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=loop, name="moto-wrapper-watch-parent", daemon=True).start()


patch()
cache_lookups()

if __name__ == "__main__":
    if os.environ.get("MOTO_WRAPPER_WATCH_PARENT") == "1":
        watch_parent()
    sys.exit(main())

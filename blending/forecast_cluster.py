"""Forecast fits sent to a Dask cluster instead of this machine's processes.

Each queue's fit is independent, so a refresh is one Dask task per queue, mapped over the
cluster with ``distributed.Client.map`` and gathered back. The functions travel by reference
(module and name), so the cluster's workers must run this same code: start them from the
same image or package version (``dask worker tcp://scheduler:8786``).

statsforecast's own distributed backend (``FugueBackend``) runs a ``StatsForecast`` list of
models per series through fugue; the models here (a shared MSTL decomposition, a daily Theta,
the intraday level correction and the staffing of each interval) are not such a list, so the
fits go to the same Dask scheduler directly, one queue per task, with nothing to shuffle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from distributed import Client

T = TypeVar("T")
R = TypeVar("R")

SCHEMES = ("dask",)


def scheduler_address(url: str) -> str:
    """The Dask scheduler's address (``tcp://host:port``) named by ``dask://host:port``.

    ``ray://`` is refused for now: the fits run on Dask only.
    """
    parts = urlsplit(url)
    if parts.scheme == "ray":
        raise ValueError("ray:// is not supported yet; run a Dask scheduler (dask://host:port)")
    if parts.scheme not in SCHEMES:
        raise ValueError(f"must be dask://host:port (got scheme {parts.scheme or 'none'!r})")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port must be a number, e.g. dask://scheduler:8786") from None
    if not parts.hostname or port is None:
        raise ValueError("must name a host and a port, e.g. dask://scheduler:8786")
    if parts.path.strip("/") or parts.query:
        raise ValueError("must be dask://host:port, with no path or query")
    return f"tcp://{parts.hostname}:{port}"


class DaskCluster:
    """A connection to a Dask scheduler, for one refresh (``with DaskCluster(address) as c``).

    Blocking: call it from a thread, not the event loop.
    """

    def __init__(self, address: str, timeout_seconds: float = 10) -> None:
        self.address = address
        self._timeout = timeout_seconds
        self._client: Client | None = None

    def __enter__(self) -> DaskCluster:
        from distributed import Client

        self._client = Client(self.address, timeout=self._timeout, set_as_default=False)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn`` over ``items`` on the cluster's workers, results in the items' order."""
        if self._client is None:
            raise RuntimeError("use the cluster inside a with block")
        if not items:
            return []
        futures = self._client.map(fn, items, pure=False)
        results: list[R] = self._client.gather(futures)
        return results

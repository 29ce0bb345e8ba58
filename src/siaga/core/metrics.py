"""This node's own Prometheus instruments (counted where the work happens); ``/metrics`` is
:mod:`siaga.runtime.metrics`, which also reads the deployment's state from the database.

``siaga serve`` runs several server processes, so :func:`prepare_multiprocess` puts prometheus-client in
its multi-process mode before any instrument exists: each process writes its values to files in one
folder per node, and ``/metrics`` adds them up whichever process answers. The instruments are therefore
made on first use, never at import.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
ANSWER_BUCKETS = (2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 300.0)


@dataclass(frozen=True)
class Instruments:
    cti_events: Any
    answer_seconds: Any
    carousel_repetition: Any
    carousel_sending: Any
    carousel_datagrams: Any


_instruments: Instruments | None = None
_lock = threading.Lock()


def instruments() -> Instruments:
    """Made on first use, so that ``siaga serve`` can switch on the multi-process mode before."""
    global _instruments
    if _instruments is None:
        with _lock:
            if _instruments is None:
                from prometheus_client import Counter, Gauge, Histogram

                _instruments = Instruments(
                    cti_events=Counter("siaga_cti_events", "CTI events answered by this node, by result "
                                       "(stored, duplicate, rejected, unavailable, error)", ["result"]),
                    answer_seconds=Histogram("siaga_call_answer_seconds",
                                             "Seconds from a call offered to answered, calls answered on this node",
                                             buckets=ANSWER_BUCKETS),
                    carousel_repetition=Gauge("siaga_carousel_repetition_seconds",
                                              "Seconds one repetition of every EWS section takes on air",
                                              multiprocess_mode="mostrecent"),
                    carousel_sending=Gauge("siaga_carousel_sending", "1 while this node's EWS carousel sends",
                                           multiprocess_mode="mostrecent"),
                    carousel_datagrams=Counter("siaga_carousel_datagrams", "EWS datagrams sent by this node"),
                )
    return _instruments


def prepare_multiprocess(var_dir: Path, name: str) -> Path:
    """For ``siaga serve``: values in files under ``var_dir/metrics/<name>``, emptied, for every process."""
    from prometheus_client import values

    folder = var_dir / "metrics" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(folder)
    values.ValueClass = values.get_value_class()
    global _instruments
    _instruments = None  # made again, now writing to the files
    return folder


def count_cti(result: str) -> None:
    instruments().cti_events.labels(result=result).inc()


def observe_answer(seconds: float) -> None:
    if seconds >= 0:
        instruments().answer_seconds.observe(seconds)




def carousel_repetition(seconds: float) -> None:
    instruments().carousel_repetition.set(seconds)


def carousel_sending(on: bool) -> None:
    instruments().carousel_sending.set(1 if on else 0)


def carousel_datagrams(n: int = 1) -> None:
    instruments().carousel_datagrams.inc(n)

"""Structured JSON logs and CloudWatch Embedded Metric Format lines, as Powertools writes them.

The prediction function used Powertools' ``Logger`` and ``Metrics``; compiling them (and
``typing_extensions``) cost about a third of ``import boto3`` on every cold start, since the bundle
ships no bytecode. This module writes the same records with the standard library: the same log
keys (``level``, ``location``, ``message``, ``timestamp``, ``service``, ``cold_start``, the
``function_*`` context keys, ``exception``, ``exception_name``, ``stack_trace``, ``xray_trace_id``)
and the same metrics (an outcome count with the ``service`` dimension, and ``ColdStart`` with
``function_name`` and ``service``). It reads Powertools' environment variables, so the function's
configuration is unchanged.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from typing import Any

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


class StructuredLogger:
    """One JSON object per line on standard output, with the invocation's context keys."""

    def __init__(self) -> None:
        self.service = os.environ.get("POWERTOOLS_SERVICE_NAME") or "service_undefined"
        level = (os.environ.get("POWERTOOLS_LOG_LEVEL") or "INFO").upper()
        self.level = _LEVELS.get(level, _LEVELS["INFO"])
        self._context: dict[str, Any] = {}

    def set_context(self, context: Any, *, cold_start: bool) -> None:
        """The Lambda context keys every record of this invocation carries."""
        self._context = {
            "cold_start": cold_start,
            "function_name": getattr(context, "function_name", None),
            "function_memory_size": getattr(context, "memory_limit_in_mb", None),
            "function_arn": getattr(context, "invoked_function_arn", None),
            "function_request_id": getattr(context, "aws_request_id", None),
        }

    def debug(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        self._log("DEBUG", message, extra)

    def info(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        self._log("INFO", message, extra)

    def warning(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        self._log("WARNING", message, extra)

    def error(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        self._log("ERROR", message, extra)

    def exception(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        """An ERROR record with the exception being handled."""
        self._log("ERROR", message, extra, sys.exc_info()[1])

    def _log(
        self, level: str, message: str, extra: dict[str, Any] | None, error: BaseException | None = None
    ) -> None:
        if _LEVELS[level] < self.level:
            return
        caller = sys._getframe(2)  # the frame that called info(), error(), ...
        created = time.time()
        record: dict[str, Any] = {
            "level": level,
            "location": f"{caller.f_code.co_name}:{caller.f_lineno}",
            "message": message,
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(created))
            + f",{int(created % 1 * 1000):03d}+0000",
            "service": self.service,
            **self._context,
            **(extra or {}),
        }
        if error is not None:
            record.update(_exception_keys(error))
        trace_id = _xray_trace_id()
        if trace_id:
            record["xray_trace_id"] = trace_id
        _write_line(json.dumps(record, default=str, separators=(",", ":")))


def _exception_keys(error: BaseException) -> dict[str, Any]:
    frames = traceback.extract_tb(error.__traceback__)
    return {
        "exception": "".join(traceback.format_exception(type(error), error, error.__traceback__)).rstrip(),
        "exception_name": type(error).__name__,
        "stack_trace": {
            "type": type(error).__name__,
            "value": str(error),
            "module": type(error).__module__,
            "frames": [
                {"file": f.filename, "line": f.lineno, "function": f.name, "statement": f.line}
                for f in frames
            ],
        },
    }


def _xray_trace_id() -> str | None:
    """The Root of Lambda's ``_X_AMZN_TRACE_ID`` (``Root=1-...;Parent=...;Sampled=1``)."""
    header = os.environ.get("_X_AMZN_TRACE_ID", "")
    for part in header.split(";"):
        if part.startswith("Root="):
            return part[len("Root=") :]
    return None


class EmbeddedMetrics:
    """Count metrics written as CloudWatch Embedded Metric Format lines, one line per flush.

    ``namespace`` and ``service`` are read from the environment when the module is imported, as
    Lambda sets them before; tests may assign them.
    """

    def __init__(self) -> None:
        self.namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE")
        self.service = os.environ.get("POWERTOOLS_SERVICE_NAME")
        self._counts: dict[str, float] = {}

    def add_count(self, name: str, value: float = 1) -> None:
        self._counts[name] = self._counts.get(name, 0.0) + float(value)

    def flush(self) -> None:
        """Write the counts added since the last flush with the ``service`` dimension, then forget them."""
        counts, self._counts = self._counts, {}
        if counts:
            self._write(counts, {})

    def cold_start(self, function_name: str) -> None:
        """``ColdStart`` = 1 with the ``function_name`` and ``service`` dimensions, written at once."""
        self._write({"ColdStart": 1.0}, {"function_name": function_name})

    def _write(self, counts: dict[str, float], dimensions: dict[str, str]) -> None:
        if not self.namespace:
            raise ValueError(
                "no metrics namespace: set POWERTOOLS_METRICS_NAMESPACE "
                "(stacks/constructs/predict_function.py sets it for the deployed function)"
            )
        if self.service:
            dimensions = {**dimensions, "service": self.service}
        record: dict[str, Any] = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [list(dimensions)],
                        "Metrics": [{"Name": name, "Unit": "Count"} for name in counts],
                    }
                ],
            },
            **dimensions,
            **{name: [value] for name, value in counts.items()},
        }
        _write_line(json.dumps(record, separators=(",", ":")))


def _write_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()

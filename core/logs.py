"""Logging: one format for web and worker, with phone numbers masked in every line.

``LOG_FORMAT=json`` writes each line as one JSON object (time, level, logger, message) for
a log shipper; the masking filter rewrites the message before either format sees it.
"""

from __future__ import annotations

import logging

from flask import Flask
from pythonjsonlogger.json import JsonFormatter

from core.phone import mask_in_text


class MaskNumbersFilter(logging.Filter):
    """Mask phone numbers (and any long digit run, such as an Aadhaar) in a log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_in_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_mask_filter(logger: logging.Logger | None = None) -> None:
    """Put the masking filter on every handler of ``logger`` (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskNumbersFilter) for f in handler.filters):
            handler.addFilter(MaskNumbersFilter())


LOG_FORMATS = ("text", "json")
"""What ``LOG_FORMAT`` may say."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def formatter(log_format: str) -> logging.Formatter:
    """Return the formatter of ``LOG_FORMAT``: plain lines, or one JSON object a line."""
    if log_format == "json":
        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    return logging.Formatter(TEXT_FORMAT)


def init_app(app: Flask) -> None:
    """Configure logging for the app's processes."""
    log_format = str(app.config.get("LOG_FORMAT") or "text").strip().lower()
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT is {log_format!r}; it may be text or json")
    if not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter(log_format))
        logging.basicConfig(level=logging.INFO, handlers=[handler])
    install_mask_filter()
    install_mask_filter(app.logger)
    # Filters on a logger apply to records made on it, whatever handler takes them later.
    for name in ("sampark", "rq.worker", app.logger.name):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskNumbersFilter) for f in logger.filters):
            logger.addFilter(MaskNumbersFilter())

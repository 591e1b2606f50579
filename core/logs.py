"""Logging: one format for web and worker, with phone numbers masked in every line."""

from __future__ import annotations

import logging

from flask import Flask

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


def init_app(app: Flask) -> None:
    """Configure logging for the app's processes."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    install_mask_filter()
    install_mask_filter(app.logger)
    # Filters on a logger apply to records made on it, whatever handler takes them later.
    for name in ("sampark", "rq.worker", app.logger.name):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskNumbersFilter) for f in logger.filters):
            logger.addFilter(MaskNumbersFilter())

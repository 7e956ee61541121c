"""Pytest fixtures for the in-process OTLP receiver (see ``otlp_receiver.py``).

Enable them for the whole suite from ``tests/conftest.py`` with
``pytest_plugins = ["receiver_fixtures"]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.otlp_receiver import OtlpReceiver


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """A started receiver (gRPC + HTTP on 127.0.0.1, free ports), stopped after the test.

    Exporter endpoints: ``.grpc_endpoint`` and ``.http_endpoint`` (``http://127.0.0.1:PORT``);
    ``.http_url("/v1/traces")`` for a full OTLP/HTTP URL.
    """
    with OtlpReceiver() as receiver:
        yield receiver

"""The web sample: what the stacks inject is what the program reads, and the build sees every source file."""

from __future__ import annotations

import re

from constructs_lib.web import SAMPLE_APP_DIR
from constructs_lib.web.app_runner import AppRunnerWebServiceProps
from constructs_lib.web.express import ExpressWebServiceProps
from constructs_lib.web.sample import (
    DATABASE_NAME_VARIABLE,
    DATABASE_SECRET_VARIABLE,
    PORT,
    VALKEY_READER_VARIABLE,
    VALKEY_VARIABLE,
)

SOURCES = [*sorted(path.name for path in SAMPLE_APP_DIR.glob("*.go")), "go.mod"]


def go_source() -> str:
    return "\n".join((SAMPLE_APP_DIR / name).read_text() for name in SOURCES if name.endswith(".go"))


def test_the_program_reads_the_variables_the_stacks_set() -> None:
    read = set(re.findall(r'os\.Getenv\("([A-Z_]+)"\)', go_source()))
    assert {DATABASE_SECRET_VARIABLE, DATABASE_NAME_VARIABLE, VALKEY_VARIABLE, VALKEY_READER_VARIABLE} <= read


def test_health_checks_hit_a_path_that_never_touches_the_data_stores() -> None:
    source = go_source()
    handler = re.search(r'HandleFunc\("/healthz", func\(.*?\n\t\}\)', source, re.DOTALL)
    assert handler is not None
    assert "checkPostgres" not in handler.group(0) and "valkey" not in handler.group(0).lower()
    assert ExpressWebServiceProps.__dataclass_fields__["health_check_path"].default == "/healthz"
    assert AppRunnerWebServiceProps.__dataclass_fields__["health_check_path"].default == "/healthz"
    assert f"EXPOSE {PORT}" in (SAMPLE_APP_DIR / "Dockerfile").read_text().splitlines()


def test_the_image_build_sees_every_source_file() -> None:
    dockerfile = (SAMPLE_APP_DIR / "Dockerfile").read_text()
    copied = {
        name
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and "--from" not in line
        for name in line.split()[1:-1]
    }
    admitted = {
        line[1:]
        for line in (SAMPLE_APP_DIR / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert set(SOURCES) <= copied
    assert set(SOURCES) <= admitted


def test_tls_is_required_for_both_data_stores() -> None:
    source = go_source()
    assert "sslmode=require" in source
    assert "tls.DialWithDialer" in source and "InsecureSkipVerify" not in source

"""docker-compose.yml, the Makefile and the README name only commands the project really has."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from workers.queues import ALL_QUEUES

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _check_command(argv: list[str]) -> None:
    """Fail unless ``argv`` runs something this project provides."""
    program = argv[0]
    if program == "python":
        assert argv[1] == "manage.py", argv
        assert argv[2] in get_commands(), f"no management command {argv[2]!r}"
    elif program == "gunicorn":
        module, _, attr = argv[1].partition(":")
        assert hasattr(importlib.import_module(module), attr or "application"), argv
    elif program == "celery":
        assert argv[1] == "-A"
        module, _, attr = argv[2].partition(":")
        app = getattr(importlib.import_module(module), attr or "app")
        assert argv[3] in {"worker", "beat", "inspect"}, argv
        if "-Q" in argv:
            queues = argv[argv.index("-Q") + 1].split(",")
            assert set(queues) <= set(ALL_QUEUES), f"unknown queues in {argv}"
        assert app.main == "vigie"
    else:
        pytest.fail(f"unexpected program {program!r} in {argv}")


@pytest.mark.parametrize("service", ["web", "worker", "indexer", "beat", "migrate"])
def test_each_vigie_service_runs_a_command_the_project_has(service):
    _check_command(COMPOSE["services"][service]["command"])


def test_the_required_services_exist_with_health_checks():
    services = COMPOSE["services"]
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert name in services
        assert "healthcheck" in services[name], f"{name} has no health check"


def test_every_queue_has_a_consumer_in_compose():
    consumed = set()
    for service in COMPOSE["services"].values():
        command = service.get("command") or []
        if "worker" in command and "-Q" in command:
            consumed |= set(command[command.index("-Q") + 1].split(","))
    assert consumed == set(ALL_QUEUES)


def test_the_index_queue_has_exactly_one_single_process_consumer():
    consumers = [
        s["command"] for s in COMPOSE["services"].values()
        if "-Q" in (s.get("command") or []) and "index" in s["command"][s["command"].index("-Q") + 1].split(",")
    ]
    assert len(consumers) == 1 and "--concurrency=1" in consumers[0]


def test_manage_py_commands_in_the_readme_exist():
    readme = (ROOT / "README.md").read_text()
    named = set(re.findall(r"manage\.py ([a-z_]+)", readme))
    assert named, "the README documents no management command"
    missing = named - set(get_commands())
    assert not missing, f"README names commands that do not exist: {missing}"


def test_make_targets_in_the_readme_exist():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    named = set(re.findall(r"`make ([a-z-]+)", (ROOT / "README.md").read_text()))
    assert named and named <= targets, named - targets


def test_every_setting_read_from_the_environment_is_in_env_example():
    source = (ROOT / "monitor" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|float|list)\("([A-Z_]+)"', source))
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", example, re.MULTILINE))
    assert read - documented == set(), f"undocumented settings: {read - documented}"

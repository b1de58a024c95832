"""The container files hold together: ``compose.yaml`` parses and sets only real settings,
the image runs ``blendbot serve`` as a non-root user with a health check on ``/healthz``, and
the proxy sends requests to the three instances compose starts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from bot.cli.main import _parser
from bot.settings import Settings, env_name

ROOT = Path(__file__).resolve().parents[2]
INSTANCES = ["blendbot-1", "blendbot-2", "blendbot-3"]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_compose_runs_three_instances_on_one_postgres_behind_the_proxy() -> None:
    services = _compose()["services"]
    assert {*INSTANCES, "postgres", "proxy"} <= set(services)
    urls = {services[name]["environment"]["DATABASE_URL"] for name in INSTANCES}
    assert len(urls) == 1
    assert "@postgres:5432/" in urls.pop()
    for name in INSTANCES:
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert set(services["proxy"]["depends_on"]) == set(INSTANCES)


def test_compose_sets_only_settings_that_exist() -> None:
    known = {env_name(field) for field in Settings.model_fields}
    services = _compose()["services"]
    for name, service in services.items():
        if name in ("postgres", "proxy"):
            continue
        unknown = set(service.get("environment", {})) - known
        assert not unknown, f"{name} sets {unknown}, which blendbot does not read"


def test_the_stop_grace_outlasts_the_drain() -> None:
    services = _compose()["services"]
    for name in INSTANCES:
        grace = int(services[name]["stop_grace_period"].removesuffix("s"))
        drain = float(services[name]["environment"]["BLENDBOT_DRAIN_SECONDS"])
        assert grace > drain + 5


def test_the_cluster_services_run_real_dask_commands() -> None:
    services = _compose()["services"]
    scheduler = services["dask-scheduler"]["command"]
    worker = services["dask-worker"]["command"]
    assert scheduler[:2] == ["dask", "scheduler"]
    assert worker[:3] == ["dask", "worker", "tcp://dask-scheduler:8786"]
    assert Settings(forecast_cluster="dask://dask-scheduler:8786").forecast_cluster


def test_the_image_is_built_in_stages_and_serves_as_a_plain_user() -> None:
    steps = _instructions()
    stages = [arg for kind, arg in steps if kind == "FROM"]
    assert len(stages) == 2
    assert " AS build" in stages[0]
    final = steps[[i for i, (kind, _) in enumerate(steps) if kind == "FROM"][-1] :]
    users = [arg for kind, arg in final if kind == "USER"]
    assert users
    assert users[-1] not in ("root", "0")
    [check] = [arg for kind, arg in final if kind == "HEALTHCHECK"]
    assert "/healthz" in check
    [command] = [arg for kind, arg in final if kind == "CMD"]
    argv = yaml.safe_load(command)
    assert argv[0] == "blendbot"
    _parser().parse_args(argv[1:])  # a command the CLI knows
    env = " ".join(arg for kind, arg in final if kind == "ENV")
    known = {env_name(field) for field in Settings.model_fields}
    assert set(re.findall(r"\b(BLENDBOT_[A-Z_]+)=", env)) <= known


def test_the_image_copies_every_package_the_project_installs() -> None:
    copied = {
        source
        for kind, arg in _instructions()
        if kind == "COPY" and "--from" not in arg
        for source in shlex.split(arg)[:-1]
    }
    for spec in yaml.safe_load("[" + _packages() + "]"):
        assert spec.rstrip("*") in copied, f"the image misses {spec}"
    for source in copied:
        assert (ROOT / source).exists(), source


def _packages() -> str:
    text = (ROOT / "pyproject.toml").read_text()
    block = text.split("[tool.setuptools.packages.find]", 1)[1]
    return block.split("[", 1)[1].split("]", 1)[0]


def test_the_proxy_sends_requests_to_the_three_instances() -> None:
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddyfile)
    assert upstreams is not None
    assert upstreams.group(1).split() == [f"{name}:8080" for name in INSTANCES]
    assert "health_uri /healthz" in caddyfile
    volumes = _compose()["services"]["proxy"]["volumes"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in volumes

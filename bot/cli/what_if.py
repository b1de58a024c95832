"""The simulator as a what-if tool: the service's own settings, changed on the command line.

``simulate`` and ``demo`` read the settings as the service does (environment, ``.env``);
``--set KEY=VALUE`` changes one of those the engine reads, and ``--sweep KEY=v1,v2,...`` runs
once per value. Every value is validated by the service's settings model itself, so a value
the service would refuse to start with is refused here, with the variable named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from blending.acd import AcdModes
from blending.snapshot import staffing_group
from bot import root
from bot.settings import Settings, SettingsError, env_name, load_settings
from simulation.real_engine import EngineSettings

ENGINE_SETTINGS: tuple[str, ...] = (
    # blending
    "blending_policy",
    "reserve_k",
    "blending_bound",
    "safety_margin",
    "interruptible_extra",
    "live_extra",
    "live_idle_keep",
    "live_cover_seconds",
    "live_cover_share",
    "live_minutes",
    "live_recall_waiting",
    "live_recall_share",
    "min_window_minutes",
    "max_window_minutes",
    "fit_margin",
    # guard
    "guard_hold_waiting",
    "guard_recall_waiting",
    "guard_recall_wait_seconds",
    "guard_recall_service_level",
    "guard_calm_seconds",
    # staffing and the target
    "target_service_level",
    "service_level_seconds",
    "max_occupancy",
    "forecast_minutes",
    "forecast_model",
    "timezone",
    # offers and timers
    "offer_seconds",
    "sla_top_share",
    "skip_cooldown_minutes",
    "max_tasks_per_agent",
    "nudge_factor",
    "escalate_factor",
    "paused_return_minutes",
    # the platform
    "acd_mode",
    "acd_modes",
)
"""The settings the simulated engine reads (each one changes what it decides)."""

SIM_FORECAST_SECONDS = 7200.0
"""How often the simulation refreshes its forecast unless ``BLENDBOT_FORECAST_MINUTES`` is set
(the service's quarter-hour would make a simulated week take far longer)."""


def field_of(key: str) -> str:
    """The settings field a ``--set`` key names (``BLENDBOT_TARGET_SERVICE_LEVEL`` or
    ``target_service_level``), if the engine reads it."""
    name = key.strip()
    field = name.lower().removeprefix("blendbot_")
    if field not in Settings.model_fields or env_name(field).lower() not in (
        name.lower(),
        f"blendbot_{name.lower()}",
    ):
        raise SettingsError(f"{name}: not a setting of blendbot (see the README's settings)")
    if field not in ENGINE_SETTINGS:
        known = ", ".join(env_name(f) for f in ENGINE_SETTINGS)
        raise SettingsError(
            f"{env_name(field)}: the simulation does not read it (it reads {known})"
        )
    return field


def parse_sets(pairs: Sequence[str]) -> dict[str, str]:
    """``KEY=VALUE`` pairs as settings fields and their text (the last of a key wins)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise SettingsError(
                f"--set {pair!r}: write KEY=VALUE, e.g. BLENDBOT_GUARD_HOLD_WAITING=3"
            )
        out[field_of(key)] = value.strip()
    return out


@dataclass(frozen=True)
class Sweep:
    field: str
    values: tuple[str, ...]

    @property
    def key(self) -> str:
        return env_name(self.field)


def parse_sweep(text: str | None) -> Sweep | None:
    if text is None:
        return None
    key, eq, values = text.partition("=")
    items = tuple(v.strip() for v in values.split(",") if v.strip())
    if not eq or not items:
        raise SettingsError(f"--sweep {text!r}: write KEY=v1,v2,..., e.g. BLENDBOT_RESERVE_K=0,2,4")
    return Sweep(field_of(key), items)


def settings_with(overrides: dict[str, str]) -> Settings:
    """The service's settings with ``overrides``, validated as the service validates them."""
    return load_settings(**overrides)


def sim_mode(settings: Settings) -> str:
    """The ACD mode of the simulated center's one staffing group (its agents answer every
    queue)."""
    return AcdModes(settings.acd_mode, dict(settings.acd_modes)).mode_of(staffing_group(None))


def engine_settings(settings: Settings) -> EngineSettings:
    """What the simulated engine runs with: the service's parts, built from ``settings``."""
    wired = root.parts(settings)
    every = (
        settings.forecast_minutes * 60
        if "forecast_minutes" in settings.model_fields_set
        else SIM_FORECAST_SECONDS
    )
    return EngineSettings(
        policy=wired.blending,
        dispatch=wired.dispatch,
        timers=wired.timers,
        forecast=replace(wired.forecasts, every_seconds=every, new_intervals=10**6),
        acd_mode=sim_mode(settings),  # type: ignore[arg-type]
    )


def used(settings: Settings) -> dict[str, Any]:
    """The engine's settings of a run, by variable name (the JSON's ``settings``)."""
    values = settings.model_dump(mode="json", include=set(ENGINE_SETTINGS))
    if "forecast_minutes" not in settings.model_fields_set:
        values["forecast_minutes"] = SIM_FORECAST_SECONDS / 60
    return {env_name(f): values[f] for f in ENGINE_SETTINGS}

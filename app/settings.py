"""Every serving setting, read from SERVING_* environment variables in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Server configuration; `Settings()` reads the environment, tests pass values directly."""

    model_config = SettingsConfigDict(env_prefix="SERVING_", extra="ignore")

    models_dir: Path = Field(Path("models"), description="The registry folder to serve.")
    admin_token: SecretStr | None = Field(
        None, description="Bearer token for POST /v1/admin/reload; unset turns the endpoint off."
    )
    reload_interval_seconds: float = Field(
        5.0, ge=0, description="How often the registry is re-scanned for new versions; 0 never."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    max_batch_rows: int = Field(1024, ge=1, description="Rows (or images) per predict request.")
    max_image_pixels: int = Field(
        25_000_000, ge=1, description="Largest image accepted (width x height), checked before decoding."
    )
    # Server-side micro-batching (app/batching.py): concurrent requests to one model version
    # are scored in one runtime call.
    batching: bool = Field(False, description="Batch concurrent predict calls per model.")
    max_batch_size: int = Field(
        32, ge=1, description="Most rows scored in one batched runtime call."
    )
    max_latency_ms: float = Field(
        2.0, ge=0, description="Longest a batch waits for more requests before it is scored."
    )

"""How many worker processes a pass starts, and how long one page may keep one.

Apart from the pool itself so that reading the settings (every command does) does not
import the extraction and matching stack the workers run.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WorkerConfig(BaseModel):
    """How many worker processes, and how long one page may keep one. Frozen: it keys the
    shared pool."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # 0: one per core this process may use.
    processes: int = Field(default=0, ge=0, le=256)
    # A real news page costs trafilatura 20–40 ms of CPU; some hostile shapes (a paragraph
    # of 100 000 inline elements) cost it hours.
    cpu_seconds: float = Field(default=10.0, gt=0)
    # Past this wall time a page's worker is ended even if it used no CPU (a hang).
    wall_seconds: float = Field(default=60.0, gt=0)

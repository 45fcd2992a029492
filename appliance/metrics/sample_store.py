"""The System page's samples file: the last hour of samples, and the jobs.

The scheduler rewrites it whole every SYSTEM_SAMPLE_INTERVAL (temporary
name, fsync, rename), so a reader sees the previous file or the next one,
never half of one. A file that is torn anyway (a full disk, a crash of the
machine before the data reached it), unreadable or over the size cap is
not an error: it is ignored and the next sample starts a new one.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from appliance.backups.files import write_durably
from appliance.settings import Settings

logger = logging.getLogger(__name__)

FILE_NAME = "system-samples.json"
FORMAT_VERSION = 1
# An hour at the default SYSTEM_SAMPLE_INTERVAL of 15 s.
MAX_SAMPLES = 240
# About 250 bytes a sample with 2 workers; a 64-worker appliance writes ten
# times that, and loses its oldest samples rather than grow past the cap.
MAX_FILE_BYTES = 256 * 1024


def samples_path(settings: Settings) -> Path:
    return settings.run_dir / FILE_NAME


def samples_window(settings: Settings) -> float:
    """Seconds of history kept: MAX_SAMPLES intervals."""
    return MAX_SAMPLES * settings.system_sample_interval


@dataclass
class SampleFile:
    samples: list[dict] = field(default_factory=list)
    jobs: list[dict] = field(default_factory=list)


def load_samples(path: Path) -> SampleFile:
    """What the file holds; an empty SampleFile when it is missing or bad."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
        document = json.loads(path.read_bytes())
        return parse_document(document)
    except FileNotFoundError:
        return SampleFile()
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        logger.warning("samples file %s ignored and started again: %s", path, exc)
        return SampleFile()


def parse_document(document: dict) -> SampleFile:
    if document.get("version") != FORMAT_VERSION:
        raise ValueError(f"format version {document.get('version')!r}")
    samples = [sample for sample in document["samples"] if is_sample(sample)]
    jobs = [job for job in document["jobs"] if isinstance(job, dict)]
    return SampleFile(samples, jobs)


def is_sample(sample: object) -> bool:
    if not isinstance(sample, dict):
        return False
    at = sample.get("at")
    return isinstance(at, int | float) and math.isfinite(at)


def save_samples(path: Path, contents: SampleFile, now: float, window: float):
    """Keep the samples of the last `window` seconds, at most MAX_SAMPLES and
    MAX_FILE_BYTES of them, and write the file durably."""
    recent = [sample for sample in contents.samples if sample["at"] > now - window]
    recent = recent[-MAX_SAMPLES:]
    encoded = encode(recent, contents.jobs)
    while len(encoded) > MAX_FILE_BYTES and recent:
        # Drop the oldest share that makes it fit, plus one for rounding.
        keep = len(recent) * MAX_FILE_BYTES // len(encoded) - 1
        recent = recent[-keep:] if keep > 0 else []
        encoded = encode(recent, contents.jobs)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_durably(path, encoded)
    contents.samples = recent


def encode(samples: list[dict], jobs: list[dict]) -> bytes:
    document = {"version": FORMAT_VERSION, "samples": samples, "jobs": jobs}
    return json.dumps(document, separators=(",", ":")).encode()

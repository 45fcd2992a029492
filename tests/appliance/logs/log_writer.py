"""A child process that writes numbered log lines through configure_logging.

Run as `python -m tests.appliance.logs.log_writer WRITER COUNT` with the
appliance's settings in the environment. Every fifth line carries padding
past 4 KiB, so lines are longer than one pipe buffer or page.
"""

from __future__ import annotations

import logging
import sys

from appliance.logs.setup import configure_logging
from appliance.settings import load_settings

logger = logging.getLogger("tests.log_writer")


def padding_for(sequence: int) -> str:
    if sequence % 5 == 0:
        return "x" * (4096 + (sequence * 37) % 6000)
    return "y" * ((sequence * 13) % 400)


def write_lines(writer: int, count: int) -> None:
    for sequence in range(count):
        logger.info(
            "line %d of writer %d",
            sequence,
            writer,
            extra={
                "writer": writer,
                "sequence": sequence,
                "pad": padding_for(sequence),
            },
        )


if __name__ == "__main__":
    configure_logging(load_settings(), "worker")
    write_lines(int(sys.argv[1]), int(sys.argv[2]))

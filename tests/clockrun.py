"""Run the ``siaga`` CLI on the test clock (see tests/clock.py): ``python tests/clockrun.py serve ...``."""

import os
import sys
import time

import time_machine

if __name__ == "__main__":
    time_machine.travel(time.time() + float(os.environ["TEST_CLOCK_OFFSET"]), tick=True).start()
    from siaga.cli import main

    sys.exit(main())

"""`python -m devstack.stack.dynamo_server -H HOST -p PORT`: moto's server as the local stack
runs it.

moto.server's own command line, with two changes: werkzeug's banner and per-request log
are off (warnings and errors still reach stderr), and the server exits once the process
that started it is gone, since it runs in a session of its own (devstack.stack.embedded) and
would otherwise outlive a killed stack.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time


def _exit_with(parent: int) -> None:
    # Reparented (to init or a subreaper) once the parent is gone.
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def main() -> None:
    parent = int(os.environ.get("DEVSTACK_PARENT_PID") or os.getppid())
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    # Set before werkzeug first logs: it only adds its INFO handler to an unset logger.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from moto.server import main as serve

    serve(sys.argv[1:])


if __name__ == "__main__":
    main()

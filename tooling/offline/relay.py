"""The stand-in provider executable's body: ``python -S -m tooling.offline.relay <name>``.

Terraform runs this as the provider. It asks the workspace's zygote (``serve.zygote``)
for a forked provider process and relays that process's handshake line to Terraform,
then stays until either side ends. It imports nothing beyond the standard library, so
it starts in milliseconds; without a zygote it becomes ``serve`` itself.
"""

from __future__ import annotations

import json
import os
import socket
import sys

RUN_ENV = "OFFLINE_STANDIN_RUN"


def _fall_back(name: str) -> None:
    # No zygote: be the provider process (site-packages are needed: no -S this time).
    os.execv(sys.executable, [sys.executable, "-m", "tooling.offline.serve", name])


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit("usage: python -S -m tooling.offline.relay <provider name> (started by Terraform, not by hand)")
    name = argv[1]
    run = os.environ.get(RUN_ENV)
    if not run:
        sys.exit(f"{RUN_ENV} is not set: this program is started by Terraform through a workspace's provider wrapper")
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(os.path.join(run, "zygote.sock"))
        connection.sendall((json.dumps({"provider": name}) + "\n").encode())
        reader = connection.makefile("rb")
        line = reader.readline()
    except OSError:
        line = b""
    if not line.startswith(b"1|6|"):
        connection.close()
        _fall_back(name)
        return
    sys.stdout.buffer.write(line)
    sys.stdout.flush()
    # Hold the connection while the provider serves; it closes when the provider ends.
    try:
        while connection.recv(1024):
            pass
    except OSError:
        pass
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)

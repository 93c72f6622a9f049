"""Time to first question: runs a command in a pseudo-terminal and prints the milliseconds from fork until
a prompt (`? <question>`, as @inquirer draws it) appears on the screen; then kills that command (by its pid).
With --exit, prints the milliseconds from fork until the command exits instead (the same harness timing
`node -e 0`, the baseline the first question is compared with).

Usage: python3 first_question.py [--exit] <timeout-seconds> <argv...>
Prints `<ms>` on success, or `none <last output>` if no question appeared (or, with --exit, the command did
not end) before the timeout.
"""
import os
import pty
import re
import select
import signal
import sys
import time

ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]")
QUESTION = re.compile(rb"(^|[\r\n])\s*\? \S")


def main() -> int:
    args = sys.argv[1:]
    until_exit = args[:1] == ["--exit"]
    if until_exit:
        args = args[1:]
    timeout = float(args[0])
    argv = args[1:]
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    seen = b""
    found = None
    ended = False
    while time.monotonic() - t0 < timeout:
        ready, _, _ = select.select([fd], [], [], 0.02)
        if not ready:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the command ended and the terminal closed
            data = b""
        if not data:
            ended = True
            break
        seen += data
        if not until_exit and QUESTION.search(ANSI.sub(b"", seen)):
            found = (time.monotonic() - t0) * 1000
            break
    if until_exit and ended:
        os.waitpid(pid, 0)
        found = (time.monotonic() - t0) * 1000
    else:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    if found is None:
        print("none " + ANSI.sub(b"", seen)[-300:].decode("utf8", "replace").replace("\n", " | "))
        return 1
    print(f"{found:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

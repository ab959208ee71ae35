"""`flask --app app enrol …` that kills itself (SIGKILL: no finally, no flush, no atexit) at a chosen point.

    python tests/cli/killed_enrol.py POINT N BATCH.csv --codes-out CODES.csv [--chunk K]

POINT, reached the N-th time (counted from 1), in the run's own order:
- `store`: inside a chunk's transaction, its people, spaces and codes inserted, before its audit and commit;
- `commit`: just after a chunk's commit, before its lines are written to CODES.csv;
- `torn`: in the middle of writing a chunk's lines: half of their text is in the file, not its end;
- `written`: after a chunk's lines are written and fsync'ed, before their sealed copies are cleared;
- `resealed`: while handing over an interrupted run's codes, after they are sealed again naming this run's
  file and before they are written (N counts those hand-overs).
A point never reached: the run ends normally.
"""
import os
import signal
import sys


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    point, nth, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    from app import audit
    from app.services import enrolment
    seen = {"n": 0}

    def reached() -> bool:
        seen["n"] += 1
        return seen["n"] == nth

    if point == "store":
        real_append = audit.append_many

        def append_many(rows):
            if reached():
                die()
            return real_append(rows)
        enrolment.audit.append_many = append_many
    elif point == "commit":
        real_store = enrolment.BatchImport._store

        def store(self, *a):
            handed = real_store(self, *a)
            if handed and reached():
                die()
            return handed
        enrolment.BatchImport._store = store
    elif point in ("torn", "written"):
        real_write = enrolment.CodesFile.write

        def write(self, lines):
            lines = list(lines)
            if not reached():
                return real_write(self, lines)
            if point == "written":
                real_write(self, lines)
                die()
            text = "".join(f"{a},{b}\r\n" for a, b in lines)
            self._file.write(text[:len(text) // 2 + 7])  # cut inside a line
            self._file.flush()
            die()
        enrolment.CodesFile.write = write
    elif point == "resealed":
        real_write = enrolment.CodesFile.write

        def write(self, lines):
            lines = list(lines)
            if sys._getframe(1).f_code.co_name == "write_pending" and reached():
                die()
            return real_write(self, lines)
        enrolment.CodesFile.write = write
    else:
        raise SystemExit(f"unknown point {point}")

    from flask.cli import main as flask_main
    sys.argv = ["flask", "--app", "app", "enrol", *args]
    flask_main()


if __name__ == "__main__":
    main()

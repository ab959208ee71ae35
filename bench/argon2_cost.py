"""Prints the time of one argon2id verification with Relais's parameters, and identifications per second per core."""
import statistics
import time

from argon2 import PasswordHasher, Type

from app.config import Config


def main(rounds: int = 30) -> None:
    ph = PasswordHasher(time_cost=Config.ARGON2_TIME_COST, memory_cost=Config.ARGON2_MEMORY_KIB,
                        parallelism=Config.ARGON2_PARALLELISM, hash_len=32, salt_len=16, type=Type.ID)
    stored = ph.hash("K7XM2RC9F4HA")
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        ph.verify(stored, "K7XM2RC9F4HA")
        times.append(time.perf_counter() - start)
    default = PasswordHasher()
    d_stored = default.hash("x")
    start = time.perf_counter()
    for _ in range(5):
        default.verify(d_stored, "x")
    d_ms = (time.perf_counter() - start) / 5 * 1000
    ms = statistics.median(times) * 1000
    print(f"argon2id m={Config.ARGON2_MEMORY_KIB} KiB t={Config.ARGON2_TIME_COST} p={Config.ARGON2_PARALLELISM}: "
          f"median {ms:.1f} ms a verification (p90 {sorted(times)[int(rounds * .9)] * 1000:.1f} ms)")
    print(f"argon2-cffi defaults (m=64 MiB t=3 p=4): {d_ms:.1f} ms a verification")
    print(f"one identification = 2 verifications (Vitale serial + code): about {1000 / (2 * ms):.0f} "
          f"identifications per second per core")


if __name__ == "__main__":
    main()

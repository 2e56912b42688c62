"""A real single-node SLURM cluster on localhost, started and stopped by the test suite.

Everything lives in one private directory: munge key and socket, a MariaDB data directory for accounting
(the SLURM executor plugin polls ``sacct``, so jobs are never seen to finish without it), slurmdbd, slurmctld
and one slurmd whose node is ``localhost``. Ports are chosen free at start. Clients find the cluster through
``SLURM_CONF``, which :meth:`SlurmCluster.env` returns. Nothing is installed or configured system-wide.

Needs root and Debian's ``slurmctld slurmd slurm-client munge slurmdbd mariadb-server``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "mariadbd", "mariadb-install-db", "slurmdbd", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "sacct", "squeue", "scancel", "sacctmgr", "sinfo", "srun")
CLUSTER = "phasetrace"
ACCOUNT = "phasetrace"


def missing_programs() -> list[str]:
    """Programs the cluster needs that are not on PATH (or /usr/sbin)."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin"
    return [name for name in DAEMONS + CLIENTS if shutil.which(name, path=path) is None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


class SlurmCluster:
    """Start with :meth:`start`, stop with :meth:`stop` (also on failure); use ``env()`` for clients."""

    def __init__(self, root: Path, *, cpus: int | None = None, memory_mb: int | None = None):
        self.root = Path(root)
        self.cpus = cpus or os.cpu_count() or 1
        # Leave the operating system and the submitting snakemake process some memory.
        self.memory_mb = memory_mb or max(1024, _memory_mb() - 2048)
        self.procs: dict[str, subprocess.Popen] = {}
        self.sbin = "/usr/sbin"

    # -- public -------------------------------------------------------------------------------------------
    def env(self, base: dict | None = None) -> dict:
        """Environment for clients: SLURM_CONF, and the wrappers of :meth:`_write_wrappers` first on PATH."""
        env = dict(os.environ if base is None else base)
        env["SLURM_CONF"] = str(self.root / "slurm.conf")
        env["PATH"] = f"{self.root / 'bin'}:{env.get('PATH', '')}:/usr/sbin"
        return env

    def run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), env=self.env(), capture_output=True, text=True, check=check, timeout=timeout)

    def start(self) -> SlurmCluster:
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        try:
            self._start_munge()
            self._start_mariadb()
            self._write_configs()
            self._write_wrappers()
            self._start("slurmdbd", [f"{self.sbin}/slurmdbd", "-D"])
            self._wait_for_port(self.ports["dbd"], "slurmdbd")
            self._register_cluster()
            self._start("slurmctld", [f"{self.sbin}/slurmctld", "-D", "-i"])
            self._wait_for(lambda: self.run("sinfo", check=False).returncode == 0, "slurmctld to answer")
            self._start("slurmd", [f"{self.sbin}/slurmd", "-D", "-N", "localhost"])
            self._wait_for(self._node_idle, "node localhost to become idle")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Cancel every job, then stop the daemons in reverse order; leaves no process behind."""
        if "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
            self.run("scancel", "--full", f"--user={os.getuid()}", check=False)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                out = self.run("squeue", "--noheader", check=False).stdout.strip()
                if not out:
                    break
                time.sleep(0.5)
        for name in reversed(list(self.procs)):
            proc = self.procs.pop(name)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        # slurmstepd leaves slurmd's process group; none of this cluster's may outlive it.
        for pid in self._stepds():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def __enter__(self) -> SlurmCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def logs(self) -> str:
        """The tail of every daemon log, for failure messages."""
        parts = []
        for log in sorted(self.root.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-20:]
            parts.append(f"== {log.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    # -- daemons ------------------------------------------------------------------------------------------
    def _start(self, name: str, argv: list[str]) -> None:
        """Start a daemon in the foreground of its own session; its stdout/stderr go to <name>.out."""
        with open(self.root / f"{name}.out", "ab") as out:
            self.procs[name] = subprocess.Popen(
                argv,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.root,
            )

    def _start_munge(self) -> None:
        key = self.root / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        os.chmod(key, 0o400)
        (self.root / "munge").mkdir(mode=0o700, exist_ok=True)
        self.munge_socket = self.root / "munge" / "munge.socket"
        self._start(
            "munged",
            [
                f"{self.sbin}/munged",
                "--foreground",
                "--force",
                f"--key-file={key}",
                f"--socket={self.munge_socket}",
                f"--pid-file={self.root / 'munged.pid'}",
                f"--log-file={self.root / 'munged.log'}",
                f"--seed-file={self.root / 'munged.seed'}",
            ],
        )
        self._wait_for(self.munge_socket.exists, "munged's socket")

    def _start_mariadb(self) -> None:
        data = self.root / "mariadb"
        self.db_socket = self.root / "mariadb.sock"
        self.db_password = secrets.token_hex(8)
        self.ports = {"db": _free_port(), "dbd": _free_port(), "ctld": _free_port(), "d": _free_port()}
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={data}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
            cwd=self.root,
        )
        self._start(
            "mariadbd",
            [
                f"{self.sbin}/mariadbd",
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={self.db_socket}",
                f"--port={self.ports['db']}",
                "--bind-address=127.0.0.1",
                "--user=root",
                f"--pid-file={self.root / 'mariadb.pid'}",
                f"--log-error={self.root / 'mariadb.log'}",
                "--innodb-buffer-pool-size=64M",
            ],
        )
        sql = (
            f"CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '{self.db_password}';"
            "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
            "FLUSH PRIVILEGES;"
        )

        def created() -> bool:
            return (
                subprocess.run(
                    ["mariadb", "--no-defaults", f"--socket={self.db_socket}", "-uroot", "-e", sql],
                    capture_output=True,
                ).returncode
                == 0
            )

        self._wait_for(created, "MariaDB to accept the slurm user")

    def _write_configs(self) -> None:
        r = self.root
        auth = f"AuthType=auth/munge\nAuthInfo=socket={self.munge_socket}\n"
        dbd = r / "slurmdbd.conf"
        dbd.write_text(
            auth
            + f"""DbdHost=localhost
DbdPort={self.ports["dbd"]}
SlurmUser=root
PidFile={r / "slurmdbd.pid"}
LogFile={r / "slurmdbd.log"}
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={self.ports["db"]}
StorageUser=slurm
StoragePass={self.db_password}
StorageLoc=slurm_acct_db
"""
        )
        os.chmod(dbd, 0o600)
        (r / "spool").mkdir(exist_ok=True)
        (r / "state").mkdir(exist_ok=True)
        (r / "slurm.conf").write_text(
            auth
            + f"""ClusterName={CLUSTER}
SlurmctldHost=localhost
SlurmctldPort={self.ports["ctld"]}
SlurmdPort={self.ports["d"]}
SlurmUser=root
SlurmdUser=root
StateSaveLocation={r / "state"}
SlurmdSpoolDir={r / "spool"}
SlurmctldPidFile={r / "slurmctld.pid"}
SlurmdPidFile={r / "slurmd.pid"}
SlurmctldLogFile={r / "slurmctld.log"}
SlurmdLogFile={r / "slurmd.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=5
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort={self.ports["dbd"]}
AccountingStoragePass={self.munge_socket}
AccountingStorageEnforce=associations
JobCompType=jobcomp/none
InactiveLimit=0
KillWait=5
MinJobAge=300
Waittime=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.memory_mb} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""
        )

    def _write_wrappers(self) -> None:
        """Client commands that find this cluster without SLURM_CONF.

        The executor plugin starts each job of a group with ``srun`` from an environment stripped of every
        ``SLURM_*`` variable except the job's identity, so ``SLURM_CONF`` does not reach it; a real cluster
        has /etc/slurm/slurm.conf instead, which this test does not touch.
        """
        bin_dir = self.root / "bin"
        bin_dir.mkdir(exist_ok=True)
        conf = self.root / "slurm.conf"
        for name in CLIENTS:
            real = shutil.which(name, path="/usr/bin:/usr/sbin")
            wrapper = bin_dir / name
            wrapper.write_text(f'#!/bin/sh\nSLURM_CONF={conf} exec {real} "$@"\n')
            wrapper.chmod(0o755)

    def _register_cluster(self) -> None:
        user = os.environ.get("USER") or "root"
        for args in (
            ("add", "cluster", CLUSTER),
            ("add", "account", ACCOUNT, "Description=phasetrace tests", "Organization=phasetrace"),
            ("add", "user", user, f"Account={ACCOUNT}", f"DefaultAccount={ACCOUNT}"),
        ):
            self._wait_for(
                lambda args=args: self.run("sacctmgr", "-i", *args, check=False).returncode == 0,
                f"sacctmgr {' '.join(args)}",
            )

    # -- helpers ------------------------------------------------------------------------------------------
    def _node_idle(self) -> bool:
        out = self.run("sinfo", "--noheader", "--format=%T", check=False).stdout.strip()
        return out == "idle"

    def _wait_for_port(self, port: int, what: str) -> None:
        def open_() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0

        self._wait_for(open_, f"{what} on port {port}")

    def _wait_for(self, ready, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{', '.join(dead)} exited while waiting for {what}\n{self.logs()}")
            if ready():
                return
            time.sleep(0.3)
        raise TimeoutError(f"waited {timeout:.0f} s for {what}\n{self.logs()}")

    def _stepds(self) -> list[int]:
        """This cluster's slurmstepd processes (they carry its SLURM_CONF); other clusters' are left alone."""
        mark = f"SLURM_CONF={self.root / 'slurm.conf'}".encode()
        pids = []
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    if (proc / "comm").read_text().strip() == "slurmstepd" and mark in (proc / "environ").read_bytes():
                        pids.append(int(proc.name))
                except OSError:
                    pass
        return pids
